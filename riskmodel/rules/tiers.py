"""Tiers per disease and overall (SPEC section 3).

Order of precedence for each disease: a recorded diagnosis or treatment (``record``), else a fresh result
in the record (``measurement``), else the model's probabilities under the configured policy (``model``).
The model never overrides a recorded diagnosis or a fresh result, and never makes anyone chronic. A CDRS
>= 25 at ages 20-74 raises a diabetes tier of ``healthy`` to ``high_risk`` (source ``measurement``: it is
computed from measured values); outside those ages it is shown and flagged, never raising the tier.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from riskmodel.config import RiskConfig
from riskmodel.records.schema import TIER_SOURCES, TIERS
from riskmodel.rules.guidelines.blood_pressure import (
    DBP_HYPERTENSION_MMHG,
    HYPERTENSION,
    SBP_HYPERTENSION_MMHG,
    bp_category,
    bphs_high_risk_band,
)
from riskmodel.rules.guidelines.cdrs import CDRS_HIGH_RISK_POINTS, CdrsScore
from riskmodel.rules.guidelines.glycaemia import (
    DIABETES,
    FPG_DIABETES_MMOL_L,
    HBA1C_DIABETES_PCT,
    NORMAL,
    OGTT_2H_DIABETES_MMOL_L,
    PREDIABETES,
    RANDOM_GLUCOSE_DIABETES_MMOL_L,
    glycaemic_status,
)
from riskmodel.vectorised import MISSING, first_match

if TYPE_CHECKING:
    from riskmodel.rules.as_of import StateAsOf

UNDECIDED, HEALTHY, HIGH_RISK, CHRONIC = -1, 0, 1, 2
RECORD, MEASUREMENT, MODEL = 0, 1, 2
TIER_NAMES = np.array(TIERS, dtype=object)
SOURCE_NAMES = np.array(TIER_SOURCES, dtype=object)


@dataclass(frozen=True)
class DiseaseTier:
    """Tier of one disease per resident.

    Attributes
    ----------
    tier
        ``0`` healthy, ``1`` high_risk, ``2`` chronic (``-1`` undecided: no model probabilities given).
    source
        ``0`` record, ``1`` measurement, ``2`` model.
    confirmed
        For a chronic tier: True by record, or by the confirming results of SPEC 3; else False.
    stale
        The tier is held by an abnormal result older than ``result_valid_days`` that no later result of the
        same measure answers (SPEC 13.1), or by a completed confirmation whose newest result is that old.
    by_score
        The diabetes tier was raised by the CDRS questionnaire score (shown as 风险评分, never 检测结果).
    """

    tier: np.ndarray
    source: np.ndarray
    confirmed: np.ndarray
    stale: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    by_score: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def __post_init__(self) -> None:
        for name in ("stale", "by_score"):
            if len(getattr(self, name)) != len(self.tier):
                object.__setattr__(self, name, np.zeros(len(self.tier), dtype=bool))

    def tier_names(self) -> np.ndarray:
        return np.where(self.tier >= 0, TIER_NAMES[np.clip(self.tier, 0, 2)], MISSING)

    def source_names(self) -> np.ndarray:
        return SOURCE_NAMES[self.source]


def fresh(dates: np.ndarray, as_of: np.datetime64, valid_days: int) -> np.ndarray:
    """A result counts if taken within ``valid_days`` before the as-of date, or undated (SPEC section 3)."""
    # Whole days as in days_before, compared as timedeltas (NaT compares False): no float round trip; a whole
    # number of days is <= valid_days exactly when it is <= its floor.
    limit = np.timedelta64(math.floor(valid_days), "D")
    return np.isnat(dates) | ((as_of - dates).astype("timedelta64[D]", copy=False) <= limit)


FreshOf = Callable[[str, int], np.ndarray]
"""``fresh_of(date_column, valid_days)``: :func:`fresh` of one of the state's date columns (e.g. asked once per
assessment, :meth:`riskmodel.rules.as_of.StateAsOf.fresh`)."""


def _fresh_of(state: Mapping[str, np.ndarray], as_of: np.datetime64, fresh_of: FreshOf | None) -> FreshOf:
    return fresh_of or (lambda date, valid_days: fresh(state[date], as_of, valid_days))


def days_before(as_of: np.datetime64, dates: np.ndarray) -> np.ndarray:
    """Days from each date to the as-of date (NaN where undated)."""
    age = (as_of - dates).astype("timedelta64[D]", copy=False).astype(np.float64)
    age[np.isnat(dates)] = np.nan
    return age


_TIER_BY_GLYCAEMIA = np.full(DIABETES + 2, UNDECIDED, dtype=np.int8)
_TIER_BY_GLYCAEMIA[[DIABETES + 1, PREDIABETES + 1, NORMAL + 1]] = (CHRONIC, HIGH_RISK, HEALTHY)
"""The tier of each glycaemic category, indexed by category + 1 (no result, ``-1``, is undecided)."""


def glycaemic_tier(category: np.ndarray) -> np.ndarray:
    """Tier by glycaemic category (SPEC 3): diabetes range chronic, prediabetes high_risk, normal healthy,
    no result undecided (one table look-up per resident)."""
    return _TIER_BY_GLYCAEMIA[category + 1]


def bp_tier(sbp_mmhg: np.ndarray, dbp_mmhg: np.ndarray) -> np.ndarray:
    """Tier by BP (SPEC 3): >= 140/90 chronic, the BPHS band 130-139/85-89 high_risk, lower healthy,
    no reading undecided."""
    category = bp_category(sbp_mmhg, dbp_mmhg)
    return first_match(
        [category == HYPERTENSION, bphs_high_risk_band(sbp_mmhg, dbp_mmhg), category >= 0],
        [CHRONIC, HIGH_RISK, HEALTHY],
        default=UNDECIDED,
    ).astype(np.int8)


def policy_tier(
    p_high_risk: np.ndarray, p_chronic: np.ndarray, config: RiskConfig, screen_cut: float | None = None
) -> np.ndarray:
    """The model's tier (SPEC 3): high_risk at P(chronic) >= ``screen_cut`` or P(high_risk) + P(chronic) >=
    ``high_risk_threshold``, else healthy. The model never makes anyone chronic: that takes a record or a
    measurement. ``screen_cut`` is the model's own (chosen at training); the config's when it carries none."""
    cut = config.tiers.screen_cut if screen_cut is None else screen_cut
    high = (p_chronic >= cut) | (p_high_risk + p_chronic >= config.tiers.high_risk_threshold)
    return np.where(high, HIGH_RISK, HEALTHY).astype(np.int8)


def _combine(
    record: np.ndarray, measured_tier: np.ndarray, model_tier: np.ndarray | None, confirmed_measurement: np.ndarray
) -> DiseaseTier:
    measured = measured_tier != UNDECIDED
    tier = np.where(record, CHRONIC, measured_tier)
    if model_tier is not None:
        tier = np.where(record | measured, tier, model_tier)
    source = first_match([record, measured], [RECORD, MEASUREMENT], default=MODEL).astype(np.int8)
    confirmed = record | ((tier == CHRONIC) & (source == MEASUREMENT) & confirmed_measurement)
    return DiseaseTier(tier=tier.astype(np.int8), source=source, confirmed=confirmed)


DIABETES_CONFIRMING_RESULTS = 2
"""Without symptoms, a diabetes diagnosis needs a second qualifying result on another day, or two different
tests from one sample [CDS2020]."""
HYPERTENSION_CONFIRMING_DAYS = 3
"""Hypertension is diagnosed on three readings >= 140/90 on different days, off treatment [CHG2018; the 2025
primary-care guideline: three non-same-day readings within four weeks]."""


def fresh_glucose(
    state: Mapping[str, np.ndarray], as_of: np.datetime64, valid_days: int, *, fresh_of: FreshOf | None = None
) -> dict[str, np.ndarray]:
    """The latest FPG, OGTT-2h and HbA1c with stale ones blanked to NaN, each judged by its own date."""
    judge = _fresh_of(state, as_of, fresh_of)
    return {
        value: np.where(judge(date, valid_days), state[value], np.nan)
        for value, date in (("fpg_mmol_l", "fpg_date"), ("ogtt_2h_mmol_l", "ogtt_date"), ("hba1c_pct", "hba1c_date"))
    }


def fresh_bp(
    state: Mapping[str, np.ndarray], as_of: np.datetime64, valid_days: int, *, fresh_of: FreshOf | None = None
) -> dict[str, np.ndarray]:
    """The latest BP, blanked to NaN when stale."""
    keep = _fresh_of(state, as_of, fresh_of)("bp_date", valid_days)
    return {name: np.where(keep, state[name], np.nan) for name in ("sbp_mmhg", "dbp_mmhg")}


PREGNANCY_DAYS = 280
"""A pregnancy recorded at an event is taken to last at most 40 weeks from it."""
DIABETES_STALE_THRESHOLDS = (
    ("fpg_mmol_l", "fpg_date", FPG_DIABETES_MMOL_L),
    ("ogtt_2h_mmol_l", "ogtt_date", OGTT_2H_DIABETES_MMOL_L),
    ("hba1c_pct", "hba1c_date", HBA1C_DIABETES_PCT),
    ("random_glucose_mmol_l", "random_glucose_date", RANDOM_GLUCOSE_DIABETES_MMOL_L),
)
"""The diabetic-range results that stay visible when stale (SPEC 13.1): each measure's newest value, so no later
result of the same measure has answered it [CDS2020 thresholds]."""


def pregnant_now(state: Mapping[str, np.ndarray], as_of: np.datetime64) -> np.ndarray:
    """Pregnant as of the date: the newest event that says so (within 40 weeks), else the row (SPEC 13.4)."""
    said = state["pregnant"] == 1.0
    dated = ~np.isnat(state["pregnant_date"])
    recent = days_before(as_of, state["pregnant_date"]) <= PREGNANCY_DAYS
    return said & (~dated | recent)


def stale_diabetic_result(
    state: Mapping[str, np.ndarray], as_of: np.datetime64, valid_days: int, *, fresh_of: FreshOf | None = None
) -> np.ndarray:
    """A diabetic-range result (FPG, OGTT-2h, HbA1c, random glucose) older than ``valid_days`` that is still its
    measure's newest (SPEC 13.1)."""
    judge = _fresh_of(state, as_of, fresh_of)
    out = np.zeros(len(state["fpg_mmol_l"]), dtype=bool)
    for value, date, threshold in DIABETES_STALE_THRESHOLDS:
        out |= (state[value] >= threshold) & ~judge(date, valid_days)
    return out


