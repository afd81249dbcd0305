"""Version 2: confirmation and guideline flags per disease, the derived history state per resident, event
counts per batch.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

FLAGS = tuple(f"{d}_{flag}" for d in ("diabetes", "hypertension") for flag in ("confirmed", "guideline_high_risk"))
# The state columns as of this revision (riskmodel.records.history), frozen.
STATE_NUMBERS = (
    "sbp_mmhg",
    "dbp_mmhg",
    "fpg_mmol_l",
    "ogtt_2h_mmol_l",
    "hba1c_pct",
    "random_glucose_mmol_l",
    "weight_kg",
    "waist_cm",
    *(
        f"{d}_{name}"
        for d in ("diabetes", "hypertension")
        for name in ("followups_12m", "uncontrolled_visits", "confirmations", "recorded_by_events")
    ),
    "prediabetes_history",
)
STATE_DATES = (
    "bp_date",
    "fpg_date",
    "ogtt_date",
    "hba1c_date",
    "random_glucose_date",
    "weight_date",
    "waist_date",
    *(
        f"{d}_{name}"
        for d in ("diabetes", "hypertension")
        for name in (
            "last_followup_date",
            "uncontrolled_date",
            "registered_date",
            "emergency_date",
            "complication_date",
            "referral_sent_date",
            "qualifying_date",
        )
    ),
)


def upgrade() -> None:
    with op.batch_alter_table("scored_residents") as table:
        for name in FLAGS:
            table.add_column(sa.Column(name, sa.Boolean))
        for name in STATE_NUMBERS:
            table.add_column(sa.Column(f"state_{name}", sa.Float))
        for name in STATE_DATES:
            table.add_column(sa.Column(f"state_{name}", sa.Date))
    with op.batch_alter_table("batches") as table:
        table.add_column(sa.Column("events_read", sa.Integer))
        table.add_column(sa.Column("events_rejected", sa.Integer))


def downgrade() -> None:
    with op.batch_alter_table("batches") as table:
        table.drop_column("events_rejected")
        table.drop_column("events_read")
    with op.batch_alter_table("scored_residents") as table:
        for name in (*FLAGS, *(f"state_{n}" for n in (*STATE_NUMBERS, *STATE_DATES))):
            table.drop_column(name)
