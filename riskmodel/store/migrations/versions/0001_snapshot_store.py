"""The round-1 store: batches and scored residents (record schema version 1, the version-1 outputs).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen as they were at this revision (the schema and outputs may grow later, by later revisions).
RESIDENT_COLUMNS_V1 = (
    ("resident_id", "str", True),
    ("team_id", "str", True),
    ("sex", "category", True),
    ("age_years", "float", True),
    ("grid_id", "str", False),
    ("exam_date", "date", False),
    ("height_cm", "float", False),
    ("weight_kg", "float", False),
    ("bmi_kg_m2", "float", False),
    ("waist_cm", "float", False),
    ("sbp_mmhg", "float", False),
    ("dbp_mmhg", "float", False),
    ("bp_date", "date", False),
    ("fpg_mmol_l", "float", False),
    ("ogtt_2h_mmol_l", "float", False),
    ("hba1c_pct", "float", False),
    ("glucose_date", "date", False),
    ("tc_mmol_l", "float", False),
    ("tg_mmol_l", "float", False),
    ("hdl_mmol_l", "float", False),
    ("ldl_mmol_l", "float", False),
    ("smoking", "category", False),
    ("physically_active", "bool", False),
    ("alcohol_excess", "bool", False),
    ("high_salt_diet", "bool", False),
    ("family_history_diabetes", "bool", False),
    ("family_history_hypertension", "bool", False),
    ("gdm_history", "bool", False),
    ("ascvd_history", "bool", False),
    ("diagnosed_diabetes", "bool", False),
    ("diagnosed_hypertension", "bool", False),
    ("on_glucose_lowering", "bool", False),
    ("on_antihypertensive", "bool", False),
    ("on_lipid_lowering", "bool", False),
    ("last_followup_date", "date", False),
    ("uncontrolled_visits", "int", False),
)
OUTPUTS_V1 = (
    ("diabetes_tier", sa.String(24)),
    ("hypertension_tier", sa.String(24)),
    ("overall_tier", sa.String(24)),
    ("diabetes_tier_source", sa.String(24)),
    ("hypertension_tier_source", sa.String(24)),
    ("diabetes_p_healthy", sa.Float),
    ("diabetes_p_high_risk", sa.Float),
    ("diabetes_p_chronic", sa.Float),
    ("hypertension_p_healthy", sa.Float),
    ("hypertension_p_high_risk", sa.Float),
    ("hypertension_p_chronic", sa.Float),
    ("cdrs_points", sa.Integer),
    ("action", sa.String(24)),
    ("due_date", sa.Date),
    ("priority", sa.Float),
    ("model_version", sa.String(64)),
)
TYPES = {
    "str": sa.String(128),
    "category": sa.String(16),
    "float": sa.Float,
    "int": sa.Integer,
    "bool": sa.Boolean,
    "date": sa.Date,
}


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("batch_id", sa.String(40), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("source", sa.String(256)),
        sa.Column("rows_scored", sa.Integer),
        sa.Column("rows_rejected", sa.Integer),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("completed_at", sa.DateTime),
    )
    op.create_table(
        "scored_residents",
        sa.Column("batch_id", sa.String(40), sa.ForeignKey("batches.batch_id", ondelete="CASCADE"), primary_key=True),
        *[
            sa.Column(name, TYPES[kind], primary_key=name == "resident_id", nullable=not required)  # type: ignore[arg-type]
            for name, kind, required in RESIDENT_COLUMNS_V1
        ],
        *[sa.Column(name, kind) for name, kind in OUTPUTS_V1],
    )
    op.create_index("ix_scored_team", "scored_residents", ["batch_id", "team_id"])


def downgrade() -> None:
    op.drop_index("ix_scored_team", "scored_residents")
    op.drop_table("scored_residents")
    op.drop_table("batches")
