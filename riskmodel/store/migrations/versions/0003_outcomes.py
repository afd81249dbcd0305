"""Outcomes: append-only, across batches, with who recorded them and an idempotency key.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outcomes",
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
        sa.UniqueConstraint("team_id", "idempotency_key", name="uq_outcomes_idempotency"),
    )
    op.create_index("ix_outcomes_team", "outcomes", ["team_id", "recorded_on"])


def downgrade() -> None:
    op.drop_index("ix_outcomes_team", "outcomes")
    op.drop_table("outcomes")
