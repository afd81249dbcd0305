"""API keys (SPEC sections 7 and 16): each key, kept only as its SHA-256 digest, is bound to teams or ``*``.

Keys come from the store (issued per person by ``riskmodel keys add``, with scopes) and from the configuration
(``serving.api_keys`` / ``RISKMODEL_API_KEYS``: scopes ``read`` and ``write``). The README's demo key is
accepted only from a store ``riskmodel demo`` filled, never from the configuration.

No key or an unknown key: 401. A key asking for another team's work list or residents: 404, so that team
ids do not leak. A key without the scope a route needs: 403. ``contact`` lets a key ask for residents' names,
phones and addresses (``include=contact``, SPEC 15).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, status

from riskmodel.store.keys import DEMO_KEY_DIGEST, key_digest

CONTACT_SCOPE = "contact"
"""The scope that lets a key read residents' contacts (name, phone, address)."""
SCOPES = ("read", "write", CONTACT_SCOPE)

CONFIG_SCOPES = frozenset({"read", "write"})
digest = key_digest  # SHA-256 hex digest of an API key, the form keys are configured in


@dataclass(frozen=True)
class Caller:
    """Who is calling: the teams the key may read (``*`` for all), its label and scopes."""

    key_digest: str
    teams: frozenset[str]
    label: str
    scopes: frozenset[str] = CONFIG_SCOPES

    def may_read(self, team_id: str) -> bool:
        return "*" in self.teams or team_id in self.teams

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this API key lacks the {scope} scope")


def unauthorized(message: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, message, headers={"WWW-Authenticate": "X-API-Key"})


class KeyRing:
    """Configured key digests and their teams, and the keys issued into the store (when one is given)."""

    def __init__(self, keys: dict[str, Any], store: Any = None) -> None:
        self._keys = {
            d.lower(): (
                frozenset(entry.teams if hasattr(entry, "teams") else entry),
                getattr(entry, "label", f"key-{d[:8]}"),
                frozenset(getattr(entry, "scopes", ())),
            )
            for d, entry in keys.items()
            if d.lower() != DEMO_KEY_DIGEST  # the README's key: only from the demo's own store
        }
        self._store = store  # a ResultStore: its issued keys are read per request (a revoked key stops at once)

    def __len__(self) -> int:
        return len(self._keys)

    def configured_caller(self, api_key: str | None) -> Caller | None:
        """The caller of a configured key (no I/O); ``None`` for any other key or none."""
        if not api_key:
            return None
        offered = digest(api_key)
        for known, (teams, label, scopes) in self._keys.items():
            if hmac.compare_digest(known, offered):
                return Caller(known, teams, label, CONFIG_SCOPES | scopes)  # configured: read, write, + any listed
        return None

    def caller(self, api_key: str | None) -> Caller:
        if not api_key:
            raise unauthorized("missing X-API-Key header")
        configured = self.configured_caller(api_key)
        if configured is not None:
            return configured
        offered = digest(api_key)
        if self._store is not None:
            issued = self._store.keys.find(offered)
            if issued is not None:
                return Caller(offered, frozenset(issued.teams), issued.label, frozenset(issued.scopes))
        raise unauthorized("unknown API key")


def team_not_found(team_id: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"team {team_id} not found")