def stale_raised_bp(
    state: Mapping[str, np.ndarray], as_of: np.datetime64, valid_days: int, *, fresh_of: FreshOf | None = None
) -> np.ndarray:
    """The newest BP is >= 140/90 and older than ``valid_days`` (SPEC 13.1)."""
    raised = (state["sbp_mmhg"] >= SBP_HYPERTENSION_MMHG) | (state["dbp_mmhg"] >= DBP_HYPERTENSION_MMHG)
    return raised & ~_fresh_of(state, as_of, fresh_of)("bp_date", valid_days)


def fresh_random_glucose(
    state: Mapping[str, np.ndarray], as_of: np.datetime64, valid_days: int, *, fresh_of: FreshOf | None = None
) -> np.ndarray:
    """The newest random glucose, blanked to NaN when stale."""
    keep = _fresh_of(state, as_of, fresh_of)("random_glucose_date", valid_days)
    return np.where(keep, state["random_glucose_mmol_l"], np.nan)


def _hold(combined: DiseaseTier, stands: np.ndarray, stale_result: np.ndarray, newest_stale: np.ndarray) -> DiseaseTier:
    """What the history says is never lost (SPEC 13.1-13.2): a completed confirmation keeps a measured chronic
    tier against a later normal reading; a stale abnormal result keeps at least high_risk (source measurement)."""
    open_tier = combined.source != RECORD
    confirmed_chronic = open_tier & stands
    tier = np.where(confirmed_chronic, CHRONIC, combined.tier)
    source = np.where(confirmed_chronic, MEASUREMENT, combined.source)
    held = open_tier & ~confirmed_chronic & stale_result & ((tier < HIGH_RISK) | (source == MODEL))
    tier = np.where(held, np.maximum(tier, HIGH_RISK), tier)
    source = np.where(held, MEASUREMENT, source)
    stale = held | (confirmed_chronic & newest_stale)
    return DiseaseTier(
        tier=tier.astype(np.int8),
        source=source.astype(np.int8),
        confirmed=combined.confirmed | confirmed_chronic,
        stale=stale,
        by_score=np.zeros(len(tier), dtype=bool),
    )


