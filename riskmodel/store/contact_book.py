"""Contacts in the store (SPEC 15): who to call, kept apart from batches, exports and logs.

One row per (team, resident); loading a file replaces the rows of the residents it names. Rows are read only
for the entries of a team's own list, and deleted ``contacts.retention_days`` after the resident's removal
(``moved``, ``died``, ``transferred`` not undone by ``reinstate``). Nothing here logs a value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from riskmodel.store.tables import contacts, outcomes

CONTACT_FIELDS = ("name", "phone", "address")
_CHUNK = 500


class ContactBook:
    """The contacts table of a store."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def replace(self, rows: Sequence[dict[str, Any]]) -> int:
        """Store the rows (team_id, resident_id, name, phone, address), replacing what was held for those
        residents; returns how many were written."""
        loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        with self.engine.begin() as connection:
            for start in range(0, len(rows), _CHUNK):
                chunk = rows[start : start + _CHUNK]
                keys = [(row["team_id"], row["resident_id"]) for row in chunk]
                connection.execute(
                    contacts.delete().where(sa.tuple_(contacts.c.team_id, contacts.c.resident_id).in_(keys))
                )
                connection.execute(
                    contacts.insert(),
                    [
                        {
                            "team_id": row["team_id"],
                            "resident_id": row["resident_id"],
                            **{name: row.get(name) for name in CONTACT_FIELDS},
                            "loaded_at": loaded_at,
                        }
                        for row in chunk
                    ],
                )
        return len(rows)

    def for_residents(self, team_id: str, resident_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The team's contacts of these residents: resident id -> {name, phone, address}."""
        wanted = list(dict.fromkeys(resident_ids))
        found: dict[str, dict[str, Any]] = {}
        with self.engine.connect() as connection:
            for start in range(0, len(wanted), _CHUNK):
                query = sa.select(contacts).where(
                    contacts.c.team_id == team_id, contacts.c.resident_id.in_(wanted[start : start + _CHUNK])
                )
                for row in connection.execute(query).mappings():
                    found[row["resident_id"]] = {name: row[name] for name in CONTACT_FIELDS}
        return found

    def count(self, team_id: str | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(contacts)
        if team_id is not None:
            query = query.where(contacts.c.team_id == team_id)
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def prune(self, *, today: dt.date, retention_days: int, removals: Sequence[str], reinstate: str) -> int:
        """Delete the contacts of residents removed (their newest resident-level outcome a removal) on or before
        ``today - retention_days``; returns how many rows went."""
        cutoff = today - dt.timedelta(days=retention_days)
        query = (
            sa.select(outcomes.c.team_id, outcomes.c.resident_id, outcomes.c.outcome, outcomes.c.recorded_on)
            .where(outcomes.c.outcome.in_([*removals, reinstate]))
            .order_by(outcomes.c.recorded_on, outcomes.c.recorded_at)
        )
        newest: dict[tuple[str, str], tuple[str, dt.date]] = {}
        with self.engine.connect() as connection:
            for row in connection.execute(query):
                newest[(row.team_id, row.resident_id)] = (row.outcome, row.recorded_on)
        gone = [key for key, (code, on) in newest.items() if code in removals and on <= cutoff]
        deleted = 0
        with self.engine.begin() as connection:
            for start in range(0, len(gone), _CHUNK):
                result = connection.execute(
                    contacts.delete().where(
                        sa.tuple_(contacts.c.team_id, contacts.c.resident_id).in_(gone[start : start + _CHUNK])
                    )
                )
                deleted += result.rowcount or 0
        return deleted


__all__ = ["CONTACT_FIELDS", "ContactBook"]
