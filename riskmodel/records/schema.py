"""The resident record, schema version 1 (SPEC section 2), defined once.

Every consumer derives from :data:`RESIDENT_COLUMNS`: the batch validator (:mod:`riskmodel.records.reading`),
the API's request model (:mod:`serving.models`), the model feature lists (:mod:`riskmodel.model.features`) and
the MLflow signature (:mod:`training.tracking`). Nothing else retypes the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

SCHEMA_VERSION = 1

ColumnKind = Literal["str", "float", "int", "bool", "date", "category"]
ARROW_TYPES: dict[str, pa.DataType] = {
    "str": pa.string(),
    "category": pa.string(),
    "float": pa.float64(),
    "int": pa.int64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
}
"""Each column kind's Arrow type once validated: the one mapping every typed table derives from."""


@dataclass(frozen=True)
class Column:
    """One column of the resident record.

    Parameters
    ----------
    name
        Exact column name; units are part of the name.
    kind
        Logical type used for coercion and validation.
    required
        Required columns must be present in a file and non-empty in every row.
    low, high
        Inclusive plausible range for numbers; a value outside is a data error, never clipped.
    choices
        Allowed values of a category column.
    description
        What the column means, for the API's OpenAPI document and ``--help`` texts.
    """

    name: str
    kind: ColumnKind
    description: str
    required: bool = False
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()


RESIDENT_COLUMNS: tuple[Column, ...] = (
    Column("resident_id", "str", "pseudonymous resident id (never a national ID number)", required=True),
    Column("team_id", "str", "family-doctor team the resident signed with", required=True),
    Column("sex", "category", "sex: M or F", required=True, choices=("M", "F")),
    Column("age_years", "float", "age at the as-of date, years", required=True, low=18, high=120),
    Column("grid_id", "str", "village or community grid"),
    Column("exam_date", "date", "date of the last health check"),
    Column("height_cm", "float", "height, cm", low=100, high=230),
    Column("weight_kg", "float", "weight, kg", low=25, high=300),
    # SPEC section 2 gives 10-80, 0.5-20 and 0.1-5 for BMI, TC and HDL; real NHANES adults reach BMI 82.9,
    # TC 21.0 and HDL 5.84 mmol/L, so those upper limits are widened to keep real people (see README).
    Column(
        "bmi_kg_m2", "float", "body-mass index, kg/m2 (derived from height and weight when missing)", low=10, high=100
    ),
    Column("waist_cm", "float", "waist circumference, cm", low=40, high=200),
    Column("sbp_mmhg", "float", "office systolic BP, mean of the readings at one visit, mmHg", low=60, high=300),
    Column("dbp_mmhg", "float", "office diastolic BP, mean of the readings at one visit, mmHg", low=30, high=200),
    Column("bp_date", "date", "date of that BP"),
    Column("fpg_mmol_l", "float", "fasting plasma glucose, mmol/L", low=1, high=40),
    Column("ogtt_2h_mmol_l", "float", "2-h glucose of a 75 g OGTT, mmol/L", low=1, high=50),
    Column("hba1c_pct", "float", "HbA1c, NGSP %", low=3, high=20),
    Column("glucose_date", "date", "date of the latest glucose / HbA1c result"),
    Column("tc_mmol_l", "float", "total cholesterol, mmol/L", low=0.5, high=30),
    Column("tg_mmol_l", "float", "triglycerides, mmol/L", low=0.1, high=50),
    Column("hdl_mmol_l", "float", "HDL cholesterol, mmol/L", low=0.1, high=8),
    Column("ldl_mmol_l", "float", "LDL cholesterol, mmol/L", low=0.1, high=15),
    Column("smoking", "category", "smoking: never, former or current", choices=("never", "former", "current")),
    Column("physically_active", "bool", ">= 150 min moderate activity a week (not sedentary)"),
    Column("alcohol_excess", "bool", "long-term excess drinking"),
    Column("high_salt_diet", "bool", "high-salt diet"),
    Column("family_history_diabetes", "bool", "first-degree relative with T2DM"),
    Column("family_history_hypertension", "bool", "first-degree relative with hypertension"),
    Column("gdm_history", "bool", "prior gestational diabetes or macrosomia"),
    Column("ascvd_history", "bool", "atherosclerotic cardiovascular disease"),
    Column("diagnosed_diabetes", "bool", "diabetes diagnosis recorded in the health record"),
    Column("diagnosed_hypertension", "bool", "hypertension diagnosis recorded in the health record"),
    Column("on_glucose_lowering", "bool", "current glucose-lowering treatment"),
    Column("on_antihypertensive", "bool", "current antihypertensive treatment"),
    Column("on_lipid_lowering", "bool", "current lipid-lowering treatment"),
    Column("last_followup_date", "date", "last face-to-face follow-up of a managed patient"),
    Column(
        "uncontrolled_visits", "int", "consecutive follow-ups at which the condition was not controlled", low=0, high=20
    ),
    Column("pregnant", "bool", "currently pregnant (SPEC 13.4: raised BP or glucose in pregnancy is referred)"),
    Column("htn_registered_date", "date", "hypertension management registration date (patients managed before events)"),
    Column("dm_registered_date", "date", "diabetes management registration date (patients managed before events)"),
)