def diabetes_tier(
    facts: StateAsOf,
    *,
    cdrs: CdrsScore,
    model_tier: np.ndarray | None = None,
) -> DiseaseTier:
    """Diabetes tier (SPEC section 3, diabetes, and 13.1-13.4).

    A CDRS >= 25 raises ``healthy`` to ``high_risk`` only within the validated ages 20-74 [Zhou2013]. A fresh
    random glucose >= 11.1 is a diagnostic result with typical symptoms; without them it makes ``high_risk``
    (measurement) pending a fasting glucose or HbA1c [CDS2020]. A completed confirmation stands; a stale
    diabetic-range result keeps ``high_risk`` (SPEC 13.1-13.2). A pregnant resident gets no model-based tier.

    References
    ----------
    CDS 2020 diagnostic criteria; an asymptomatic person needs two qualifying results to confirm.
    """
    state, config = facts.state, facts.config
    valid_days = config.tiers.glucose_result_valid_days
    record = facts.recorded("diabetes")
    results = facts.fresh_glucose
    status = glycaemic_status(
        results["fpg_mmol_l"],
        results["ogtt_2h_mmol_l"],
        results["hba1c_pct"],
        criteria=config.glycaemia.criteria,
        use_hba1c_prediabetes=config.glycaemia.hba1c_prediabetes,
    )
    measured = glycaemic_tier(status.category)
    random_high = facts.fresh_random_glucose >= RANDOM_GLUCOSE_DIABETES_MMOL_L
    symptomatic = random_high & (state["random_glucose_symptoms"] > 0)
    measured = np.where(symptomatic, CHRONIC, measured)
    measured = np.where(random_high & ~symptomatic, np.maximum(measured, HIGH_RISK), measured).astype(np.int8)
    pregnant = facts.pregnant
    if model_tier is not None:
        model_tier = np.where(pregnant, HEALTHY, model_tier).astype(np.int8)
    confirmed = state["diabetes_confirmations"] >= DIABETES_CONFIRMING_RESULTS
    combined = _hold(
        _combine(record, measured, model_tier, confirmed),
        confirmed,
        facts.stale_diabetic_result,
        ~facts.fresh("diabetes_qualifying_date", valid_days),
    )
    # CDRS >= 25 is a rule on measured values (SPEC 3): it decides high_risk over a healthy tier or the model's.
    undecided = (combined.tier == HEALTHY) | (combined.source == MODEL)
    raise_by_cdrs = undecided & (cdrs.total >= CDRS_HIGH_RISK_POINTS) & cdrs.in_validated_age & ~pregnant
    return DiseaseTier(
        tier=np.where(raise_by_cdrs, np.maximum(combined.tier, HIGH_RISK), combined.tier).astype(np.int8),
        source=np.where(raise_by_cdrs, MEASUREMENT, combined.source).astype(np.int8),
        confirmed=combined.confirmed,
        stale=combined.stale,
        by_score=raise_by_cdrs,
    )


