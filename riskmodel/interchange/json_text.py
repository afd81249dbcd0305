"""JSON text as systems exchange it: UTF-8 (RFC 8259 section 8.1), for a FHIR file and a request body alike.

A JSON text begins with two ASCII characters (RFC 8259 section 2), so the NUL bytes around its first ones tell
UTF-16 and UTF-32 apart from UTF-8 (the pattern of RFC 4627 section 3), a byte-order mark or none. Such text, or
bytes that are not UTF-8, are refused with a reason that names where, never what (a resident's value could be in
the bytes). A UTF-8 byte-order mark is ignored, as RFC 8259 section 8.1 lets a parser do.

References
----------
RFC 8259 (IETF, 2017), The JavaScript Object Notation (JSON) Data Interchange Format, sections 2 and 8.1.
RFC 4627 (IETF, 2006), section 3: telling the Unicode encoding of a JSON text from its first four bytes.
"""

from __future__ import annotations

import codecs

UTF8_REQUIRED = "JSON exchanged between systems is UTF-8 (RFC 8259 section 8.1)"
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),  # before UTF-16's: FF FE 00 00 begins with FF FE
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


class NotUtf8(ValueError):
    """Bytes that are not UTF-8 text; the message says which encoding they look like, or where they fail."""


def wide_encoding(head: bytes) -> str | None:
    """``UTF-16`` or ``UTF-32`` where a JSON text's first bytes are in that encoding (a byte-order mark, or the
    NULs of its first ASCII characters), else ``None``."""
    for mark, name in _WIDE_BOMS:
        if head.startswith(mark):
            return name
    if len(head) >= 4 and b"\x00\x00\x00" in (head[:3], head[1:4]):  # 00 00 00 xx, xx 00 00 00
        return "UTF-32"
    if len(head) >= 2 and (head[0] == 0) != (head[1] == 0):  # 00 xx, xx 00
        return "UTF-16"
    return None


def refuse_wide(head: bytes) -> None:
    """:class:`NotUtf8` where the first bytes of a JSON text are UTF-16 or UTF-32."""
    wide = wide_encoding(head)
    if wide is not None:
        raise NotUtf8(f"{wide} text, not UTF-8: {UTF8_REQUIRED}")


def utf8_text(data: bytes) -> str:
    """The bytes of a JSON text as text: UTF-8, a leading byte-order mark ignored; else :class:`NotUtf8`."""
    refuse_wide(data[:4])
    try:
        return data.removeprefix(codecs.BOM_UTF8).decode("utf-8")
    except UnicodeDecodeError as error:  # its message would show the bytes: say where, not what
        raise NotUtf8(f"not UTF-8 text (at byte {error.start}): {UTF8_REQUIRED}") from None
