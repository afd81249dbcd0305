"""The store's tables (SPEC 7, Store), derived from the record schema, the outputs and the derived state.

The schema is versioned by Alembic migrations (:mod:`riskmodel.store.migrations`); these definitions are the
head revision's, used to read and write. A change here needs a migration beside it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from riskmodel.records.history import STATE_COLUMNS, STATE_DATE_COLUMNS, STATE_NUMBER_COLUMNS
from riskmodel.records.schema import COLUMN_NAMES, DISEASES, OUTPUT_COLUMNS, RESIDENT_COLUMNS

_SQL_TYPES: dict[str, Any] = {
    "str": sa.String(128),
    "category": sa.String(16),
    "float": sa.Float,
    "int": sa.Integer,
    "bool": sa.Boolean,
    "date": sa.Date,
}
_OUTPUT_TYPES: dict[str, Any] = {
    **{f"{d}_{flag}": sa.Boolean for d in DISEASES for flag in ("confirmed", "guideline_high_risk")},
    "cdrs_points": sa.Integer,
    "due_date": sa.Date,
    "priority": sa.Float,
    "model_version": sa.String(64),
}
PROBABILITY_COLUMNS = tuple(c for c in OUTPUT_COLUMNS if "_p_" in c)
STATE_PREFIX = "state_"
"""The derived history state (riskmodel.records.history) is stored beside each resident, prefixed."""
STORED_COLUMNS = (*COLUMN_NAMES, *OUTPUT_COLUMNS, *(STATE_PREFIX + name for name in STATE_COLUMNS))

metadata = sa.MetaData()

batches = sa.Table(
    "batches",
    metadata,
    sa.Column("batch_id", sa.String(40), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("model_version", sa.String(64), nullable=False),
    sa.Column("source", sa.String(256)),
    sa.Column("rows_scored", sa.Integer, default=0),
    sa.Column("rows_rejected", sa.Integer, default=0),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("completed_at", sa.DateTime),
    sa.Column("events_read", sa.Integer, default=0),
    sa.Column("events_rejected", sa.Integer, default=0),
)
scored_residents = sa.Table(
    "scored_residents",
    metadata,
    sa.Column("batch_id", sa.String(40), sa.ForeignKey("batches.batch_id", ondelete="CASCADE"), primary_key=True),
    *[
        sa.Column(c.name, _SQL_TYPES[c.kind], primary_key=c.name == "resident_id", nullable=not c.required)
        for c in RESIDENT_COLUMNS
    ],
    *[
        sa.Column(name, _OUTPUT_TYPES.get(name, sa.Float if "_p_" in name else sa.String(24)))
        for name in OUTPUT_COLUMNS
    ],
    *[sa.Column(STATE_PREFIX + name, sa.Float) for name in STATE_NUMBER_COLUMNS],
    *[sa.Column(STATE_PREFIX + name, sa.Date) for name in STATE_DATE_COLUMNS],
    sa.Index("ix_scored_team", "batch_id", "team_id"),
)

outcomes = sa.Table(
    "outcomes",
    metadata,
    sa.Column("outcome_id", sa.String(40), primary_key=True),
    sa.Column("team_id", sa.String(128), nullable=False),
    sa.Column("resident_id", sa.String(128), nullable=False),
    sa.Column("disease", sa.String(16)),
    sa.Column("action", sa.String(24)),
    sa.Column("outcome", sa.String(24), nullable=False),
    sa.Column("reason", sa.String(500)),
    sa.Column("note", sa.String(2000)),
    sa.Column("recorded_on", sa.Date, nullable=False),
    sa.Column("recorded_at", sa.DateTime, nullable=False),
    sa.Column("recorded_by", sa.String(128), nullable=False),
    sa.Column("hidden_until", sa.Date),
    sa.Column("idempotency_key", sa.String(128)),
    sa.Column("idempotency_scope", sa.String(128)),
    sa.Column("body_digest", sa.String(64)),
    sa.Column("voids", sa.String(40)),
    sa.Index("ix_outcomes_team", "team_id", "recorded_on"),
    sa.UniqueConstraint("idempotency_scope", "idempotency_key", name="uq_outcomes_idempotency_scope"),
    sa.UniqueConstraint("voids", name="uq_outcomes_voids"),
)
"""Outcomes, append-only across batches (SPEC 6): who recorded what, when; never updated (SPEC 16: an
outcome in error is answered by a ``void`` record naming it in ``voids``; an erasure blanks ``note``). An
``Idempotency-Key`` is scoped to the API key (``idempotency_scope``) and bound to the body's SHA-256."""

