"""Actions, due dates and priority per resident (SPEC section 6).

Each disease proposes at most one action class; the resident's action is the most urgent class over both
diseases (ties broken by priority). Classes, most urgent first:

1. ``refer_now`` - emergency values in recent readings (BPHS 2017: SBP >= 180 or DBP >= 110; glucose
   >= 16.7 or <= 3.9 mmol/L). Due today.
2. ``confirm_diagnosis`` - chronic by measurement without a recorded diagnosis: recall for a confirmatory
   test within 14 days (or, with two qualifying tests, record the diagnosis and start management).
3. ``refer`` - managed patient with >= 2 consecutive uncontrolled visits (BPHS 2017). Due today.
4. ``recheck`` - managed patient whose latest values are uncontrolled (or first uncontrolled visit):
   within 14 days (BPHS 2017).
5. ``follow_up_overdue`` - managed patient with no face-to-face follow-up in 90 days, or none recorded.
6. ``screen`` - not diagnosed and the disease's test is due (SPEC section 5 intervals).
7. ``none`` - nothing due; the due date is when the next test or follow-up falls due.

Priority score (documented contract): ``100 * (7 - class) + within``, with class 1-7 as above and
``within`` in [0, 99]: higher is more urgent, so sorting by priority descending gives the SPEC order.
``within`` is: refer_now, how far beyond the emergency cut-off; confirm_diagnosis, how far above the
diagnostic threshold; refer, the uncontrolled streak; recheck, how far above target; follow_up_overdue,
days overdue (a year or never recorded = 99); screen, expected yield ``98 * P(chronic) + P(high_risk)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from riskmodel.config import RiskConfig
from riskmodel.model.labels import recorded
from riskmodel.rules.guidelines.blood_pressure import (
    DBP_EMERGENCY_MMHG,
    DBP_HYPERTENSION_MMHG,
    SBP_EMERGENCY_MMHG,
    SBP_HYPERTENSION_MMHG,
    bp_controlled,
    bp_emergency,
    bphs_high_risk_band,
)
from riskmodel.rules.guidelines.glycaemia import (
    FPG_DIABETES_MMOL_L,
    FPG_RECOMMEND_OGTT_MMOL_L,
    GLUCOSE_EMERGENCY_HIGH_MMOL_L,
    GLUCOSE_EMERGENCY_LOW_MMOL_L,
    HBA1C_DIABETES_PCT,
    OGTT_2H_DIABETES_MMOL_L,
    glucose_controlled,
    glucose_emergency,
)
from riskmodel.rules.tiers import CHRONIC, HIGH_RISK, MEASUREMENT, DiseaseTier, days_before, fresh
from riskmodel.vectorised import MISSING, first_match

ACTIONS = ("refer_now", "confirm_diagnosis", "refer", "recheck", "follow_up_overdue", "screen", "none")
ACTION_NAMES = np.array(ACTIONS, dtype=object)
REFER_NOW, CONFIRM, REFER, RECHECK, OVERDUE, SCREEN, NONE = range(7)
TRUNCATED_ACTIONS = ("follow_up_overdue", "screen")
"""Only these classes are cut to a team's capacity; classes 1-4 never are (SPEC section 6)."""

FOLLOW_UP_INTERVAL_DAYS = 90
"""Managed patients: at least four face-to-face follow-ups a year, one every <= 90 days [BPHS 2017]."""
RECHECK_WITHIN_DAYS = 14
"""First uncontrolled visit: adjust treatment and recheck within 14 days [BPHS 2017]."""
CONFIRM_WITHIN_DAYS = 14
"""Recall an unconfirmed measurement-based diagnosis for a confirmatory test within 14 days (SPEC section 6)."""
REFER_AFTER_UNCONTROLLED_VISITS = 2
"""Two consecutive uncontrolled visits: refer [BPHS 2017]."""

TESTS = np.array(["", "FPG", "OGTT", "HbA1c", "BP"], dtype=object)
NO_TEST, FPG, OGTT, HBA1C, BP = range(5)