def hypertension_tier(facts: StateAsOf, *, model_tier: np.ndarray | None = None) -> DiseaseTier:
    """Hypertension tier (SPEC section 3, hypertension, and 13.1-13.4).

    A measured chronic tier is confirmed by three readings >= 140/90 on different days within
    ``tiers.htn_confirmation_window_days`` (counted in the state), never by one record; once completed the
    confirmation stands against a later normal reading, and a stale raised BP keeps ``high_risk``.
    """
    valid_days = facts.config.tiers.bp_result_valid_days
    record = facts.recorded("hypertension")
    bp = facts.fresh_bp
    measured = bp_tier(bp["sbp_mmhg"], bp["dbp_mmhg"])
    if model_tier is not None:
        model_tier = np.where(facts.pregnant, HEALTHY, model_tier).astype(np.int8)
    confirmed = facts.state["hypertension_confirmations"] >= HYPERTENSION_CONFIRMING_DAYS
    return _hold(
        _combine(record, measured, model_tier, confirmed),
        confirmed,
        facts.stale_raised_bp,
        ~facts.fresh("hypertension_qualifying_date", valid_days),
    )


def overall_tier(*tiers: np.ndarray) -> np.ndarray:
    """The highest tier over the diseases (chronic > high_risk > healthy)."""
    return np.maximum.reduce(tiers)
