"""Monitoring reports per batch.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitoring",
        sa.Column("batch_id", sa.String(40), sa.ForeignKey("batches.batch_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("retrain_recommended", sa.Boolean, nullable=False),
        sa.Column("report", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("monitoring")
