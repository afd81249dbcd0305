"""RFC 8259 section 8.1: JSON exchanged between systems is UTF-8; a parser may ignore a byte-order mark. RFC 4627
section 3: a JSON text's encoding is told from the NULs among its first four bytes."""

from __future__ import annotations

import pytest

from riskmodel.interchange.json_text import NotUtf8, utf8_text, wide_encoding

TEXT = '{"resourceType": "Bundle", "id": "b\u00e9"}'


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("utf-8", None),
        ("utf-8-sig", None),
        ("utf-16", "UTF-16"),  # with its byte-order mark
        ("utf-16-le", "UTF-16"),  # xx 00 xx 00
        ("utf-16-be", "UTF-16"),  # 00 xx 00 xx
        ("utf-32", "UTF-32"),
        ("utf-32-le", "UTF-32"),  # xx 00 00 00
        ("utf-32-be", "UTF-32"),  # 00 00 00 xx
    ],
)
def test_the_encoding_is_told_from_the_first_four_bytes(encoding, expected):
    data = TEXT.encode(encoding)
    assert wide_encoding(data[:4]) == expected
    if expected is None:
        assert utf8_text(data) == TEXT  # a UTF-8 byte-order mark ignored
    else:
        with pytest.raises(NotUtf8, match=f"^{expected} text, not UTF-8: .*RFC 8259"):
            utf8_text(data)


@pytest.mark.parametrize(
    ("head", "expected"),
    [(b"", None), (b"1", None), (b"1\x00", "UTF-16"), (b"\x001", "UTF-16"), (b"\x00\x00", None), (b"{}", None),
     (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"), (b"\xff\xfe\x00\x00", "UTF-32")],
)  # fmt: skip
def test_short_and_odd_heads(head, expected):
    assert wide_encoding(head) == expected


def test_bytes_that_are_not_utf8_say_where_never_what():
    data = b'{"id": "p1", "value": "\xff173.25"}'
    with pytest.raises(NotUtf8) as refused:
        utf8_text(data)
    assert "at byte 23" in str(refused.value) and "173" not in str(refused.value)
    with pytest.raises(NotUtf8):
        utf8_text(b'{"id": "\xed\xa0\x80"}')  # an encoded lone surrogate is not UTF-8 (RFC 3629)