indicators = sa.Table(
    "indicators",
    metadata,
    sa.Column("batch_id", sa.String(40), sa.ForeignKey("batches.batch_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("level", sa.String(8), primary_key=True),
    sa.Column("unit_id", sa.String(128), primary_key=True),
    sa.Column("disease", sa.String(16), primary_key=True),
    sa.Column("indicator", sa.String(32), primary_key=True),
    sa.Column("ref_date", sa.Date, primary_key=True),
    sa.Column("numerator", sa.Float, nullable=False),
    sa.Column("denominator", sa.Float),
)
"""Indicators computed when a batch is published (SPEC 11): per unit, disease and reference date."""

EVENT_STORE_COLUMNS = (
    "event_id",
    "resident_id",
    "event_date",
    "kind",
    "disease",
    "mode",
    "sbp_mmhg",
    "dbp_mmhg",
    "fpg_mmol_l",
    "ogtt_2h_mmol_l",
    "hba1c_pct",
    "on_treatment",
    "emergency_signs",
    "adverse_reaction",
    "new_complication",
    "referral_status",
    "random_glucose_mmol_l",
    "symptoms",
    "pregnant",
    "status",
)
batch_events = sa.Table(
    "batch_events",
    metadata,
    sa.Column("batch_id", sa.String(40), sa.ForeignKey("batches.batch_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("team_id", sa.String(128), nullable=False),
    sa.Column("resident_id", sa.String(128), primary_key=True),
    sa.Column("event_id", sa.String(128), primary_key=True),
    sa.Column("event_date", sa.Date, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("disease", sa.String(16)),
    sa.Column("mode", sa.String(8)),
    sa.Column("sbp_mmhg", sa.Float),
    sa.Column("dbp_mmhg", sa.Float),
    sa.Column("fpg_mmol_l", sa.Float),
    sa.Column("ogtt_2h_mmol_l", sa.Float),
    sa.Column("hba1c_pct", sa.Float),
    sa.Column("on_treatment", sa.Boolean),
    sa.Column("emergency_signs", sa.Boolean),
    sa.Column("adverse_reaction", sa.Boolean),
    sa.Column("new_complication", sa.Boolean),
    sa.Column("referral_status", sa.String(16)),
    sa.Column("random_glucose_mmol_l", sa.Float),
    sa.Column("symptoms", sa.Boolean),
    sa.Column("pregnant", sa.Boolean),
    sa.Column("status", sa.String(16)),
    sa.Index("ix_batch_events_team", "batch_id", "team_id"),
)
"""The batch's validated events, what indicators read when recomputed for another date (SPEC 11)."""

store_lock = sa.Table(
    "store_lock",
    metadata,
    sa.Column("name", sa.String(16), primary_key=True),
    sa.Column("holder", sa.String(128), nullable=False),
    sa.Column("heartbeat_at", sa.DateTime, nullable=False),
)
"""SQLite's write lock: one row, refreshed by its holder (SPEC 8)."""

monitoring = sa.Table(
    "monitoring",
    metadata,
    sa.Column("batch_id", sa.String(40), sa.ForeignKey("batches.batch_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("retrain_recommended", sa.Boolean, nullable=False),
    sa.Column("report", sa.Text, nullable=False),
)
"""A published batch's monitoring report (SPEC 12), as JSON."""

contacts = sa.Table(
    "contacts",
    metadata,
    sa.Column("team_id", sa.String(128), primary_key=True),
    sa.Column("resident_id", sa.String(128), primary_key=True),
    sa.Column("name", sa.String(128)),
    sa.Column("phone", sa.String(64)),
    sa.Column("address", sa.String(256)),
    sa.Column("loaded_at", sa.DateTime, nullable=False),
)
"""Who to call (SPEC 15): from the team's contacts file, apart from every batch, export and log; deleted
``contacts.retention_days`` after the resident's removal."""

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("label", sa.String(128), primary_key=True),
    sa.Column("digest", sa.String(64), nullable=False, unique=True),
    sa.Column("teams", sa.Text, nullable=False),
    sa.Column("scopes", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("revoked_at", sa.DateTime),
    sa.Column("demo", sa.Boolean, nullable=False, default=False),
)
"""API keys issued per person (SPEC 16): only the key's SHA-256 digest, its teams (JSON) and scopes; a revoked
key keeps its row (and its label, which is never issued again)."""

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("audit_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at_utc", sa.DateTime, nullable=False),
    sa.Column("at_local", sa.String(40), nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("client", sa.String(64)),
    sa.Column("teams", sa.Text, nullable=False),
    sa.Column("residents", sa.Integer, nullable=False),
    sa.Column("request_id", sa.String(64)),
    sa.Column("route", sa.String(128), nullable=False),
    sa.Column("action", sa.String(8), nullable=False),
    sa.Index("ix_audit_at", "at_utc"),
)
"""One append-only row per read or write of residents' data (SPEC 16): when (UTC, and local in the deployment
time zone), who (key label, or ``cli:<user>``), from where, which teams, how many residents, which request."""
