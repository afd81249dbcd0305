"""The audit log (SPEC 16): one append-only row per read or write of residents' data.

Rows are only ever inserted. Each has the time in UTC and in the deployment time zone, who (an API key's label,
or ``cli:<os user>`` for the command line), the client address, the team(s), how many residents were returned
or written, the request id (the batch id for a batch), the route template or command, and ``read``/``write``.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from riskmodel.store.tables import audit_log

ACTIONS = ("read", "write")
AUDIT_FIELDS = ("at_utc", "at_local", "actor", "client", "teams", "residents", "request_id", "route", "action")


def cli_actor() -> str:
    """Who runs a command: ``cli:<os user>``."""
    return f"cli:{getpass.getuser()}"


@dataclass(frozen=True)
class AuditEntry:
    actor: str
    action: str
    route: str
    teams: Iterable[str]
    residents: int
    client: str | None = None
    request_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def row(self, timezone: str, now: dt.datetime | None = None) -> dict[str, Any]:
        if self.action not in ACTIONS:
            raise ValueError(f"audit action must be read or write, not {self.action!r}")
        moment = now or dt.datetime.now(dt.UTC)
        return {
            "at_utc": moment.astimezone(dt.UTC).replace(tzinfo=None),
            "at_local": moment.astimezone(ZoneInfo(timezone)).isoformat(timespec="seconds"),
            "actor": self.actor[:128],
            "client": (self.client or "")[:64] or None,
            "teams": json.dumps(sorted(set(self.teams)), ensure_ascii=False),
            "residents": int(self.residents),
            "request_id": (self.request_id or "")[:64] or None,
            "route": self.route[:128],
            "action": self.action,
        }


class AuditLog:
    """The store's audit log; ``timezone`` is the deployment's (``deployment.timezone``)."""

    def __init__(self, engine: Engine, timezone: str) -> None:
        self.engine = engine
        self.timezone = timezone

    def record(self, entry: AuditEntry, *, connection: Connection | None = None) -> None:
        """Append one row (inside ``connection``'s transaction when given, so that it lands with the change)."""
        statement = audit_log.insert().values(**entry.row(self.timezone))
        if connection is not None:
            connection.execute(statement)
            return
        with self.engine.begin() as own:
            own.execute(statement)

    def since(self, day: dt.date, *, actor: str | None = None) -> list[dict[str, Any]]:
        """Rows from the start of ``day`` (a local date in the deployment time zone), oldest first."""
        start = dt.datetime.combine(day, dt.time(), ZoneInfo(self.timezone)).astimezone(dt.UTC).replace(tzinfo=None)
        query = sa.select(audit_log).where(audit_log.c.at_utc >= start)
        if actor is not None:
            query = query.where(audit_log.c.actor == actor)
        query = query.order_by(audit_log.c.at_utc, audit_log.c.audit_id)
        with self.engine.connect() as connection:
            return [
                {**{name: row[name] for name in AUDIT_FIELDS}, "teams": json.loads(row["teams"])}
                for row in connection.execute(query).mappings()
            ]
