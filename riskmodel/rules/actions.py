"""Every due action per resident and disease, with due dates and a priority (SPEC sections 4.5, 5 and 6).

A resident has one work-list entry listing every action due for either disease; the entry's ``action`` is
the most urgent (batch output keeps that one in its ``action`` column).

- ``refer_now`` (band 1): fasting or random glucose >= 16.7 (<= 3.9 if managed), BP >= 180/110, or
  emergency signs, within ``emergency_lookback_days``; due on the reading's (or the sign's) date.
- ``confirm_diagnosis`` (band 2): an unrecorded measured chronic (SPEC 3); due 14 days after the newest
  qualifying result.
- ``refer`` (band 2): managed, >= 2 consecutive uncontrolled follow-ups, or an adverse reaction or
  complication; due 14 days after that follow-up; for a disease it replaces ``recheck``.
- ``referral_follow_up`` (band 2): a referral sent, not yet arrived or returned; due 14 days after sending.
- ``recheck`` (band 2): managed, the newest follow-up (or a reading since it) uncontrolled; due 14 days
  after it.
- ``follow_up_overdue`` (band 3): managed, no follow-up for that disease in 90 days (or none); due 90
  days after the last (or after registration).
- ``screen`` (band 4): not recorded, the test due (SPEC 5); due at the last result + the interval.

**Priority** (documented contract): ``100 * (5 - band) + score``, score in [0, 99]; higher is more urgent,
so sorting by priority descending gives the SPEC order. Scores within a band:

- band 1: 50 + how far beyond the emergency cut-off (emergency signs: 90);
- band 2, the severity score (points in ``worklist.severity``): the values behind the action (BP grade
  1/2/3; glucose or HbA1c in the diabetes range; FPG or random glucose >= 11.1 or HbA1c >= 9), plus points
  for the action (refer > referral follow-up > confirmation > recheck), plus points per day overdue. So
  grade 2-3 BP, glucose >= 11.1 or HbA1c >= 9 outrank a borderline first reading. An OGTT-2h >= 16.7 is an
  urgent confirmation at the top of the band (99);
- band 3: days overdue / 3.65 (a year overdue, or never followed up: 99);
- band 4: expected yield ``98 * P(chronic) + P(high_risk)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from riskmodel.config import RiskConfig
from riskmodel.rules.guidelines.blood_pressure import (
    DBP_EMERGENCY_MMHG,
    DBP_HYPERTENSION_MMHG,
    SBP_EMERGENCY_MMHG,
    SBP_HYPERTENSION_MMHG,
    bp_controlled,
    bp_emergency,
    bp_grade,
    bphs_high_risk_band,
)
from riskmodel.rules.guidelines.cdrs import CdrsScore
from riskmodel.rules.guidelines.glycaemia import (
    FPG_DIABETES_MMOL_L,
    FPG_PREGNANCY_ABOVE_NORMAL_MMOL_L,
    GLUCOSE_EMERGENCY_HIGH_MMOL_L,
    GLUCOSE_EMERGENCY_LOW_MMOL_L,
    HBA1C_DIABETES_PCT,
    OGTT_2H_DIABETES_MMOL_L,
    OGTT_2H_PREGNANCY_ABOVE_NORMAL_MMOL_L,
    OGTT_2H_URGENT_MMOL_L,
    RANDOM_GLUCOSE_DIABETES_MMOL_L,
    GlycaemicStatus,
    glucose_controlled,
    glucose_emergency,
)
from riskmodel.rules.screening import (
    BP,
    FPG,
    FPG_OR_HBA1C,
    HBA1C,
    NO_TEST,
    OGTT,
    TEST_CODES,
    bp_screening,
    diabetes_screening,
)
from riskmodel.rules.tiers import (
    CHRONIC,
    HIGH_RISK,
    MEASUREMENT,
    DiseaseTier,
    days_before,
    fresh,
)
from riskmodel.vectorised import MISSING

if TYPE_CHECKING:
    from riskmodel.rules.as_of import StateAsOf

ACTIONS = (
    "refer_now",
    "confirm_diagnosis",
    "recheck_stale",
    "refer",
    "referral_follow_up",
    "recheck",
    "first_followup",
    "follow_up_overdue",
    "re_engage",
    "screen",
)
ACTION_BANDS = (1, 2, 2, 2, 2, 2, 2, 3, 3, 4)
(
    REFER_NOW,
    CONFIRM,
    RECHECK_STALE,
    REFER,
    REFERRAL_FOLLOW_UP,
    RECHECK,
    FIRST_FOLLOWUP,
    OVERDUE,
    RE_ENGAGE,
    SCREEN,
) = range(len(ACTIONS))
ACTION_NAMES = np.array((*ACTIONS, "none"), dtype=object)
NONE = len(ACTIONS)
SHARED_CAPACITY_BANDS = (2, 3, 4)
"""Bands 2-4 share a team's capacity, filled in band order; band 1 (refer now) is never cut (SPEC 15)."""
DISEASE_ORDER = ("diabetes", "hypertension")
TESTS = np.array(TEST_CODES, dtype=object)
_BANDS = np.asarray(ACTION_BANDS, dtype=np.float64)
_DISEASE_NAMES = np.array(DISEASE_ORDER, dtype=object)