@dataclass(frozen=True)
class DiseaseAction:
    """The action one disease proposes per resident."""

    action: np.ndarray  # class index 0-6
    due: np.ndarray  # datetime64[D]
    within: np.ndarray  # 0-99
    test: np.ndarray  # index into TESTS


@dataclass(frozen=True)
class ResidentAction:
    action: np.ndarray
    due: np.ndarray
    priority: np.ndarray
    disease: np.ndarray  # "diabetes" / "hypertension" / None
    tests: np.ndarray  # e.g. "FPG, BP"


def _days(n: int, as_of: np.datetime64, offset: int = 0) -> np.ndarray:
    return np.full(n, as_of + np.timedelta64(offset, "D"), dtype="datetime64[D]")


def _clip(values: np.ndarray) -> np.ndarray:
    """Into [0, 99], NaN to 0 (``fmax`` returns the non-NaN operand)."""
    return np.fmin(np.fmax(values, 0.0), 99.0)


def _managed_actions(
    columns: Mapping[str, np.ndarray],
    managed: np.ndarray,
    uncontrolled_now: np.ndarray,
    severity: np.ndarray,
    as_of: np.datetime64,
    recheck_test: int,
):
    """Classes 3-5 for managed patients: refer, recheck, follow-up overdue (BPHS 2017)."""
    n = len(managed)
    visits = columns["uncontrolled_visits"]
    since = days_before(as_of, columns["last_followup_date"])
    refer = managed & (visits >= REFER_AFTER_UNCONTROLLED_VISITS)
    recheck = managed & ~refer & (uncontrolled_now | (visits == 1))
    overdue = managed & (np.isnan(since) | (since > FOLLOW_UP_INTERVAL_DAYS))
    overdue_due = np.where(
        np.isnat(columns["last_followup_date"]),
        as_of,
        columns["last_followup_date"] + np.timedelta64(FOLLOW_UP_INTERVAL_DAYS, "D"),
    )
    action = first_match([refer, recheck, overdue], [REFER, RECHECK, OVERDUE], default=NONE)
    due = first_match(
        [refer, recheck, overdue],
        [_days(n, as_of), _days(n, as_of, RECHECK_WITHIN_DAYS), overdue_due.astype("datetime64[D]")],
        default=overdue_due.astype("datetime64[D]"),
    )
    within = first_match(
        [refer, recheck, overdue],
        [_clip(20.0 * visits), _clip(severity), np.where(np.isnan(since), 99.0, _clip((since - 90) / 2.75))],
        default=0.0,
    )
    test = np.where(action == RECHECK, recheck_test, NO_TEST)
    return action, due.astype("datetime64[D]"), within, test


def _screening_due(
    test_dates: np.ndarray, tested: np.ndarray, interval_days: np.ndarray, as_of: np.datetime64
) -> np.ndarray:
    """When the next screening test is due: never tested or undated -> today, else last test + interval."""
    due = test_dates + interval_days.astype("timedelta64[D]")
    return np.where(tested & ~np.isnat(test_dates), due, as_of).astype("datetime64[D]")


