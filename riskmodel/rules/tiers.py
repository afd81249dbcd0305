"""Tiers per disease and overall (SPEC section 3).

Order of precedence for each disease: a recorded diagnosis or treatment (``record``), else a fresh result
in the record (``measurement``), else the model's probabilities under the configured policy (``model``).
The model never overrides a recorded diagnosis or a fresh result. A CDRS >= 25 raises a diabetes tier
of ``healthy`` to ``high_risk`` (source ``measurement``: it is computed from measured values).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from riskmodel.config import RiskConfig
from riskmodel.records.schema import TIER_SOURCES, TIERS
from riskmodel.rules.guidelines.blood_pressure import HYPERTENSION, bp_category, bphs_high_risk_band
from riskmodel.rules.guidelines.cdrs import CDRS_HIGH_RISK_POINTS
from riskmodel.rules.guidelines.glycaemia import DIABETES, NORMAL, PREDIABETES, glycaemic_status
from riskmodel.vectorised import MISSING, first_match

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
        For a chronic tier: True by record, or by two different qualifying tests; else False.
    """

    tier: np.ndarray
    source: np.ndarray
    confirmed: np.ndarray

    def tier_names(self) -> np.ndarray:
        return np.where(self.tier >= 0, TIER_NAMES[np.clip(self.tier, 0, 2)], MISSING)

    def source_names(self) -> np.ndarray:
        return SOURCE_NAMES[self.source]


def fresh(dates: np.ndarray, as_of: np.datetime64, valid_days: int) -> np.ndarray:
    """A result counts if taken within ``valid_days`` before the as-of date, or undated (SPEC section 3)."""
    with np.errstate(invalid="ignore"):
        return np.isnat(dates) | (days_before(as_of, dates) <= valid_days)


def days_before(as_of: np.datetime64, dates: np.ndarray) -> np.ndarray:
    """Days from each date to the as-of date (NaN where undated)."""
    age = (as_of - dates).astype("timedelta64[D]").astype(np.float64)
    age[np.isnat(dates)] = np.nan
    return age


def fresh_values(
    columns: Mapping[str, np.ndarray], names: tuple[str, ...], date_column: str, as_of: np.datetime64, valid_days: int
) -> dict[str, np.ndarray]:
    """The named results with stale ones blanked to NaN."""
    keep = fresh(columns[date_column], as_of, valid_days)
    return {name: np.where(keep, columns[name], np.nan) for name in names}


def glycaemic_tier(category: np.ndarray) -> np.ndarray:
    """Tier by glycaemic category (SPEC 3): diabetes range chronic, prediabetes high_risk, normal healthy,
    no result undecided."""
    return first_match(
        [category == DIABETES, category == PREDIABETES, category == NORMAL],
        [CHRONIC, HIGH_RISK, HEALTHY],
        default=UNDECIDED,
    ).astype(np.int8)


def bp_tier(sbp_mmhg: np.ndarray, dbp_mmhg: np.ndarray) -> np.ndarray:
    """Tier by BP (SPEC 3): >= 140/90 chronic, the BPHS band 130-139/85-89 high_risk, lower healthy,
    no reading undecided."""
    category = bp_category(sbp_mmhg, dbp_mmhg)
    return first_match(
        [category == HYPERTENSION, bphs_high_risk_band(sbp_mmhg, dbp_mmhg), category >= 0],
        [CHRONIC, HIGH_RISK, HEALTHY],
        default=UNDECIDED,
    ).astype(np.int8)


def policy_tier(p_high_risk: np.ndarray, p_chronic: np.ndarray, config: RiskConfig) -> np.ndarray:
    """The model's tier: chronic at P(chronic) >= chronic_threshold, else high_risk at
    P(high_risk) + P(chronic) >= high_risk_threshold, else healthy (config ``tiers``)."""
    cut = config.tiers
    return np.where(
        p_chronic >= cut.chronic_threshold,
        CHRONIC,
        np.where(p_high_risk + p_chronic >= cut.high_risk_threshold, HIGH_RISK, HEALTHY),
    ).astype(np.int8)


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


def diabetes_tier(
    columns: Mapping[str, np.ndarray],
    as_of: np.datetime64,
    config: RiskConfig,
    *,
    cdrs_total: np.ndarray,
    model_tier: np.ndarray | None = None,
) -> DiseaseTier:
    """Diabetes tier (SPEC section 3, diabetes).

    References
    ----------
    CDS 2020 diagnostic criteria; an asymptomatic person needs two qualifying results to confirm.
    """
    record = (columns["diagnosed_diabetes"] == 1.0) | (columns["on_glucose_lowering"] == 1.0)
    results = fresh_values(
        columns,
        ("fpg_mmol_l", "ogtt_2h_mmol_l", "hba1c_pct"),
        "glucose_date",
        as_of,
        config.tiers.glucose_result_valid_days,
    )
    status = glycaemic_status(
        results["fpg_mmol_l"],
        results["ogtt_2h_mmol_l"],
        results["hba1c_pct"],
        criteria=config.glycaemia.criteria,
        use_hba1c_prediabetes=config.glycaemia.hba1c_prediabetes,
    )
    combined = _combine(record, glycaemic_tier(status.category), model_tier, status.diabetic_tests >= 2)
    raise_by_cdrs = (combined.tier == HEALTHY) & (cdrs_total >= CDRS_HIGH_RISK_POINTS)
    return DiseaseTier(
        tier=np.where(raise_by_cdrs, HIGH_RISK, combined.tier).astype(np.int8),
        source=np.where(raise_by_cdrs, MEASUREMENT, combined.source).astype(np.int8),
        confirmed=combined.confirmed,
    )


def hypertension_tier(
    columns: Mapping[str, np.ndarray],
    as_of: np.datetime64,
    config: RiskConfig,
    *,
    model_tier: np.ndarray | None = None,
) -> DiseaseTier:
    """Hypertension tier (SPEC section 3, hypertension).

    A measurement-based chronic tier is never confirmed from one record: the guideline diagnosis needs
    three visits on separate days (Chinese hypertension guideline 2018).
    """
    record = (columns["diagnosed_hypertension"] == 1.0) | (columns["on_antihypertensive"] == 1.0)
    bp = fresh_values(columns, ("sbp_mmhg", "dbp_mmhg"), "bp_date", as_of, config.tiers.bp_result_valid_days)
    measured = bp_tier(bp["sbp_mmhg"], bp["dbp_mmhg"])
    return _combine(record, measured, model_tier, np.zeros(len(record), dtype=bool))


def overall_tier(*tiers: np.ndarray) -> np.ndarray:
    """The highest tier over the diseases (chronic > high_risk > healthy)."""
    return np.maximum.reduce(tiers)
