"""Paging a team's list (SPEC 15): an opaque cursor that names the batch, the list date, the capacity and
where the next page starts, so that every page of one list is cut from the same list.

A cursor is URL-safe base64 of a small JSON object; it carries no resident's data. A cursor from another
batch (a new one was published while paging) is refused with :class:`CursorError` (409): start again.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any


class CursorError(ValueError):
    """A cursor that cannot be used; ``status`` is 422 (not a cursor) or 409 (the list it pointed into is gone)."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Cursor:
    """Where the next page of a list starts."""

    batch_id: str
    list_date: dt.date
    capacity: int
    offset: int
    outcomes_until: dt.date

    def encode(self) -> str:
        payload = {
            "b": self.batch_id,
            "d": self.list_date.isoformat(),
            "c": self.capacity,
            "o": self.offset,
            "u": self.outcomes_until.isoformat(),
        }
        raw = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            payload: dict[str, Any] = json.loads(raw)
            cursor = cls(
                batch_id=str(payload["b"]),
                list_date=dt.date.fromisoformat(payload["d"]),
                capacity=int(payload["c"]),
                offset=int(payload["o"]),
                outcomes_until=dt.date.fromisoformat(payload["u"]),
            )
        except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise CursorError("cursor is not one this API returned; start from the first page", status=422) from exc
        if cursor.offset < 0 or cursor.capacity < 1:
            raise CursorError("cursor is not one this API returned; start from the first page", status=422)
        return cursor

    def check_batch(self, batch_id: str) -> None:
        if batch_id != self.batch_id:
            raise CursorError(
                "a new batch was published since this cursor was issued; start again from the first page", status=409
            )


__all__ = ["Cursor", "CursorError"]