FOLLOW_UP_INTERVAL_DAYS = 90
"""Managed patients: at least four face-to-face follow-ups a year, one every <= 90 days [BPHS 2017]."""
RECHECK_WITHIN_DAYS = 14
"""First uncontrolled follow-up: adjust treatment and recheck within 14 days [BPHS 2017]."""
REFERRAL_FOLLOW_UP_DAYS = 14
"""A referral is followed up within 14 days [BPHS 2017]."""
CONFIRM_WITHIN_DAYS = 14
"""Recall a measured, unrecorded diagnosis within 14 days of the qualifying result (SPEC section 6)."""
REFER_AFTER_UNCONTROLLED_VISITS = 2
"""Two consecutive uncontrolled follow-ups: refer [BPHS 2017]."""
RECHECK_AFTER_REACTION_DAYS = 14
"""A first adverse drug reaction: adjust the drug and follow up within two weeks [BPHS 2017]."""
FIRST_FOLLOWUP_WITHIN_DAYS = 14
"""A newly diagnosed patient: the first follow-up (纳入管理) within 14 days of the diagnosis (SPEC 13.3)."""
RECHECK_STALE_WITHIN_DAYS = 14
"""An out-of-date abnormal result is rechecked within 14 days of the as-of date (SPEC 13.1)."""
RECHECK_STALE_EMERGENCY_DAYS = 3
"""An emergency-level reading past the look-back with no later reading: recheck within 3 days (SPEC 13.1)."""
OVERDUE_DAYS_COUNTED = 90
"""Overdue days stop adding to priority after 90 (SPEC 13.3): a year-old task never outranks a current one."""
CREATED_BEFORE_DUE = {
    CONFIRM: CONFIRM_WITHIN_DAYS,
    REFER: RECHECK_WITHIN_DAYS,
    REFERRAL_FOLLOW_UP: REFERRAL_FOLLOW_UP_DAYS,
    RECHECK: RECHECK_WITHIN_DAYS,
    FIRST_FOLLOWUP: FIRST_FOLLOWUP_WITHIN_DAYS,
    OVERDUE: FOLLOW_UP_INTERVAL_DAYS,
}
"""The tasks that retire into ``re_engage``, and how many days after their creating event each falls due."""
_RETIRING = np.array(list(CREATED_BEFORE_DUE), dtype=np.intp)
_OVERDUE_SCORED = np.array([CONFIRM, REFER, REFERRAL_FOLLOW_UP, RECHECK, FIRST_FOLLOWUP], dtype=np.intp)
"""The band-2 actions whose severity gains points per day overdue (all of band 2 but ``recheck_stale``)."""
_TEST_BITS = np.zeros(len(TEST_CODES), dtype=np.int8)
_TEST_BITS[[FPG, OGTT, HBA1C, BP, FPG_OR_HBA1C]] = (1, 2, 4, 8, 1 | 4)
"""Each test code as a set of the tests it names (bits FPG, OGTT, HbA1c, BP); ``FPG, HbA1c`` names two."""
_NAMED_TESTS = ((FPG, 1), (OGTT, 2), (HBA1C, 4), (BP, 8))
_TEST_LISTS = np.array(
    [", ".join(str(TESTS[t]) for t, bit in _NAMED_TESTS if bits & bit) for bits in range(16)], dtype=object
)
"""Each set of tests written out, in the order FPG, OGTT, HbA1c, BP (e.g. ``"OGTT, BP"``)."""
_CREATED_OFFSETS = np.array(list(CREATED_BEFORE_DUE.values()), dtype="timedelta64[D]")
FPG_HIGH_MMOL_L = 11.1
HBA1C_HIGH_PCT = 9.0
"""Glucose >= 11.1 mmol/L or HbA1c >= 9 % outrank a borderline result in band 2 (SPEC 6)."""
EMERGENCY_SIGNS_SCORE = 90.0


@dataclass(frozen=True)
class ResidentAction:
    """The most urgent action per resident (the batch output's columns)."""

    action: np.ndarray
    due: np.ndarray
    priority: np.ndarray
    disease: np.ndarray  # "diabetes" / "hypertension" / None
    tests: np.ndarray  # every test due for either disease, e.g. "FPG, BP"
    overdue_days: np.ndarray


