"""Contacts: the team's names, phones and addresses, in their own table (SPEC 15).

Revision ID: 0009
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("team_id", sa.String(128), primary_key=True),
        sa.Column("resident_id", sa.String(128), primary_key=True),
        sa.Column("name", sa.String(128)),
        sa.Column("phone", sa.String(64)),
        sa.Column("address", sa.String(256)),
        sa.Column("loaded_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("contacts")
