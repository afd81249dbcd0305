"""The write lock row (SQLite; PostgreSQL uses an advisory lock) and batches refused at publishing.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "store_lock",
        sa.Column("name", sa.String(16), primary_key=True),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("store_lock")