@dataclass(frozen=True)
class DueActions:
    """Every action per resident, disease and code, as arrays of shape (n, 2, len(ACTIONS)).

    Attributes
    ----------
    due
        The action is due (its due date may be in the future for band 2: it is listed within 14 days).
    due_date
        ``datetime64[D]``, NaT where not due.
    score
        Score within the band, 0-99 (the module docstring).
    test
        Index into :data:`TESTS`.
    next_due
        Per resident, when the next test or follow-up falls due (for residents with nothing due).
    screening_interval_days
        Per resident and disease, the interval between tests that applies to them (SPEC 5).
    as_of
        The date the actions were judged against.
    """

    due: np.ndarray
    due_date: np.ndarray
    score: np.ndarray
    test: np.ndarray
    next_due: np.ndarray
    as_of: np.datetime64
    screening_interval_days: np.ndarray  # (n, 2): the SPEC 5 interval of each disease's test

    @cached_property
    def priority(self) -> np.ndarray:
        bands = _BANDS
        return np.where(self.due, np.round(100.0 * (5 - bands) + self.score, 3), -np.inf)

    @cached_property
    def overdue_days(self) -> np.ndarray:
        days = (self.as_of - self.due_date).astype("timedelta64[D]").astype(np.float64)
        return np.where(self.due & ~np.isnat(self.due_date), np.maximum(days, 0.0), 0.0)

    def most_urgent(self) -> ResidentAction:
        """The entry's action: the highest priority over both diseases (diabetes first on a tie)."""
        n = self.due.shape[0]
        flat = self.priority.reshape(n, -1)
        best = np.argmax(flat, axis=1)
        rows = np.arange(n)
        any_due = self.due.reshape(n, -1).any(axis=1)
        disease_index, action_index = np.divmod(best, len(ACTIONS))
        action = np.where(any_due, action_index, NONE)
        due = np.where(any_due, self.due_date.reshape(n, -1)[rows, best], self.next_due)
        disease = np.where(any_due, _DISEASE_NAMES[disease_index], MISSING).astype(object)
        return ResidentAction(
            action=ACTION_NAMES[action],
            due=due.astype("datetime64[D]"),
            priority=np.where(any_due, flat[rows, best], 0.0),
            disease=disease,
            tests=self.tests_due(),
            overdue_days=np.where(any_due, self.overdue_days.reshape(n, -1)[rows, best], 0.0),
        )

    def tests_due(self) -> np.ndarray:
        """Every distinct test of the due actions, in the order FPG, OGTT, HbA1c, BP (e.g. ``"OGTT, BP"``): the set
        of tests per resident, then its text from a table."""
        n = self.due.shape[0]
        named = np.where(self.due, _TEST_BITS[self.test], 0).reshape(n, -1)
        return _TEST_LISTS[np.bitwise_or.reduce(named, axis=1)]


@dataclass
class _Candidates:
    """One disease's actions being built: code -> (mask, due date, score, test)."""

    n: int
    as_of: np.datetime64

    def __post_init__(self) -> None:
        self.due = np.zeros((self.n, len(ACTIONS)), dtype=bool)
        self.due_date = np.full((self.n, len(ACTIONS)), np.datetime64("NaT"), dtype="datetime64[D]")
        self.score = np.zeros((self.n, len(ACTIONS)))
        self.test = np.zeros((self.n, len(ACTIONS)), dtype=np.int8)

    def add(self, code: int, mask: np.ndarray, due: np.ndarray, score: np.ndarray, test: np.ndarray | int) -> None:
        """Set one action's column; where it is not due, the date, score and test are blanked by :func:`combine`
        (read ``due_date``, ``score`` and ``test`` only where ``due`` holds until then)."""
        self.due[:, code] = mask
        self.due_date[:, code] = due
        self.score[:, code] = score
        self.test[:, code] = test


def _clip(values: np.ndarray) -> np.ndarray:
    """Into [0, 99], NaN to 0 (``fmax`` returns the non-NaN operand)."""
    return np.fmin(np.fmax(values, 0.0), 99.0)


def _plus_days(dates: np.ndarray, days: int, as_of: np.datetime64) -> np.ndarray:
    """``dates + days``; an undated event counts from the as-of date."""
    return (np.where(np.isnat(dates), as_of, dates) + np.timedelta64(days, "D")).astype("datetime64[D]")


def _newest(*dates: np.ndarray) -> np.ndarray:
    """The newest of the dates per resident, NaT where all are NaT (``fmax`` skips NaT as it skips NaN)."""
    out = dates[0].astype("datetime64[D]")
    for other in dates[1:]:
        out = np.fmax(out, other)
    return out.astype("datetime64[D]")


