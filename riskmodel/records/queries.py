"""The queries of history that other domains read (DuckDB SQL): :func:`control_rule_sql` is the control rule of
a profile as SQL, which the indicators' 控制率 (:mod:`riskmodel.indicators.queries`) runs; the history
derivation applies the same rule in array form (:func:`riskmodel.rules.guidelines.bp_controlled`,
:func:`~riskmodel.rules.guidelines.glucose_controlled`; the two are tested to agree at every boundary).
:data:`ROW_COLUMNS` is what the derivation reads of a resident row.

The derivation itself is :mod:`riskmodel.records.derivation` (arrays); the reviewed SQL it replaced,
``state_query``, is kept as its test oracle in ``tests/riskmodel/records/state_query_oracle.py``.
"""

from __future__ import annotations

from riskmodel.rules.guidelines.blood_pressure import (
    DBP_DIABETIC_TARGET_MMHG,
    DBP_HYPERTENSION_MMHG,
    ELDERLY_AGE_YEARS,
    SBP_DIABETIC_TARGET_MMHG,
    SBP_ELDERLY_TARGET_MMHG,
    SBP_HYPERTENSION_MMHG,
    VERY_ELDERLY_AGE_YEARS,
)
from riskmodel.rules.guidelines.glycaemia import FPG_CONTROLLED_BELOW_MMOL_L, HBA1C_CONTROLLED_BELOW_PCT

FOLLOWUPS_WINDOW_DAYS = 365
"""``followups_12m`` counts face-to-face follow-ups dated within the 365 days up to the as-of date
(as-of - 364 ... as-of) [BPHS 2017: four a year]."""
FACE_TO_FACE = ("clinic", "home")
"""Follow-up modes that count as face-to-face (SPEC 2.2)."""

ROW_COLUMNS = (
    "resident_id",
    "age_years",
    "diabetes_recorded",
    "hypertension_recorded",
    "sbp_mmhg",
    "dbp_mmhg",
    "bp_date",
    "fpg_mmol_l",
    "ogtt_2h_mmol_l",
    "hba1c_pct",
    "glucose_date",
    "weight_kg",
    "waist_cm",
    "exam_date",
)
"""What the queries read of each resident row (relation ``rows``; events are relation ``events``)."""


def control_rule_sql(profile: str) -> tuple[str, str, str]:
    """(hypertension controlled, diabetes controlled, diabetes measured) as SQL conditions over a follow-up ``e``
    and its resident row ``r``, under the control profile (``bphs2017`` or ``guideline2024``); the indicators'
    控制率 uses the same rule."""
    if profile == "guideline2024":
        sbp_target = (
            f"CASE WHEN r.diabetes_recorded THEN {SBP_DIABETIC_TARGET_MMHG} "
            f"WHEN r.age_years >= {VERY_ELDERLY_AGE_YEARS} THEN {SBP_ELDERLY_TARGET_MMHG} ELSE {SBP_HYPERTENSION_MMHG} END"
        )
        dbp_target = f"CASE WHEN r.diabetes_recorded THEN {DBP_DIABETIC_TARGET_MMHG} ELSE {DBP_HYPERTENSION_MMHG} END"
        dm = (
            f"(e.fpg_mmol_l IS NULL OR e.fpg_mmol_l < {FPG_CONTROLLED_BELOW_MMOL_L}) "
            f"AND (e.hba1c_pct IS NULL OR e.hba1c_pct < {HBA1C_CONTROLLED_BELOW_PCT})"
        )
        measured = "(e.fpg_mmol_l IS NOT NULL OR e.hba1c_pct IS NOT NULL)"
    else:
        sbp_target = f"CASE WHEN r.age_years >= {ELDERLY_AGE_YEARS} THEN {SBP_ELDERLY_TARGET_MMHG} ELSE {SBP_HYPERTENSION_MMHG} END"
        dbp_target = str(DBP_HYPERTENSION_MMHG)
        dm = f"e.fpg_mmol_l < {FPG_CONTROLLED_BELOW_MMOL_L}"
        measured = "e.fpg_mmol_l IS NOT NULL"
    return f"(e.sbp_mmhg < {sbp_target} AND e.dbp_mmhg < {dbp_target})", dm, measured