def diabetes_action(
    columns: Mapping[str, np.ndarray], tier: DiseaseTier, p: np.ndarray, as_of: np.datetime64, config: RiskConfig
) -> DiseaseAction:
    """The diabetes action per resident (SPEC sections 4.5, 5 and 6)."""
    fpg, ogtt, hba1c = columns["fpg_mmol_l"], columns["ogtt_2h_mmol_l"], columns["hba1c_pct"]
    recent = fresh(columns["glucose_date"], as_of, config.worklist.emergency_lookback_days)
    managed = recorded(columns, "diabetes")
    emergency = recent & glucose_emergency(fpg, ogtt, managed=managed)
    with np.errstate(invalid="ignore"):
        emergency_severity = 50 + np.fmax(
            np.fmax(5 * (fpg - GLUCOSE_EMERGENCY_HIGH_MMOL_L), 5 * (ogtt - GLUCOSE_EMERGENCY_HIGH_MMOL_L)),
            20 * (GLUCOSE_EMERGENCY_LOW_MMOL_L - fpg),
        )
        confirm = (tier.tier == CHRONIC) & (tier.source == MEASUREMENT)
        confirm_severity = np.fmax(
            np.fmax(10 * (fpg - FPG_DIABETES_MMOL_L), 25 * (hba1c - HBA1C_DIABETES_PCT)),
            5 * (ogtt - OGTT_2H_DIABETES_MMOL_L),
        )
        confirm_test = np.where(fpg >= FPG_DIABETES_MMOL_L, HBA1C, FPG)
    current = fresh(columns["glucose_date"], as_of, FOLLOW_UP_INTERVAL_DAYS)
    uncontrolled = current & (glucose_controlled(fpg) == 0.0)
    managed_action, managed_due, managed_within, managed_test = _managed_actions(
        columns, managed, uncontrolled, 10 * (fpg - FPG_DIABETES_MMOL_L), as_of, FPG
    )

    # Screening (SPEC section 5): interval by group, test named by the last FPG.
    intervals = config.screening.diabetes_interval_days
    with np.errstate(invalid="ignore"):
        prediabetes = (
            ((fpg >= (5.6 if config.glycaemia.criteria == "ada" else 6.1)) & (fpg < FPG_DIABETES_MMOL_L))
            | ((ogtt >= 7.8) & (ogtt < OGTT_2H_DIABETES_MMOL_L))
            | ((hba1c >= 5.7) & (hba1c < HBA1C_DIABETES_PCT))
        )
    yearly = (tier.tier >= HIGH_RISK) | (columns["age_years"] >= config.screening.diabetes_yearly_from_age)
    interval = first_match([prediabetes, yearly], [intervals.prediabetes, intervals.high_risk], default=intervals.other)
    tested = ~np.isnan(fpg) | ~np.isnan(ogtt) | ~np.isnan(hba1c)
    test_date = np.where(np.isnat(columns["glucose_date"]), columns["exam_date"], columns["glucose_date"])
    screen_due = _screening_due(test_date, tested, interval, as_of)
    with np.errstate(invalid="ignore"):
        screen_test = np.where(fpg >= FPG_RECOMMEND_OGTT_MMOL_L, OGTT, FPG)
    screen = ~managed & (screen_due <= as_of)
    yield_score = 98 * p[:, 2] + p[:, 1]

    return _compose(
        as_of,
        emergency=(emergency, emergency_severity),
        confirm=(confirm & ~managed, confirm_severity, np.where(tier.confirmed, NO_TEST, confirm_test)),
        managed=(managed, managed_action, managed_due, managed_within, managed_test),
        screen=(screen, screen_due, yield_score, screen_test),
    )


def hypertension_action(
    columns: Mapping[str, np.ndarray], tier: DiseaseTier, p: np.ndarray, as_of: np.datetime64, config: RiskConfig
) -> DiseaseAction:
    """The hypertension action per resident (SPEC sections 4.5, 5 and 6)."""
    n = len(tier.tier)
    sbp, dbp = columns["sbp_mmhg"], columns["dbp_mmhg"]
    recent = fresh(columns["bp_date"], as_of, config.worklist.emergency_lookback_days)
    emergency = recent & bp_emergency(sbp, dbp)
    with np.errstate(invalid="ignore"):
        emergency_severity = 50 + np.fmax(sbp - SBP_EMERGENCY_MMHG, 2 * (dbp - DBP_EMERGENCY_MMHG))
        confirm = (tier.tier == CHRONIC) & (tier.source == MEASUREMENT)
        confirm_severity = np.fmax(sbp - SBP_HYPERTENSION_MMHG, 2 * (dbp - DBP_HYPERTENSION_MMHG))
    managed = recorded(columns, "hypertension")
    current = fresh(columns["bp_date"], as_of, FOLLOW_UP_INTERVAL_DAYS)
    uncontrolled = current & (bp_controlled(sbp, dbp, columns["age_years"]) == 0.0)
    managed_action, managed_due, managed_within, managed_test = _managed_actions(
        columns,
        managed,
        uncontrolled,
        np.fmax(sbp - SBP_HYPERTENSION_MMHG, 2 * (dbp - DBP_HYPERTENSION_MMHG)),
        as_of,
        BP,
    )

    intervals = config.screening.bp_interval_days
    band = bphs_high_risk_band(sbp, dbp)
    yearly = (tier.tier >= HIGH_RISK) | (columns["age_years"] >= config.screening.bp_yearly_from_age)
    interval = first_match([band, yearly], [intervals.high_risk_band, intervals.high_risk], default=intervals.other)
    tested = ~np.isnan(sbp)
    test_date = np.where(np.isnat(columns["bp_date"]), columns["exam_date"], columns["bp_date"])
    screen_due = _screening_due(test_date, tested, interval, as_of)
    screen = ~managed & (screen_due <= as_of)
    yield_score = 98 * p[:, 2] + p[:, 1]

    every = np.full(n, BP, dtype=np.int8)
    return _compose(
        as_of,
        emergency=(emergency, emergency_severity),
        confirm=(confirm & ~managed, confirm_severity, every),
        managed=(managed, managed_action, managed_due, managed_within, managed_test),
        screen=(screen, screen_due, yield_score, every),
    )


