"""Secrets never leave in what is logged or saved (SPEC 16 "Secrets and files"): a URL's password is masked."""

from __future__ import annotations

import re
from typing import Any

MASK = "***"
_PASSWORD_IN_URL = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*:)(?P<password>[^@\s]*)(?P<at>@)")


def redact_url(text: str) -> str:
    """``postgresql+psycopg://user:secret@host/db`` -> ``postgresql+psycopg://user:***@host/db``; text without a
    password in a URL is returned as it is."""
    return _PASSWORD_IN_URL.sub(lambda m: f"{m['head']}{MASK}{m['at']}", text)


def redact(value: Any) -> Any:
    """Every string inside ``value`` (dicts, lists, tuples) with the passwords of its URLs masked."""
    if isinstance(value, str):
        return redact_url(value)
    if isinstance(value, dict):
        return {key: redact(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact(item) for item in value)
    return value
