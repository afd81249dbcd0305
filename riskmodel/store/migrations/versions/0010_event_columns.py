"""Version 3, records in (SPEC 14.4): the next follow-up date agreed at a disease's newest follow-up, kept with the
derived state so that a work list rebuilt from the store has the same due dates.

The new event columns (``followup_class``, ``adherence``, ``next_followup_date``) are not stored with a batch's
events: ``batch_events`` keeps only the columns indicators read (:data:`riskmodel.store.tables.EVENT_STORE_COLUMNS`).

Revision ID: 0010
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# Frozen as of this revision.
STATE_DATES = ("diabetes_next_followup_date", "hypertension_next_followup_date")


def upgrade() -> None:
    with op.batch_alter_table("scored_residents") as table:
        for name in STATE_DATES:
            table.add_column(sa.Column(f"state_{name}", sa.Date))


def downgrade() -> None:
    with op.batch_alter_table("scored_residents") as table:
        for name in STATE_DATES:
            table.drop_column(f"state_{name}")
