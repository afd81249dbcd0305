"""When the next screening test is due, and which test (SPEC section 5).

The interval is the first row that applies (intervals are config; the groups are the guidelines'):

========================================================  =======================  ==================
who (not recorded with the disease)                       diabetes test            BP
========================================================  =======================  ==================
prediabetes / BP 130-139 or 85-89                         ``prediabetes``          ``high_risk_band``
guideline high-risk (SPEC 3 flag) or high-risk tier       ``high_risk``            ``high_risk``
age >= the CDS profile's age (40; 35 in 2024) / >= 35     ``by_age``               ``by_age``
everyone else                                             ``other``                ``other``
========================================================  =======================  ==================

References
----------
.. [BPHS2017] National Basic Public Health Service Standard, 3rd ed. (2017): residents at high risk of
   hypertension (易患人群) have their BP measured at least every six months; adults >= 35 at least yearly.
.. [CDS2020] Chinese Diabetes Society guideline 2020, screening: high-risk adults tested at least yearly
   (FPG, or OGTT where possible); a screening FPG >= 5.6 mmol/L recommends an OGTT.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from riskmodel.config import RiskConfig
from riskmodel.rules.guidelines.cdrs import CDRS_HIGH_RISK_POINTS, CdrsScore
from riskmodel.rules.guidelines.findings import DIABETES_RISK_AGE_CDS2020, DIABETES_RISK_AGE_CDS2024
from riskmodel.rules.guidelines.glycaemia import FPG_DIABETES_MMOL_L, FPG_RECOMMEND_OGTT_MMOL_L
from riskmodel.vectorised import first_match

NO_TEST, FPG, OGTT, HBA1C, BP, FPG_OR_HBA1C = range(6)
TEST_CODES = ("", "FPG", "OGTT", "HbA1c", "BP", "FPG, HbA1c")
"""The tests an action names; ``FPG, HbA1c`` (either) confirms a single OGTT-2h >= 11.1 or an asymptomatic random
glucose >= 11.1 (SPEC 13.1: a fasting glucose or HbA1c first)."""


@dataclass(frozen=True)
class ScreeningDue:
    """Per resident: the interval that applies, when the next test falls due, and which test."""

    interval_days: np.ndarray
    due: np.ndarray  # datetime64[D]
    test: np.ndarray  # index into TEST_CODES


def _last_test_date(dates: list[np.ndarray], exam_date: np.ndarray, tested: np.ndarray) -> np.ndarray:
    """The newest dated result; an undated result falls back on the health-check date (NaT: never tested)."""
    newest = np.full(len(exam_date), np.datetime64("NaT"), dtype="datetime64[D]")
    for dates_of_test in dates:
        newest = np.where(np.isnat(newest) | (dates_of_test > newest), dates_of_test, newest)
    newest = np.where(np.isnat(newest), exam_date, newest)
    return np.where(tested, newest, np.datetime64("NaT")).astype("datetime64[D]")


def _due(last: np.ndarray, interval_days: np.ndarray, as_of: np.datetime64) -> np.ndarray:
    """Last result + interval; never tested (or no date at all) is due on the as-of date."""
    due = last + interval_days.astype("timedelta64[D]")
    return np.where(np.isnat(last), as_of, due).astype("datetime64[D]")


def diabetes_screening(
    columns: Mapping[str, np.ndarray],
    state: Mapping[str, np.ndarray],
    as_of: np.datetime64,
    config: RiskConfig,
    *,
    prediabetes: np.ndarray,
    high_risk: np.ndarray,
    cdrs: CdrsScore,
) -> ScreeningDue:
    """The diabetes test's interval, due date and kind (OGTT when CDRS >= 25 at ages 20-74 or the last FPG
    was 5.6-6.9, else FPG) [CDS2020]."""
    intervals = config.screening.diabetes_interval_days
    age_cut = (
        DIABETES_RISK_AGE_CDS2024 if config.glycaemia.high_risk_profile == "cds2024" else DIABETES_RISK_AGE_CDS2020
    )
    interval = first_match(
        [prediabetes, high_risk, columns["age_years"] >= age_cut],
        [intervals.prediabetes, intervals.high_risk, intervals.by_age],
        default=intervals.other,
    )
    fpg = state["fpg_mmol_l"]
    tested = ~np.isnan(fpg) | ~np.isnan(state["ogtt_2h_mmol_l"]) | ~np.isnan(state["hba1c_pct"])
    last = _last_test_date([state["fpg_date"], state["ogtt_date"], state["hba1c_date"]], columns["exam_date"], tested)
    ogtt = ((cdrs.total >= CDRS_HIGH_RISK_POINTS) & cdrs.in_validated_age) | (
        (fpg >= FPG_RECOMMEND_OGTT_MMOL_L) & (fpg < FPG_DIABETES_MMOL_L)
    )
    return ScreeningDue(interval, _due(last, interval, as_of), np.where(ogtt, OGTT, FPG).astype(np.int8))


def bp_screening(
    columns: Mapping[str, np.ndarray],
    state: Mapping[str, np.ndarray],
    as_of: np.datetime64,
    config: RiskConfig,
    *,
    high_risk_band: np.ndarray,
    high_risk: np.ndarray,
) -> ScreeningDue:
    """The BP measurement's interval and due date [BPHS2017]."""
    intervals = config.screening.bp_interval_days
    interval = first_match(
        [high_risk_band, high_risk, columns["age_years"] >= config.screening.bp_yearly_from_age],
        [intervals.high_risk_band, intervals.high_risk, intervals.by_age],
        default=intervals.other,
    )
    tested = ~np.isnan(state["sbp_mmhg"])
    last = _last_test_date([state["bp_date"]], columns["exam_date"], tested)
    return ScreeningDue(interval, _due(last, interval, as_of), np.full(len(interval), BP, dtype=np.int8))