def _happened_within(dates: np.ndarray, as_of: np.datetime64, days: int) -> np.ndarray:
    """A dated event within ``days`` before the as-of date (NaT: none happened)."""
    return ~np.isnat(dates) & fresh(dates, as_of, days)


def _late_days(due: np.ndarray, as_of: np.datetime64) -> np.ndarray:
    """Days past due that count toward priority: none before the due date, at most 90 (SPEC 13.3)."""
    return np.fmin(np.fmax(days_before(as_of, due), 0.0), OVERDUE_DAYS_COUNTED)  # fmax: undated (NaN) to 0


def _overdue_points(due: np.ndarray, as_of: np.datetime64, config: RiskConfig) -> np.ndarray:
    severity = config.worklist.severity
    return np.fmin(_late_days(due, as_of) * severity.per_overdue_day, severity.max_overdue)


def _band2(
    candidates: _Candidates,
    code: int,
    mask: np.ndarray,
    due: np.ndarray,
    values: np.ndarray,
    config: RiskConfig,
    test: np.ndarray | int,
) -> None:
    """Add a band-2 action with its severity score: value points + action points (+ overdue points, added to every
    band-2 action at once by :func:`combine`)."""
    points = config.worklist.severity.action.get(ACTIONS[code], 0.0)
    candidates.add(code, mask, due, values + points, test)


def _managed(
    candidates: _Candidates,
    disease: str,
    managed: np.ndarray,
    state: Mapping[str, np.ndarray],
    reading: tuple[np.ndarray, np.ndarray],
    both_managed: np.ndarray,
    values: np.ndarray,
    config: RiskConfig,
    test: int,
) -> None:
    """first_followup, refer, referral_follow_up, recheck and follow_up_overdue for one disease (BPHS 2017,
    SPEC 13.3)."""
    as_of = candidates.as_of
    nat = np.datetime64("NaT")
    controlled, reading_date = reading
    uncontrolled_now = controlled == 0.0
    last_followup = state[f"{disease}_last_followup_date"]
    # A new patient (a diagnosis with no follow-up since) is first taken into management; nothing is
    # "adjusted" or "overdue" before that first follow-up [SPEC 13.3].
    diagnosed = state[f"{disease}_diagnosis_date"]
    new_patient = managed & ~np.isnat(diagnosed) & (np.isnat(last_followup) | (last_followup < diagnosed))
    first = _plus_days(diagnosed, FIRST_FOLLOWUP_WITHIN_DAYS, as_of)
    _band2(candidates, FIRST_FOLLOWUP, new_patient, first, np.zeros(candidates.n), config, NO_TEST)
    following = managed & ~new_patient

    since_followup = np.isnat(last_followup) | ~(reading_date < last_followup)
    # A version-1 row has one uncontrolled_visits for both diseases: for a patient managed for both, it does
    # not apply to the disease whose reading at the last follow-up is controlled.
    row_counter = np.isnan(state[f"{disease}_followups_12m"]) & both_managed
    contradicted = row_counter & (controlled == 1.0) & (reading_date == last_followup)
    visits = np.where(contradicted, 0.0, state[f"{disease}_uncontrolled_visits"])
    streak_date = state[f"{disease}_uncontrolled_date"]
    complication = state[f"{disease}_complication_date"]
    # An open referral episode (sent, not yet returned) answers the refer: it is never listed twice [SPEC 13.3].
    referral_open = ~np.isnat(state[f"{disease}_referral_open_date"])
    refer = following & ~referral_open & ((visits >= REFER_AFTER_UNCONTROLLED_VISITS) | ~np.isnat(complication))
    refer_from = _newest(np.where(visits >= REFER_AFTER_UNCONTROLLED_VISITS, streak_date, nat), complication)
    _band2(candidates, REFER, refer, _plus_days(refer_from, RECHECK_WITHIN_DAYS, as_of), values, config, NO_TEST)

    sent = state[f"{disease}_referral_sent_date"]
    _band2(
        candidates,
        REFERRAL_FOLLOW_UP,
        ~np.isnat(sent),
        _plus_days(sent, REFERRAL_FOLLOW_UP_DAYS, as_of),
        np.zeros(candidates.n),
        config,
        NO_TEST,
    )

    # A reading since the last follow-up that is uncontrolled also calls for a recheck (version-1 rows hold
    # the latest reading without saying whether a follow-up took it); so does a first adverse reaction.
    current = uncontrolled_now & since_followup & fresh(reading_date, as_of, FOLLOW_UP_INTERVAL_DAYS)
    reaction = state[f"{disease}_adverse_date"]
    in_streak = ~referral_open & (visits >= 1)
    recheck = following & ~refer & ~referral_open & (in_streak | current | ~np.isnat(reaction))
    recheck_from = _newest(np.where(in_streak, streak_date, nat), np.where(current, reading_date, nat), reaction)
    recheck_due = _plus_days(recheck_from, RECHECK_WITHIN_DAYS, as_of)
    _band2(candidates, RECHECK, recheck, recheck_due, values, config, test)

    # BPHS counts face-to-face follow-ups: phone or online ones do not keep a patient in time [SPEC 13.3].
    last_seen = state[f"{disease}_last_face_to_face_date"]
    since = days_before(as_of, last_seen)
    overdue: np.ndarray = following & (np.isnan(since) | (since > FOLLOW_UP_INTERVAL_DAYS))
    base = np.where(np.isnat(last_seen), state[f"{disease}_registered_date"], last_seen)
    overdue_due = np.where(np.isnat(base), as_of, base + np.timedelta64(FOLLOW_UP_INTERVAL_DAYS, "D"))
    # The next follow-up date agreed at the newest follow-up (下次随访日期), when given, is the due date: due on
    # that day, overdue from the day after [SPEC 14.4].
    agreed = state[f"{disease}_next_followup_date"]
    has_agreed = ~np.isnat(agreed)
    overdue = np.where(has_agreed, following & (agreed < as_of), overdue)  # as_of is a day (datetime64[D])
    overdue_due = np.where(has_agreed, agreed, overdue_due)
    late = _late_days(overdue_due.astype("datetime64[D]"), as_of)
    score = np.where(np.isnat(last_seen) & np.isnat(last_followup), 99.0, late * 98.0 / OVERDUE_DAYS_COUNTED)
    candidates.add(OVERDUE, overdue, overdue_due, score, NO_TEST)


