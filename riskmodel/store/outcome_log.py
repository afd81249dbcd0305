"""Outcomes in the store (SPEC 6): appended, never updated; an idempotency key records a request once.

An outcome recorded in error is answered by a ``void`` record that names it (SPEC 16): the log stays
append-only, and what takes effect (:meth:`OutcomeLog.for_team`, :meth:`OutcomeLog.about_residents`) leaves out
voided outcomes and the void records themselves. The one change ever made to a row is an erasure on request
(PIPL): :func:`erase_notes` blanks a resident's free-text notes.
"""

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
    "voids",
)
VOID = "void"


class OutcomeLog:
    """The append-only outcome log of a store."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def find(self, scope: str, idempotency_key: str) -> tuple[dict[str, Any], str | None] | None:
        """The outcome first recorded with this key by this API key (``scope``), and its body's digest."""
        query = sa.select(outcomes).where(
            outcomes.c.idempotency_scope == scope, outcomes.c.idempotency_key == idempotency_key
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return (_public(row), row["body_digest"]) if row else None

    def get(self, team_id: str, outcome_id: str) -> dict[str, Any] | None:
        """One of the team's outcomes by id, with ``voided_by`` (the void record's id, or None)."""
        voider = sa.alias(outcomes)
        query = (
            sa.select(outcomes, voider.c.outcome_id.label("voided_by"))
            .outerjoin(voider, voider.c.voids == outcomes.c.outcome_id)
            .where(outcomes.c.team_id == team_id, outcomes.c.outcome_id == outcome_id)
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return {**_public(row), "voided_by": row["voided_by"]} if row else None

    def append(
        self,
        record: dict[str, Any],
        *,
        idempotency_key: str | None = None,
        scope: str | None = None,
        body_digest: str | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """Append one outcome; returns it and whether it is new (False: the key was seen by this API key, and
        the first answer is returned). Raises :class:`IntegrityError` for a second void of one outcome."""
        scope = scope or record.get("recorded_by") or ""
        if idempotency_key is not None:
            earlier = self.find(scope, idempotency_key)
            if earlier is not None:
                return earlier[0], False
        row = {
            "voids": None,
            **record,
            "outcome_id": uuid.uuid4().hex,
            "recorded_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
            "idempotency_key": idempotency_key,
            "idempotency_scope": scope if idempotency_key is not None else None,
            "body_digest": body_digest,
        }
        try:
            with self.engine.begin() as connection:
                connection.execute(outcomes.insert().values(**row))
        except IntegrityError:  # two requests with one key at once: the other one landed first
            if idempotency_key is None:
                raise
            earlier = self.find(scope, idempotency_key)
            if earlier is None:
                raise
            return earlier[0], False
        return _public(row), True

    def for_team(
        self,
        team_id: str,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
        resident_id: str | None = None,
        effective: bool = True,
    ) -> list[dict[str, Any]]:
        """The team's outcomes (one resident's, when given) recorded between ``since`` and ``until``, oldest
        first: those in effect (voided ones and void records left out), or the whole log (``effective=False``)."""
        query = sa.select(outcomes).where(outcomes.c.team_id == team_id)
        if effective:
            query = query.where(*_in_effect())
        if resident_id is not None:
            query = query.where(outcomes.c.resident_id == resident_id)
        if since is not None:
            query = query.where(outcomes.c.recorded_on >= since)
        if until is not None:
            query = query.where(outcomes.c.recorded_on <= until)
        query = query.order_by(outcomes.c.recorded_on, outcomes.c.recorded_at)
        with self.engine.connect() as connection:
            return _rows(connection.execute(query.with_only_columns(*[outcomes.c[name] for name in OUTCOME_FIELDS])))

    def about_residents(self, codes: Sequence[str]) -> list[dict[str, Any]]:
        """Every team's outcomes with one of the given codes (the resident-level ones: removals, ``reinstate``),
        oldest first, for the indicators (SPEC 13.6)."""
        query = (
            sa.select(outcomes)
            .where(outcomes.c.outcome.in_(list(codes)), *_in_effect())
            .order_by(outcomes.c.recorded_on, outcomes.c.recorded_at)
        )
        with self.engine.connect() as connection:
            return [_public(row) for row in connection.execute(query).mappings()]


def _in_effect() -> tuple[Any, ...]:
    """Outcomes that take effect: not a void record, and not named by one."""
    voided = sa.select(outcomes.c.voids).where(outcomes.c.voids.is_not(None))
    return (outcomes.c.outcome != VOID, outcomes.c.outcome_id.not_in(voided))


def erase_notes(connection: Any, team_id: str, resident_id: str) -> int:
    """Blank the free-text notes of a resident's outcomes (PIPL erasure); returns how many were blanked."""
    return int(
        connection.execute(
            outcomes.update()
            .where(outcomes.c.team_id == team_id, outcomes.c.resident_id == resident_id, outcomes.c.note.is_not(None))
            .values(note=None)
        ).rowcount
    )


def _rows(result: Any) -> list[dict[str, Any]]:
    """The rows of a query of exactly :data:`OUTCOME_FIELDS`, as mappings (fetched at once: a team's log can
    hold thousands)."""
    return [dict(zip(OUTCOME_FIELDS, row, strict=True)) for row in result.fetchall()]


def _public(row: Any) -> dict[str, Any]:
    return {name: row[name] for name in OUTCOME_FIELDS}
