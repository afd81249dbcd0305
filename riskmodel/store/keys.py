"""API keys issued per person (SPEC 16): only each key's SHA-256 digest is stored, with a unique label, the
teams it may read and write (``*`` for all) and its scopes (``read``, ``write``, ``contact``).

The README's demo key is issued only by ``riskmodel demo``, into the store the demo fills, marked ``demo``;
anywhere else (a configured digest, another store) it is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from riskmodel.store.tables import api_keys

SCOPES = ("read", "write", "contact")
DEMO_KEY = "local-demo-key"
"""The key the README's examples use: accepted only from a store ``riskmodel demo`` filled."""
DEMO_LABEL = "demo nurse"
LABEL_LENGTH = 128


def key_digest(key: str) -> str:
    """SHA-256 hex digest of an API key, the only form a key is kept in."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


DEMO_KEY_DIGEST = key_digest(DEMO_KEY)


class KeyIssueError(ValueError):
    """A key that cannot be issued or revoked (the message says why)."""


@dataclass(frozen=True)
class IssuedKey:
    label: str
    teams: tuple[str, ...]
    scopes: tuple[str, ...]
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None
    demo: bool = False

    def public(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "teams": list(self.teams),
            "scopes": list(self.scopes),
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
        }


def _issued(row: Any) -> IssuedKey:
    return IssuedKey(
        row["label"],
        tuple(json.loads(row["teams"])),
        tuple(row["scopes"].split(",")),
        row["created_at"],
        row["revoked_at"],
        bool(row["demo"]),
    )


def check_scopes(scopes: tuple[str, ...]) -> tuple[str, ...]:
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise KeyIssueError(f"scopes must be among {', '.join(SCOPES)}, not '{','.join(unknown or scopes)}'")
    return tuple(s for s in SCOPES if s in scopes)


class KeyStore:
    """The store's issued keys."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(
        self, label: str, teams: tuple[str, ...], scopes: tuple[str, ...], *, key: str | None = None, demo: bool = False
    ) -> str:
        """Issue a key: returns it (shown once; only its digest is kept). A label already issued is refused."""
        label = label.strip()
        if not label or len(label) > LABEL_LENGTH or any(ord(ch) < 32 or ord(ch) == 127 for ch in label):
            raise KeyIssueError(f"a key label is 1 to {LABEL_LENGTH} characters without control characters")
        teams = tuple(t.strip() for t in teams if t.strip())
        if not teams:
            raise KeyIssueError("a key needs at least one team (or * for all)")
        scopes = check_scopes(scopes)
        key = key or secrets.token_urlsafe(32)
        if key == DEMO_KEY and not demo:
            raise KeyIssueError("the demo key is issued only by riskmodel demo")
        row = {
            "label": label,
            "digest": key_digest(key),
            "teams": json.dumps(list(teams), ensure_ascii=False),
            "scopes": ",".join(scopes),
            "created_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
            "revoked_at": None,
            "demo": demo,
        }
        try:
            with self.engine.begin() as connection:
                connection.execute(api_keys.insert().values(**row))
        except IntegrityError as exc:
            raise KeyIssueError(f"a key labelled '{label}' was already issued; labels are unique") from exc
        return key

    def find(self, digest: str) -> IssuedKey | None:
        """The unrevoked key with this digest, or None."""
        query = sa.select(api_keys).where(api_keys.c.digest == digest.lower(), api_keys.c.revoked_at.is_(None))
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return _issued(row) if row else None

    def all(self) -> list[IssuedKey]:
        with self.engine.connect() as connection:
            return [
                _issued(row) for row in connection.execute(sa.select(api_keys).order_by(api_keys.c.label)).mappings()
            ]

    def revoke(self, label: str) -> None:
        with self.engine.begin() as connection:
            done = connection.execute(
                api_keys.update()
                .where(api_keys.c.label == label, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=dt.datetime.now(dt.UTC).replace(tzinfo=None))
            ).rowcount
        if not done:
            raise KeyIssueError(f"no unrevoked key labelled '{label}'")

    def is_demo_store(self) -> bool:
        """Whether ``riskmodel demo`` issued its key into this store."""
        query = sa.select(api_keys.c.label).where(api_keys.c.demo.is_(True), api_keys.c.revoked_at.is_(None))
        with self.engine.connect() as connection:
            return connection.execute(query).first() is not None

    def issue_demo_key(self) -> None:
        """The demo's key into the demo's store (idempotent)."""
        if self.find(DEMO_KEY_DIGEST) is None:
            self.add(DEMO_LABEL, ("*",), ("read", "write"), key=DEMO_KEY, demo=True)