def _retire_stale_tasks(
    candidates: _Candidates, last_contact: np.ndarray, config: RiskConfig, test: np.ndarray | int
) -> None:
    """A task whose creating event is older than ``worklist.stale_task_days`` with nothing since becomes
    ``re_engage`` (重新联系并复测, band 3), due when it retired (SPEC 13.3)."""
    as_of = candidates.as_of
    keep_days = config.worklist.stale_task_days
    # Every retiring task at once, one column per code (one resident costs as little as a million per row).
    created = candidates.due_date[:, _RETIRING] - _CREATED_OFFSETS
    due = candidates.due[:, _RETIRING]
    old = due & (days_before(as_of, created) > keep_days)
    quiet = np.isnat(last_contact)[:, None] | ~(last_contact[:, None] > created)
    stale = old & quiet
    retired_on = np.fmax.reduce(  # the newest retirement; NaT where none retired (fmax skips NaT)
        np.where(stale, created + np.timedelta64(keep_days, "D"), np.datetime64("NaT")), axis=1
    ).astype("datetime64[D]")
    candidates.due[:, _RETIRING] = due & ~stale  # their dates, scores and tests are blanked by combine()
    engage = ~np.isnat(retired_on)
    score = _late_days(retired_on, as_of) * 98.0 / OVERDUE_DAYS_COUNTED
    candidates.add(RE_ENGAGE, engage, retired_on, score, test)


LAST_CONTACT_DATES = {
    "diabetes": ("fpg_date", "ogtt_date", "hba1c_date", "random_glucose_date"),
    "hypertension": ("bp_date",),
}
"""The results that answer a disease's task: anything recorded for that disease since it (SPEC 13.3)."""


def last_contact(state: Mapping[str, np.ndarray], disease: str) -> np.ndarray:
    """The newest date anything was recorded for the disease: its results, follow-ups, referrals, diagnosis."""
    dates = [state[name] for name in LAST_CONTACT_DATES[disease]]
    dates += [
        state[f"{disease}_{name}"]
        for name in ("last_followup_date", "referral_sent_date", "referral_returned_date", "diagnosis_date")
    ]
    return _newest(*(d.astype("datetime64[D]") for d in dates))


def _recheck_stale(
    candidates: _Candidates,
    stale_result: np.ndarray,
    emergency_stale: np.ndarray,
    config: RiskConfig,
    test: np.ndarray | int,
) -> None:
    """``recheck_stale`` (复测：既往异常结果已过期, band 2): an out-of-date abnormal result, due 14 days after the
    as-of date; an emergency-level reading past the look-back with no later reading, at the top of the band and
    due in 3 days (SPEC 13.1). Its severity comes from the action, never from the stale value."""
    as_of = candidates.as_of
    due = np.where(
        emergency_stale,
        as_of + np.timedelta64(RECHECK_STALE_EMERGENCY_DAYS, "D"),
        as_of + np.timedelta64(RECHECK_STALE_WITHIN_DAYS, "D"),
    ).astype("datetime64[D]")
    points = config.worklist.severity.action.get("recheck_stale", 0.0)
    candidates.add(RECHECK_STALE, stale_result | emergency_stale, due, np.where(emergency_stale, 99.0, points), test)


