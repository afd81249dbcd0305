"""Blood-pressure categories, grade, control and emergency values (SPEC sections 4.2 and 4.5).

References
----------
.. [CHG2018] Joint Committee for Guideline Revision. 2018 Chinese Guidelines for Prevention and Treatment
   of Hypertension. J Geriatr Cardiol 2019;16(3):182-241. Table 3: normal < 120 and < 80; high-normal
   120-139 and/or 80-89; hypertension >= 140 and/or >= 90; grade 1 140-159/90-99, grade 2 160-179/100-109,
   grade 3 >= 180/>= 110; when SBP and DBP fall in different grades the higher one counts.
.. [BPHS2017] National Basic Public Health Service Standard, 3rd ed. (2017), hypertension patient health
   management: high-risk band 130-139/85-89; controlled < 140/90 (< 150/90 at age >= 65); refer at once
   for SBP >= 180 or DBP >= 110 (紧急转诊).
.. [CHG2024] Chinese Guidelines for the Prevention and Treatment of Hypertension, 2024 revision: target
   < 140/90 mmHg, < 150/90 from age 80; < 130/80 with diabetes.
"""

from __future__ import annotations

import numpy as np

SBP_HIGH_NORMAL_MMHG = 120
DBP_HIGH_NORMAL_MMHG = 80
SBP_HYPERTENSION_MMHG = 140
DBP_HYPERTENSION_MMHG = 90
SBP_GRADE2_MMHG = 160
DBP_GRADE2_MMHG = 100
SBP_GRADE3_MMHG = 180
DBP_GRADE3_MMHG = 110
"""[CHG2018] Table 3 cut-points."""

SBP_BPHS_HIGH_RISK_MMHG = 130
DBP_BPHS_HIGH_RISK_MMHG = 85
"""Lower bounds of the BPHS high-risk band 130-139 / 85-89 [BPHS2017]."""

ELDERLY_AGE_YEARS = 65
SBP_ELDERLY_TARGET_MMHG = 150
"""Managed patients aged >= 65 are controlled below 150/90 [BPHS2017]."""

VERY_ELDERLY_AGE_YEARS = 80
"""From this age the target is < 150/90 under the 2024 profile [CHG2024]."""
SBP_DIABETIC_TARGET_MMHG = 130
DBP_DIABETIC_TARGET_MMHG = 80
"""A resident with diabetes is controlled below 130/80 under the 2024 profile [CHG2024]."""

SBP_EMERGENCY_MMHG = 180
DBP_EMERGENCY_MMHG = 110
"""Refer at once at SBP >= 180 or DBP >= 110 [BPHS2017]."""

PULSE_PRESSURE_WIDE_MMHG = 60
"""A pulse pressure at or above this is wide, a sign of arterial stiffness (subclinical organ damage in the
elderly) [CHG2018]."""

UNKNOWN, NORMAL, HIGH_NORMAL, HYPERTENSION = -1, 0, 1, 2


def _either(sbp: np.ndarray, dbp: np.ndarray, sbp_cut: float, dbp_cut: float) -> np.ndarray:
    return (sbp >= sbp_cut) | (dbp >= dbp_cut)


def _measured(sbp: np.ndarray, dbp: np.ndarray) -> np.ndarray:
    return ~np.isnan(sbp) | ~np.isnan(dbp)


def bp_category(sbp_mmhg: np.ndarray, dbp_mmhg: np.ndarray) -> np.ndarray:
    """``-1`` unknown, ``0`` normal, ``1`` high-normal, ``2`` hypertension range [CHG2018]."""
    hypertension = _either(sbp_mmhg, dbp_mmhg, SBP_HYPERTENSION_MMHG, DBP_HYPERTENSION_MMHG)
    high_normal = _either(sbp_mmhg, dbp_mmhg, SBP_HIGH_NORMAL_MMHG, DBP_HIGH_NORMAL_MMHG)
    category = np.where(hypertension, HYPERTENSION, np.where(high_normal, HIGH_NORMAL, NORMAL))
    return np.where(_measured(sbp_mmhg, dbp_mmhg), category, UNKNOWN).astype(np.int8)


def bp_grade(sbp_mmhg: np.ndarray, dbp_mmhg: np.ndarray) -> np.ndarray:
    """Hypertension grade 1-3 by the higher of SBP and DBP, ``0`` below 140/90 or unknown [CHG2018]."""
    grade = (
        _either(sbp_mmhg, dbp_mmhg, SBP_HYPERTENSION_MMHG, DBP_HYPERTENSION_MMHG).astype(np.int8)
        + _either(sbp_mmhg, dbp_mmhg, SBP_GRADE2_MMHG, DBP_GRADE2_MMHG)
        + _either(sbp_mmhg, dbp_mmhg, SBP_GRADE3_MMHG, DBP_GRADE3_MMHG)
    )
    return grade.astype(np.int8)


def bphs_high_risk_band(sbp_mmhg: np.ndarray, dbp_mmhg: np.ndarray) -> np.ndarray:
    """BP in the BPHS high-risk band 130-139 and/or 85-89, below the hypertension range [BPHS2017]."""
    band = _either(sbp_mmhg, dbp_mmhg, SBP_BPHS_HIGH_RISK_MMHG, DBP_BPHS_HIGH_RISK_MMHG)
    return band & ~_either(sbp_mmhg, dbp_mmhg, SBP_HYPERTENSION_MMHG, DBP_HYPERTENSION_MMHG)


def bp_controlled(
    sbp_mmhg: np.ndarray,
    dbp_mmhg: np.ndarray,
    age_years: np.ndarray,
    *,
    profile: str = "bphs2017",
    diabetic: np.ndarray | None = None,
) -> np.ndarray:
    """``1.0`` controlled, ``0.0`` not, NaN unknown, under a control profile (SPEC 4.5).

    ``bphs2017``: < 140/90, or < 150/90 at age >= 65 [BPHS2017]. ``guideline2024``: < 140/90 up to age 79,
    < 150/90 from 80, and < 130/80 for a resident with diabetes [CHG2024].
    """
    if profile == "guideline2024":
        sbp_target = np.where(age_years >= VERY_ELDERLY_AGE_YEARS, SBP_ELDERLY_TARGET_MMHG, SBP_HYPERTENSION_MMHG)
        dbp_target = np.full(len(sbp_target), float(DBP_HYPERTENSION_MMHG))
        if diabetic is not None:
            sbp_target = np.where(diabetic, SBP_DIABETIC_TARGET_MMHG, sbp_target)
            dbp_target = np.where(diabetic, DBP_DIABETIC_TARGET_MMHG, dbp_target)
    else:
        sbp_target = np.where(age_years >= ELDERLY_AGE_YEARS, SBP_ELDERLY_TARGET_MMHG, SBP_HYPERTENSION_MMHG)
        dbp_target = np.full(len(sbp_target), float(DBP_HYPERTENSION_MMHG))
    controlled = (sbp_mmhg < sbp_target) & (dbp_mmhg < dbp_target)
    known = ~np.isnan(sbp_mmhg) & ~np.isnan(dbp_mmhg)
    return np.where(known, controlled.astype(float), np.nan)


def bp_emergency(sbp_mmhg: np.ndarray, dbp_mmhg: np.ndarray) -> np.ndarray:
    """SBP >= 180 or DBP >= 110: refer at once [BPHS2017]."""
    return _either(sbp_mmhg, dbp_mmhg, SBP_EMERGENCY_MMHG, DBP_EMERGENCY_MMHG)
