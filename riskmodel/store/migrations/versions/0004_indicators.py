"""Indicators per batch, and the batch's events for recomputing them for another date.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "indicators",
        sa.Column("batch_id", sa.String(40), sa.ForeignKey("batches.batch_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("level", sa.String(8), primary_key=True),
        sa.Column("unit_id", sa.String(128), primary_key=True),
        sa.Column("disease", sa.String(16), primary_key=True),
        sa.Column("indicator", sa.String(32), primary_key=True),
        sa.Column("ref_date", sa.Date, primary_key=True),
        sa.Column("numerator", sa.Float, nullable=False),
        sa.Column("denominator", sa.Float),
    )
    op.create_table(
        "batch_events",
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
    )
    op.create_index("ix_batch_events_team", "batch_events", ["batch_id", "team_id"])


def downgrade() -> None:
    op.drop_index("ix_batch_events_team", "batch_events")
    op.drop_table("batch_events")
    op.drop_table("indicators")