def diabetes_actions(
    facts: StateAsOf,
    tier: DiseaseTier,
    p: np.ndarray,
    *,
    cdrs: CdrsScore,
    guideline_high_risk: np.ndarray,
    glycaemia: GlycaemicStatus,
) -> tuple[_Candidates, np.ndarray, np.ndarray]:
    """Every diabetes action due, and when the next test or follow-up falls due.

    ``glycaemia`` is the glycaemic status of every latest result, fresh or not (the history), under the
    configured criteria.
    """
    columns, state, as_of, config = facts.columns, facts.state, facts.as_of, facts.config
    n = len(tier.tier)
    nat = np.datetime64("NaT")
    candidates = _Candidates(n, as_of)
    managed = facts.recorded("diabetes")
    fpg, ogtt, hba1c = state["fpg_mmol_l"], state["ogtt_2h_mmol_l"], state["hba1c_pct"]
    random_glucose = state["random_glucose_mmol_l"]
    lookback = config.worklist.emergency_lookback_days
    valid_days = config.tiers.glucose_result_valid_days
    pregnant = facts.pregnant

    # Band 1: a fasting or random glucose (never an OGTT), or emergency signs [BPHS 2017]; in pregnancy any
    # glucose above normal (a fasting >= 5.1 or OGTT-2h >= 8.5) [BPHS 2017; CDS 2020 gestational diabetes].
    fpg_recent = facts.fresh("fpg_date", lookback)
    random_recent = facts.fresh("random_glucose_date", lookback)
    fpg_emergency = fpg_recent & glucose_emergency(fpg, managed=managed)
    random_emergency = random_recent & glucose_emergency(random_glucose, managed=managed)
    pregnancy_fpg = pregnant & fpg_recent & (fpg >= FPG_PREGNANCY_ABOVE_NORMAL_MMOL_L)
    pregnancy_ogtt = pregnant & facts.fresh("ogtt_date", lookback) & (ogtt >= OGTT_2H_PREGNANCY_ABOVE_NORMAL_MMOL_L)
    signs = _happened_within(state["diabetes_emergency_date"], as_of, lookback)
    glucose_beyond = np.fmax(
        np.fmax(5 * (fpg - GLUCOSE_EMERGENCY_HIGH_MMOL_L), 20 * (GLUCOSE_EMERGENCY_LOW_MMOL_L - fpg)),
        np.fmax(
            5 * (random_glucose - GLUCOSE_EMERGENCY_HIGH_MMOL_L),
            20 * (GLUCOSE_EMERGENCY_LOW_MMOL_L - random_glucose),
        ),
    )
    emergency_date = _newest(
        np.where(fpg_emergency | pregnancy_fpg, state["fpg_date"], nat),
        np.where(pregnancy_ogtt, state["ogtt_date"], nat),
        np.where(random_emergency, state["random_glucose_date"], nat),
        np.where(signs, state["diabetes_emergency_date"], nat),
    )
    candidates.add(
        REFER_NOW,
        fpg_emergency | random_emergency | signs | pregnancy_fpg | pregnancy_ogtt,
        np.where(np.isnat(emergency_date), as_of, emergency_date),
        np.where(signs, EMERGENCY_SIGNS_SCORE, 50 + np.fmax(glucose_beyond, 0.0)),
        NO_TEST,
    )

    # Band 2: the fresh values behind the action (a stale result never makes a task urgent).
    severity = config.worklist.severity
    current = facts.fresh_glucose
    f_fpg, f_ogtt, f_hba1c = current["fpg_mmol_l"], current["ogtt_2h_mmol_l"], current["hba1c_pct"]
    f_random = facts.fresh_random_glucose
    high = (f_fpg >= FPG_HIGH_MMOL_L) | (f_random >= FPG_HIGH_MMOL_L) | (f_hba1c >= HBA1C_HIGH_PCT)
    diabetic = (f_fpg >= FPG_DIABETES_MMOL_L) | (f_ogtt >= OGTT_2H_DIABETES_MMOL_L) | (f_hba1c >= HBA1C_DIABETES_PCT)
    urgent_ogtt = f_ogtt >= OGTT_2H_URGENT_MMOL_L
    random_high = f_random >= RANDOM_GLUCOSE_DIABETES_MMOL_L
    values = np.where(high, severity.glucose_high, np.where(diabetic, severity.glucose_diabetic, 0.0))
    measured_chronic = (tier.tier == CHRONIC) & (tier.source == MEASUREMENT) & ~managed
    # An asymptomatic random glucose >= 11.1 is confirmed by a fasting glucose or HbA1c [CDS 2020].
    random_confirm = random_high & ~measured_chronic & ~managed
    # After a single OGTT-2h >= 11.1, a fasting glucose or HbA1c first (SPEC 13.1).
    fpg_diabetic = fpg >= FPG_DIABETES_MMOL_L
    repeat = np.where(fpg_diabetic, FPG, np.where(hba1c >= HBA1C_DIABETES_PCT, HBA1C, FPG_OR_HBA1C)).astype(np.int8)
    confirm_from = np.where(random_confirm, state["random_glucose_date"], state["diabetes_qualifying_date"])
    _band2(
        candidates,
        CONFIRM,
        measured_chronic | random_confirm,
        _plus_days(confirm_from, CONFIRM_WITHIN_DAYS, as_of),
        np.where(urgent_ogtt, 99.0, values),
        config,
        np.where(tier.confirmed, NO_TEST, np.where(random_confirm, FPG_OR_HBA1C, repeat)),
    )
    stale_result = ~managed & ~measured_chronic & facts.stale_diabetic_result
    emergency_stale = (~fpg_recent & (fpg >= GLUCOSE_EMERGENCY_HIGH_MMOL_L)) | (
        ~random_recent & (random_glucose >= GLUCOSE_EMERGENCY_HIGH_MMOL_L)
    )
    stale_test = np.where(fpg_diabetic, FPG, FPG_OR_HBA1C)
    _recheck_stale(candidates, stale_result, emergency_stale, config, stale_test)
    current_fpg = facts.fresh("fpg_date", valid_days)
    fresh_hba1c = np.where(facts.fresh("hba1c_date", valid_days), hba1c, np.nan)
    controlled = glucose_controlled(np.where(current_fpg, fpg, np.nan), fresh_hba1c, profile=config.control.profile)
    reading_date = (
        state["fpg_date"]
        if config.control.profile == "bphs2017"
        else _newest(state["fpg_date"], np.where(np.isnan(fresh_hba1c), nat, state["hba1c_date"]))
    )
    _managed(
        candidates,
        "diabetes",
        managed,
        state,
        (controlled, reading_date),
        managed & facts.recorded("hypertension"),
        values,
        config,
        FPG,
    )
    _retire_stale_tasks(candidates, last_contact(state, "diabetes"), config, FPG)

    # Band 4: screening (SPEC 5); not in pregnancy, nor beside a confirmation or recheck of the same results.
    screening = diabetes_screening(
        columns,
        state,
        as_of,
        config,
        prediabetes=glycaemia.ifg | glycaemia.igt | glycaemia.hba1c_prediabetes,
        high_risk=guideline_high_risk | (tier.tier >= HIGH_RISK),
        cdrs=cdrs,
    )
    tested = candidates.due[:, CONFIRM] | candidates.due[:, RECHECK_STALE]
    screen = ~managed & ~measured_chronic & ~tested & ~pregnant & (screening.due <= as_of)
    candidates.add(SCREEN, screen, screening.due, 98 * p[:, 2] + p[:, 1], screening.test)
    return candidates, _next_due(managed, state, "diabetes", screening.due), screening.interval_days


