"""Outcomes in the store (SPEC 6): appended, never updated; an idempotency key records a request once."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from riskmodel.store.tables import outcomes

OUTCOME_FIELDS = (
    "outcome_id",
    "team_id",
    "resident_id",
    "disease",
    "action",
    "outcome",
    "reason",
    "note",
    "recorded_on",
    "recorded_at",
    "recorded_by",
    "hidden_until",
)


class OutcomeLog:
    """The append-only outcome log of a store."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def find(self, team_id: str, idempotency_key: str) -> dict[str, Any] | None:
        query = sa.select(outcomes).where(outcomes.c.team_id == team_id, outcomes.c.idempotency_key == idempotency_key)
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return _public(row) if row else None

    def append(self, record: dict[str, Any], *, idempotency_key: str | None = None) -> tuple[dict[str, Any], bool]:
        """Append one outcome; returns it and whether it is new (False: the key was seen, the first is returned)."""
        if idempotency_key is not None:
            earlier = self.find(record["team_id"], idempotency_key)
            if earlier is not None:
                return earlier, False
        row = {
            **record,
            "outcome_id": uuid.uuid4().hex,
            "recorded_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
            "idempotency_key": idempotency_key,
        }
        try:
            with self.engine.begin() as connection:
                connection.execute(outcomes.insert().values(**row))
        except IntegrityError:  # two requests with one key at once: the other one landed first
            if idempotency_key is None:
                raise
            earlier = self.find(record["team_id"], idempotency_key)
            if earlier is None:
                raise
            return earlier, False
        return _public(row), True

    def for_team(
        self,
        team_id: str,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
        resident_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """The team's outcomes (one resident's, when given) recorded between ``since`` and ``until``, oldest
        first."""
        query = sa.select(outcomes).where(outcomes.c.team_id == team_id)
        if resident_id is not None:
            query = query.where(outcomes.c.resident_id == resident_id)
        if since is not None:
            query = query.where(outcomes.c.recorded_on >= since)
        if until is not None:
            query = query.where(outcomes.c.recorded_on <= until)
        query = query.order_by(outcomes.c.recorded_on, outcomes.c.recorded_at)
        with self.engine.connect() as connection:
            return [_public(row) for row in connection.execute(query).mappings()]

    def about_residents(self, codes: Sequence[str]) -> list[dict[str, Any]]:
        """Every team's outcomes with one of the given codes (the resident-level ones: removals, ``reinstate``),
        oldest first, for the indicators (SPEC 13.6)."""
        query = (
            sa.select(outcomes)
            .where(outcomes.c.outcome.in_(list(codes)))
            .order_by(outcomes.c.recorded_on, outcomes.c.recorded_at)
        )
        with self.engine.connect() as connection:
            return [_public(row) for row in connection.execute(query).mappings()]


def _public(row: Any) -> dict[str, Any]:
    return {name: row[name] for name in OUTCOME_FIELDS}
