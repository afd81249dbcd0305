"""Version 3, clinical rules II (SPEC 13): pregnancy and registration dates per resident, the events'
emergency, reaction, referral, symptom, pregnancy and status columns, and the derived state they give.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Frozen as of this revision.
RESIDENT_COLUMNS = (("pregnant", sa.Boolean), ("htn_registered_date", sa.Date), ("dm_registered_date", sa.Date))
EVENT_COLUMNS = (
    ("emergency_signs", sa.Boolean),
    ("adverse_reaction", sa.Boolean),
    ("new_complication", sa.Boolean),
    ("referral_status", sa.String(16)),
    ("random_glucose_mmol_l", sa.Float),
    ("symptoms", sa.Boolean),
    ("pregnant", sa.Boolean),
    ("status", sa.String(16)),
)
STATE_NUMBERS: tuple[str, ...] = (
    *(
        f"{d}_{name}"
        for d in ("diabetes", "hypertension")
        for name in ("treated", "series_lapsed", "q1_v1", "q1_v2", "q2_v1", "q2_v2", "q3_v1", "q3_v2")
    ),
    "random_glucose_symptoms",
    "pregnant",
)
STATE_DATES: tuple[str, ...] = (
    *(
        f"{d}_{name}"
        for d in ("diabetes", "hypertension")
        for name in (
            "last_face_to_face_date",
            "referral_open_date",
            "referral_returned_date",
            "adverse_date",
            "diagnosis_date",
            "q1_date",
            "q2_date",
            "q3_date",
        )
    ),
    "last_event_date",
    "pregnant_date",
)


def upgrade() -> None:
    with op.batch_alter_table("scored_residents") as table:
        for name, kind in RESIDENT_COLUMNS:
            table.add_column(sa.Column(name, kind))
        for name in STATE_NUMBERS:
            table.add_column(sa.Column(f"state_{name}", sa.Float))
        for name in STATE_DATES:
            table.add_column(sa.Column(f"state_{name}", sa.Date))
    with op.batch_alter_table("batch_events") as table:
        for name, kind in EVENT_COLUMNS:
            table.add_column(sa.Column(name, kind))


def downgrade() -> None:
    with op.batch_alter_table("batch_events") as table:
        for name, _ in EVENT_COLUMNS:
            table.drop_column(name)
    with op.batch_alter_table("scored_residents") as table:
        for name in (*(n for n, _ in RESIDENT_COLUMNS), *(f"state_{n}" for n in (*STATE_NUMBERS, *STATE_DATES))):
            table.drop_column(name)