def hypertension_actions(
    facts: StateAsOf,
    tier: DiseaseTier,
    p: np.ndarray,
    *,
    guideline_high_risk: np.ndarray,
) -> tuple[_Candidates, np.ndarray, np.ndarray]:
    """Every hypertension action due, and when the next measurement or follow-up falls due."""
    columns, state, as_of, config = facts.columns, facts.state, facts.as_of, facts.config
    n = len(tier.tier)
    nat = np.datetime64("NaT")
    candidates = _Candidates(n, as_of)
    managed = facts.recorded("hypertension")
    diabetic = facts.recorded("diabetes")
    sbp, dbp = state["sbp_mmhg"], state["dbp_mmhg"]
    lookback = config.worklist.emergency_lookback_days
    pregnant = facts.pregnant

    # Band 1: BP >= 180/110 or emergency signs [BPHS 2017]; in pregnancy BP >= 140/90 (妊娠期高血压, 转诊).
    bp_recent = facts.fresh("bp_date", lookback)
    emergency_reading = bp_emergency(sbp, dbp)
    reading_emergency = bp_recent & emergency_reading
    pregnancy = pregnant & bp_recent & ((sbp >= SBP_HYPERTENSION_MMHG) | (dbp >= DBP_HYPERTENSION_MMHG))
    beyond = np.fmax(sbp - SBP_EMERGENCY_MMHG, 2 * (dbp - DBP_EMERGENCY_MMHG))
    pregnancy_beyond = np.fmax(sbp - SBP_HYPERTENSION_MMHG, 2 * (dbp - DBP_HYPERTENSION_MMHG))
    signs = _happened_within(state["hypertension_emergency_date"], as_of, lookback)
    emergency_date = _newest(
        np.where(reading_emergency | pregnancy, state["bp_date"], nat),
        np.where(signs, state["hypertension_emergency_date"], nat),
    )
    candidates.add(
        REFER_NOW,
        reading_emergency | signs | pregnancy,
        np.where(np.isnat(emergency_date), as_of, emergency_date),
        np.where(
            signs & ~reading_emergency,
            EMERGENCY_SIGNS_SCORE,
            np.where(reading_emergency, 50 + beyond, 40 + np.fmax(pregnancy_beyond, 0.0)),
        ),
        NO_TEST,
    )

    # Band 2, with the severity of the fresh reading only (a stale reading never raises it, SPEC 13.3).
    grade_points = np.array((0.0, *config.worklist.severity.bp_grade))
    current = facts.fresh_bp
    values = grade_points[bp_grade(current["sbp_mmhg"], current["dbp_mmhg"])]
    measured_chronic = (tier.tier == CHRONIC) & (tier.source == MEASUREMENT) & ~managed
    confirm_due = _plus_days(state["hypertension_qualifying_date"], CONFIRM_WITHIN_DAYS, as_of)
    _band2(candidates, CONFIRM, measured_chronic, confirm_due, values, config, np.where(tier.confirmed, NO_TEST, BP))
    stale_result = ~managed & ~measured_chronic & facts.stale_raised_bp
    emergency_stale = ~bp_recent & emergency_reading
    _recheck_stale(candidates, stale_result, emergency_stale, config, BP)
    controlled = bp_controlled(sbp, dbp, columns["age_years"], profile=config.control.profile, diabetic=diabetic)
    _managed(
        candidates,
        "hypertension",
        managed,
        state,
        (controlled, state["bp_date"]),
        managed & diabetic,
        values,
        config,
        BP,
    )
    _retire_stale_tasks(candidates, last_contact(state, "hypertension"), config, BP)

    screening = bp_screening(
        columns,
        state,
        as_of,
        config,
        high_risk_band=bphs_high_risk_band(sbp, dbp),
        high_risk=guideline_high_risk | (tier.tier >= HIGH_RISK),
    )
    tested = candidates.due[:, CONFIRM] | candidates.due[:, RECHECK_STALE]
    screen = ~managed & ~measured_chronic & ~tested & ~pregnant & (screening.due <= as_of)
    candidates.add(SCREEN, screen, screening.due, 98 * p[:, 2] + p[:, 1], BP)
    return candidates, _next_due(managed, state, "hypertension", screening.due), screening.interval_days


