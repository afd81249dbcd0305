"""The confirmation of a measured diagnosis from the row's and the events' results (SPEC 3 and 13.2).

Hypertension (:func:`hypertension_confirmation`): three days with a mean BP >= 140/90 off treatment within
``htn_confirmation_window_days`` from the first to the third; once met it stands. Until then the series is the
qualifying days inside the window ending at the newest, and ``series_lapsed`` says an earlier one (still within
``bp_result_valid_days``) lapsed. Diabetes (:func:`diabetes_confirmation`): a second qualifying result on
another day within ``glucose_result_valid_days``, two different tests on one day, or a random glucose >= 11.1
with typical symptoms. Each returns the qualifying results shown with it, newest first.
"""

from __future__ import annotations

import numpy as np

from riskmodel.config import RiskConfig
from riskmodel.records.daily_results import DailyResults, day_keys, run_starts
from riskmodel.records.timeline import NO_DAY, last_in_group
from riskmodel.rules.guidelines.blood_pressure import DBP_HYPERTENSION_MMHG, SBP_HYPERTENSION_MMHG
from riskmodel.rules.guidelines.glycaemia import (
    FPG_DIABETES_MMOL_L,
    HBA1C_DIABETES_PCT,
    OGTT_2H_DIABETES_MMOL_L,
    RANDOM_GLUCOSE_DIABETES_MMOL_L,
)

HTN_DAYS_TO_CONFIRM = 3
"""Three non-same-day readings >= 140/90 within four weeks confirm hypertension [CHG2018; primary care 2025]."""
DM_RESULTS_TO_CONFIRM = 2
"""A second qualifying result on another day, or two tests from one sample, confirm diabetes [CDS2020]."""
SHOWN = 3
"""How many qualifying results are shown with a confirmation (SPEC 13.5)."""
DM_THRESHOLDS = (
    ("fpg", 1, FPG_DIABETES_MMOL_L),
    ("ogtt", 2, OGTT_2H_DIABETES_MMOL_L),
    ("hba1c", 3, HBA1C_DIABETES_PCT),
    ("random_glucose", 4, RANDOM_GLUCOSE_DIABETES_MMOL_L),
)
"""Each diabetes result's code (:data:`riskmodel.records.history.QUALIFYING_MEASURES`) and diagnostic threshold."""


def _days_in_window(resident: np.ndarray, day: np.ndarray, window_days: int) -> np.ndarray:
    """For each (resident, day), sorted and unique, how many of the resident's days lie in [day - window, day]."""
    key = day_keys(resident, day)
    return np.arange(len(key)) - np.searchsorted(key, key - window_days, side="left") + 1