EVENT_KINDS = ("followup", "health_check", "screening", "lab", "diagnosis", "referral", "status")
STATUS_CODES = ("died", "moved", "transferred")
"""A ``status`` event: the resident died, moved or transferred on its date (SPEC 13.6)."""
FOLLOWUP_CLASSES = ("satisfactory", "unsatisfactory", "adverse_reaction", "complication")
"""此次随访分类 of the BPHS 2017 follow-up forms: 控制满意 / 控制不满意 / 不良反应 / 并发症 (SPEC 14.4)."""
ADHERENCE_LEVELS = ("regular", "intermittent", "none")
"""服药依从性 of the BPHS 2017 follow-up forms: 规律 / 间断 / 不服药 (SPEC 14.4)."""
EVENT_COLUMNS: tuple[Column, ...] = (
    Column("event_id", "str", "the source system's id of the event (unique per resident)", required=True),
    Column("resident_id", "str", "a resident of the same batch (or the API record it is nested in)", required=True),
    Column("event_date", "date", "when it happened (not after the as-of date)", required=True),
    Column(
        "kind",
        "category",
        "followup, health_check, screening, lab, diagnosis, referral or status",
        required=True,
        choices=EVENT_KINDS,
    ),
    Column(
        "disease",
        "category",
        "diabetes or hypertension (required for followup, diagnosis, referral)",
        choices=("diabetes", "hypertension"),
    ),
    Column(
        "mode",
        "category",
        "follow-up mode: clinic, home, phone or online (clinic and home are face-to-face)",
        choices=("clinic", "home", "phone", "online"),
    ),
    *(
        COLUMN
        for COLUMN in RESIDENT_COLUMNS
        if COLUMN.name in ("sbp_mmhg", "dbp_mmhg", "fpg_mmol_l", "ogtt_2h_mmol_l", "hba1c_pct")
    ),
    Column(
        "random_glucose_mmol_l", "float", "non-fasting glucose, mmol/L (emergencies, not diagnosis)", low=1, high=40
    ),
    *(COLUMN for COLUMN in RESIDENT_COLUMNS if COLUMN.name in ("weight_kg", "waist_cm")),
    Column("on_treatment", "bool", "on drug treatment for the disease at this event"),
    Column("emergency_signs", "bool", "a BPHS emergency sign was seen (altered consciousness, ketotic breath, ...)"),
    Column("adverse_reaction", "bool", "an adverse drug reaction at a follow-up"),
    Column("new_complication", "bool", "a new or worse complication at a follow-up"),
    Column(
        "referral_status",
        "category",
        "referrals only: sent, arrived or returned",
        choices=("sent", "arrived", "returned"),
    ),
    Column("symptoms", "bool", "typical hyperglycaemia symptoms (三多一少) recorded at this event"),
    Column("pregnant", "bool", "pregnant at this event"),
    Column("status", "category", "status events only: died, moved or transferred", choices=STATUS_CODES),
    Column(
        "followup_class",
        "category",
        "follow-ups only, the BPHS 2017 visit class (此次随访分类): satisfactory (控制满意), unsatisfactory "
        "(控制不满意), adverse_reaction (不良反应) or complication (并发症)",
        choices=FOLLOWUP_CLASSES,
    ),
    Column(
        "adherence",
        "category",
        "follow-ups only, medication adherence (服药依从性): regular (规律), intermittent (间断) or none (不服药)",
        choices=ADHERENCE_LEVELS,
    ),
    Column(
        "next_followup_date",
        "date",
        "follow-ups only, the next follow-up date agreed (下次随访日期): when present, the follow-up is due then",
    ),
)
"""The resident's history, schema version 2 (SPEC 2.2): one row per event."""
EVENT_COLUMNS_BY_NAME: dict[str, Column] = {column.name: column for column in EVENT_COLUMNS}
EVENT_COLUMN_NAMES: tuple[str, ...] = tuple(column.name for column in EVENT_COLUMNS)
REQUIRED_EVENT_COLUMNS: tuple[str, ...] = tuple(c.name for c in EVENT_COLUMNS if c.required)
EVENTS_PER_RECORD = 200
"""At most this many events nested in one API record (SPEC 2.2)."""