def _next_due(managed: np.ndarray, state: Mapping[str, np.ndarray], disease: str, screen_due: np.ndarray) -> np.ndarray:
    """When the next follow-up (managed) or screening test (not managed) falls due."""
    last = state[f"{disease}_last_followup_date"]
    followup_due = (last + np.timedelta64(FOLLOW_UP_INTERVAL_DAYS, "D")).astype("datetime64[D]")
    agreed = state[f"{disease}_next_followup_date"]
    followup_due = np.where(np.isnat(agreed), followup_due, agreed).astype("datetime64[D]")
    return np.where(managed, followup_due, screen_due).astype("datetime64[D]")


def combine(
    diabetes: tuple[_Candidates, np.ndarray, np.ndarray],
    hypertension: tuple[_Candidates, np.ndarray, np.ndarray],
    *,
    config: RiskConfig,
) -> DueActions:
    """Both diseases' actions as one (n, 2, len(ACTIONS)) set: overdue points added to the band-2 severities,
    scores clipped, and every action's date, score and test blanked where it is not due, each in one operation."""
    dm, dm_next, dm_interval = diabetes
    htn, htn_next, htn_interval = hypertension
    due = np.stack([dm.due, htn.due], axis=1)
    due_date = np.stack([dm.due_date, htn.due_date], axis=1)
    score = np.stack([dm.score, htn.score], axis=1)
    score[:, :, _OVERDUE_SCORED] += _overdue_points(due_date[:, :, _OVERDUE_SCORED], dm.as_of, config)
    next_due = np.where(np.isnat(dm_next) | (htn_next < dm_next), htn_next, dm_next)
    return DueActions(
        due=due,
        due_date=np.where(due, due_date, np.datetime64("NaT")).astype("datetime64[D]"),
        score=np.where(due, _clip(score), 0.0),
        test=np.where(due, np.stack([dm.test, htn.test], axis=1), NO_TEST).astype(np.int8),
        next_due=next_due.astype("datetime64[D]"),
        as_of=dm.as_of,
        screening_interval_days=np.stack([dm_interval, htn_interval], axis=1).astype(np.float64),
    )
