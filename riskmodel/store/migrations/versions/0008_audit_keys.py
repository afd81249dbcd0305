"""Operations and security (SPEC 16): the audit log, API keys issued per person, outcome corrections (``void``
records naming the outcome they answer) and idempotency keys scoped to the API key and bound to the body.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outcomes") as table:
        table.add_column(sa.Column("idempotency_scope", sa.String(128)))
        table.add_column(sa.Column("body_digest", sa.String(64)))
        table.add_column(sa.Column("voids", sa.String(40)))
        table.drop_constraint("uq_outcomes_idempotency", type_="unique")
        table.create_unique_constraint("uq_outcomes_idempotency_scope", ["idempotency_scope", "idempotency_key"])
        table.create_unique_constraint("uq_outcomes_voids", ["voids"])
    op.create_table(
        "api_keys",
        sa.Column("label", sa.String(128), primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("teams", sa.Text, nullable=False),
        sa.Column("scopes", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("revoked_at", sa.DateTime),
        sa.Column("demo", sa.Boolean, nullable=False),
    )
    op.create_table(
        "audit_log",
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
    )
    op.create_index("ix_audit_at", "audit_log", ["at_utc"])


def downgrade() -> None:
    op.drop_index("ix_audit_at", "audit_log")
    op.drop_table("audit_log")
    op.drop_table("api_keys")
    with op.batch_alter_table("outcomes") as table:
        table.drop_constraint("uq_outcomes_voids", type_="unique")
        table.drop_constraint("uq_outcomes_idempotency_scope", type_="unique")
        table.create_unique_constraint("uq_outcomes_idempotency", ["team_id", "idempotency_key"])
        for name in ("voids", "body_digest", "idempotency_scope"):
            table.drop_column(name)