MAX_IDENTIFIER_LENGTH = 128
"""Identifiers (resident, team, grid, event) are at most this long, without control characters (SPEC 8)."""
IDENTIFIER_PATTERN = r"^[^\x00-\x1f\x7f]*$"
"""No control characters, a tab included (SPEC 8); the API's models use the same pattern."""

NO_GRID = "未分网格"
"""Residents without a grid are counted under their team, as the grid-level unit ``<team_id>:未分网格`` (SPEC 16)."""
NO_GRID_SUFFIX = ":" + NO_GRID

COLUMNS_BY_NAME: dict[str, Column] = {column.name: column for column in RESIDENT_COLUMNS}
COLUMN_NAMES: tuple[str, ...] = tuple(column.name for column in RESIDENT_COLUMNS)
REQUIRED_COLUMNS: tuple[str, ...] = tuple(c.name for c in RESIDENT_COLUMNS if c.required)


# Accepted spellings of booleans in CSV (SPEC section 2), compared after strip and lower-case.
TRUE_SPELLINGS = frozenset({"true", "1", "yes", "是", "1.0"})
FALSE_SPELLINGS = frozenset({"false", "0", "no", "否", "0.0"})

# Columns added by scoring (SPEC section 7, batch output), in order.
OUTPUT_COLUMNS: tuple[str, ...] = (
    "diabetes_tier",
    "hypertension_tier",
    "overall_tier",
    "diabetes_tier_source",
    "hypertension_tier_source",
    "diabetes_confirmed",
    "hypertension_confirmed",
    "diabetes_guideline_high_risk",
    "hypertension_guideline_high_risk",
    "diabetes_p_healthy",
    "diabetes_p_high_risk",
    "diabetes_p_chronic",
    "hypertension_p_healthy",
    "hypertension_p_high_risk",
    "hypertension_p_chronic",
    "cdrs_points",
    "action",
    "due_date",
    "priority",
    "model_version",
)

TIERS: tuple[str, ...] = ("healthy", "high_risk", "chronic")
TIER_SOURCES: tuple[str, ...] = ("record", "measurement", "model")
DISEASES: tuple[str, ...] = ("diabetes", "hypertension")