def _rank_in_group(group: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within each run of equal values of ``group``."""
    start = np.ones(len(group), dtype=bool)
    start[1:] = group[1:] != group[:-1]
    index = np.arange(len(group))
    return index - np.maximum.accumulate(np.where(start, index, 0))


def _shown(n: int, who: np.ndarray, rank: np.ndarray, day: np.ndarray, v1: np.ndarray, v2: np.ndarray, name: str):
    """The columns q1 ... q3 (date, v1, v2) from results ranked 0, 1, 2 per resident."""
    out: dict[str, np.ndarray] = {}
    for k in range(1, SHOWN + 1):
        at = np.flatnonzero(rank == k - 1)
        date = np.full(n, NO_DAY, dtype=np.int64)
        date[who[at]] = day[at]
        first, second = np.full(n, np.nan), np.full(n, np.nan)
        first[who[at]], second[who[at]] = v1[at], v2[at]
        out |= {f"{name}_q{k}_date": date, f"{name}_q{k}_v1": first, f"{name}_q{k}_v2": second}
    return out


def hypertension_confirmation(bp: DailyResults, n: int, config: RiskConfig) -> dict[str, np.ndarray]:
    """The hypertension confirmation columns; NaN / NaT for a resident with no qualifying day.

    References
    ----------
    Chinese Guidelines for the Prevention and Treatment of Hypertension 2018; the 2025 primary-care guideline
    ("three non-same-day readings within four weeks").
    """
    window, valid = config.tiers.htn_confirmation_window_days, config.tiers.bp_result_valid_days
    raised = np.flatnonzero(bp.off_treatment & ((bp.v1 >= SBP_HYPERTENSION_MMHG) | (bp.v2 >= DBP_HYPERTENSION_MMHG)))
    who, day = bp.resident[raised], bp.day[raised]
    in_window = _days_in_window(who, day, window)
    present = np.bincount(who, minlength=n) > 0
    completed = np.bincount(who[in_window >= HTN_DAYS_TO_CONFIRM], minlength=n) > 0
    last_who, last_at = last_in_group(who, np.arange(len(who)))
    newest = np.full(n, NO_DAY, dtype=np.int64)
    newest[last_who] = day[last_at]
    series_end = newest.copy()
    end_who, end_at = last_in_group(who, np.flatnonzero(in_window >= HTN_DAYS_TO_CONFIRM))
    series_end[end_who] = day[end_at]
    # The series shown: the qualifying days in the window that ends at the series' end, newest first.
    shown = np.flatnonzero((day <= series_end[who]) & (day >= series_end[who] - window))[::-1]
    counted = np.bincount(who[shown], minlength=n)
    older = (day < newest[who] - window) & (day >= newest[who] - valid)
    lapsed = ~completed & (np.bincount(who[older], minlength=n) > 0)
    confirmations = np.where(completed, HTN_DAYS_TO_CONFIRM, np.minimum(counted, HTN_DAYS_TO_CONFIRM))
    rank = _rank_in_group(who[shown])
    return {
        "hypertension_confirmations": np.where(present, confirmations, np.nan),
        "hypertension_qualifying_date": newest,
        "hypertension_series_lapsed": np.where(present, lapsed, np.nan),
        **_shown(n, who[shown], rank, day[shown], bp.v1[raised][shown], bp.v2[raised][shown], "hypertension"),
    }


def diabetes_confirmation(daily: DailyResults, n: int, config: RiskConfig) -> dict[str, np.ndarray]:
    """The diabetes confirmation columns; NaN / NaT for a resident with no qualifying result.

    References
    ----------
    CDS 2020, Guideline for the prevention and treatment of type 2 diabetes in China: without symptoms a
    diagnosis needs a second result on another day, or two tests from one sample.
    """
    parts = []
    for measure, code, threshold in DM_THRESHOLDS:
        days = daily.of(measure)
        qualifies = days.v1 >= threshold
        if measure == "random_glucose":
            qualifies &= days.v2 > 0  # with typical symptoms only
        at = np.flatnonzero(qualifies)
        parts.append((days.resident[at], days.day[at], days.v1[at], np.full(len(at), float(code))))
    who, day, value, codes = (np.concatenate(column) for column in zip(*parts, strict=True))
    order = np.lexsort((codes, day, who))
    who, day, value, codes = who[order], day[order], value[order], codes[order]
    # One entry a (resident, day): how many tests qualified that day, and whether one was symptomatic.
    starts = run_starts(who, day)
    tests = np.diff(starts, append=len(who))
    symptomatic = np.add.reduceat(codes == 4, starts) > 0 if len(who) else np.zeros(0, dtype=bool)
    in_window = _days_in_window(who[starts], day[starts], config.tiers.glucose_result_valid_days)
    confirming = (in_window >= DM_RESULTS_TO_CONFIRM) | (tests >= DM_RESULTS_TO_CONFIRM) | symptomatic
    present = np.bincount(who, minlength=n) > 0
    confirmed = np.bincount(who[starts][confirming], minlength=n) > 0
    newest = np.full(n, NO_DAY, dtype=np.int64)
    last_who, last_at = last_in_group(who, np.arange(len(who)))
    newest[last_who] = day[last_at]
    # Shown newest day first, and within a day in the order fpg, ogtt, hba1c, random glucose.
    shown = np.lexsort((codes, -day, who))
    return {
        "diabetes_confirmations": np.where(present, np.where(confirmed, DM_RESULTS_TO_CONFIRM, 1), np.nan),
        "diabetes_qualifying_date": newest,
        "diabetes_series_lapsed": np.where(present, 0.0, np.nan),
        **_shown(n, who[shown], _rank_in_group(who[shown]), day[shown], value[shown], codes[shown], "diabetes"),
    }