def _compose(
    as_of: np.datetime64,
    *,
    emergency: tuple[np.ndarray, np.ndarray],
    confirm: tuple[np.ndarray, np.ndarray, np.ndarray],
    managed: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    screen: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> DiseaseAction:
    """One disease's action from its candidate classes, most urgent first (the module docstring's order).

    Each candidate is (mask, then what it implies): emergency (mask, severity); confirm (mask, severity,
    test); managed (mask, action, due, within, test); screen (mask, due, expected yield, test).
    """
    is_emergency, emergency_severity = emergency
    is_confirm, confirm_severity, confirm_test = confirm
    is_managed, managed_action, managed_due, managed_within, managed_test = managed
    is_screen, screen_due, yield_score, screen_test = screen
    n = len(is_emergency)
    action = first_match(
        [is_emergency, is_confirm, is_managed, is_screen], [REFER_NOW, CONFIRM, managed_action, SCREEN], default=NONE
    )
    due = first_match(
        [action == REFER_NOW, action == CONFIRM, is_managed],
        [_days(n, as_of), _days(n, as_of, CONFIRM_WITHIN_DAYS), managed_due],
        default=screen_due,
    )
    within = first_match(
        [action == REFER_NOW, action == CONFIRM, is_managed, action == SCREEN],
        [_clip(emergency_severity), _clip(confirm_severity), managed_within, _clip(yield_score)],
        default=0.0,
    )
    test = first_match(
        [action == CONFIRM, is_managed, action == SCREEN], [confirm_test, managed_test, screen_test], default=NO_TEST
    )
    return DiseaseAction(action.astype(np.int8), due.astype("datetime64[D]"), within, test.astype(np.int8))


def resident_action(diabetes: DiseaseAction, hypertension: DiseaseAction) -> ResidentAction:
    """The most urgent action over both diseases; tests lists every test due for either."""
    use_dm = (diabetes.action < hypertension.action) | (
        (diabetes.action == hypertension.action) & (diabetes.within >= hypertension.within)
    )
    action = np.where(use_dm, diabetes.action, hypertension.action)
    within = np.where(use_dm, diabetes.within, hypertension.within)
    both_none = action == NONE
    due = np.where(
        both_none, np.minimum(diabetes.due, hypertension.due), np.where(use_dm, diabetes.due, hypertension.due)
    )
    priority = np.round(100.0 * (6 - action) + within, 3)
    disease = np.where(both_none, MISSING, np.where(use_dm, "diabetes", "hypertension")).astype(object)
    dm_test = np.where(diabetes.action < NONE, TESTS[diabetes.test], "")
    htn_test = np.where(hypertension.action < NONE, TESTS[hypertension.test], "")
    tests = np.char.strip(
        np.char.add(
            np.char.add(dm_test.astype(str), np.where((dm_test != "") & (htn_test != ""), ", ", "")),
            htn_test.astype(str),
        )
    ).astype(object)
    return ResidentAction(ACTION_NAMES[action], due.astype("datetime64[D]"), priority, disease, tests)
