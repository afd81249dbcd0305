"""API keys (SPEC section 7): each key, stored only as its SHA-256 digest, is bound to teams or ``*``.

No key or an unknown key: 401. A key asking for another team's work list or residents: 404, so that team
ids do not leak.

Scopes widen what a key may read beyond its teams' lists: ``contact`` lets it ask for residents' names, phones
and addresses (``include=contact``, SPEC 15); a key without it asking for them is answered 403.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, status

CONTACT_SCOPE = "contact"
"""The scope that lets a key read residents' contacts (name, phone, address)."""
SCOPES = (CONTACT_SCOPE,)


def digest(key: str) -> str:
    """SHA-256 hex digest of an API key, the form keys are configured in."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Caller:
    """Who is calling: the teams the key may read (``*`` for all)."""

    key_digest: str
    teams: frozenset[str]
    label: str
    scopes: frozenset[str] = frozenset()

    def may_read(self, team_id: str) -> bool:
        return "*" in self.teams or team_id in self.teams

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class KeyRing:
    """Configured key digests and their teams."""

    def __init__(self, keys: dict[str, Any]) -> None:
        self._keys = {
            d.lower(): (
                frozenset(entry.teams if hasattr(entry, "teams") else entry),
                getattr(entry, "label", f"key-{d[:8]}"),
                frozenset(getattr(entry, "scopes", ())),
            )
            for d, entry in keys.items()
        }

    def __len__(self) -> int:
        return len(self._keys)

    def caller(self, api_key: str | None) -> Caller:
        if not api_key:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, "missing X-API-Key header", headers={"WWW-Authenticate": "X-API-Key"}
            )
        offered = digest(api_key)
        for known, (teams, label, scopes) in self._keys.items():
            if hmac.compare_digest(known, offered):
                return Caller(known, teams, label, scopes)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown API key", headers={"WWW-Authenticate": "X-API-Key"})


def team_not_found(team_id: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"team {team_id} not found")
