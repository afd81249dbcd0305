"""Tier precedence (record > fresh measurement > model), freshness, confirmation (SPEC section 3)."""

from __future__ import annotations

import numpy as np
import pytest

from riskmodel.records.history import row_state
from riskmodel.rules.as_of import StateAsOf
from riskmodel.rules.guidelines.cdrs import CdrsScore
from riskmodel.rules.tiers import (
    CHRONIC,
    HEALTHY,
    HIGH_RISK,
    MEASUREMENT,
    MODEL,
    RECORD,
    diabetes_tier,
    hypertension_tier,
    policy_tier,
)
from tests.factories import AS_OF, columns_of

DAY = np.datetime64(AS_OF, "D")


def _cdrs(total, age=45.0):
    return CdrsScore(
        points={}, total=np.array([total]), complete=np.array([True]), in_validated_age=np.array([20 <= age < 75])
    )


def _dm(config, model_tier=HEALTHY, cdrs=0, **overrides):
    columns = columns_of(**overrides)
    return diabetes_tier(
        StateAsOf(columns, row_state(columns), DAY, config),
        cdrs=_cdrs(cdrs, columns["age_years"][0]),
        model_tier=np.array([model_tier]),
    )


def _htn(config, model_tier=HEALTHY, **overrides):
    columns = columns_of(**overrides)
    return hypertension_tier(StateAsOf(columns, row_state(columns), DAY, config), model_tier=np.array([model_tier]))


def test_recorded_diagnosis_or_treatment_is_chronic_by_record(config):
    for flags in ({"diagnosed_diabetes": True}, {"on_glucose_lowering": True}):
        tier = _dm(config, fpg_mmol_l=5.0, **flags)
        assert (tier.tier[0], tier.source[0], tier.confirmed[0]) == (CHRONIC, RECORD, True)


@pytest.mark.parametrize(
    ("fpg", "hba1c", "tier", "confirmed"),
    [
        (7.0, 5.2, CHRONIC, False),
        (7.0, 6.5, CHRONIC, True),
        (6.1, 5.2, HIGH_RISK, False),
        (5.0, 5.7, HEALTHY, False),  # HbA1c 5.7-6.4 is prediabetes only where configured (ADA; SPEC 13.5)
        (6.0, 5.6, HEALTHY, False),
    ],
)
def test_fresh_glucose_decides_the_diabetes_tier(config, fpg, hba1c, tier, confirmed):
    result = _dm(config, model_tier=CHRONIC, fpg_mmol_l=fpg, hba1c_pct=hba1c)
    assert (result.tier[0], result.source[0], result.confirmed[0]) == (tier, MEASUREMENT, confirmed)


@pytest.mark.parametrize(
    ("glucose_date", "tier", "stale"), [("2025-07-01", 2, False), ("2025-06-30", 1, True), (None, 2, False)]
)
def test_freshness_boundary_is_result_valid_days(config, glucose_date, tier, stale):
    # 365 days before the as-of date still counts; 366 days does not; an undated result counts. A stale
    # diabetic-range FPG is not dropped: it keeps high_risk, source measurement, marked stale (SPEC 13.1).
    result = _dm(config, model_tier=HIGH_RISK, fpg_mmol_l=7.4, glucose_date=glucose_date, exam_date=None)
    assert (result.tier[0], result.source[0], bool(result.stale[0])) == (tier, MEASUREMENT, stale)


def test_no_result_leaves_the_tier_to_the_model(config):
    result = _dm(config, model_tier=CHRONIC, fpg_mmol_l=None, hba1c_pct=None)
    assert (result.tier[0], result.source[0]) == (CHRONIC, MODEL)


@pytest.mark.parametrize(
    ("cdrs", "age", "tier"),
    [
        (24, 45, HEALTHY),
        (25, 45, HIGH_RISK),
        (25, 74.9, HIGH_RISK),
        (25, 75, HEALTHY),
        (25, 19.9, HEALTHY),
        (30, 20, HIGH_RISK),
    ],
)
def test_cdrs_25_raises_healthy_to_high_risk_only_at_ages_20_to_74(config, cdrs, age, tier):
    # Zhou 2013: the score was derived and validated in ages 20-74; outside them it never raises the tier.
    assert _dm(config, cdrs=cdrs, age_years=max(age, 18)).tier[0] == (tier if age >= 18 else HEALTHY)


@pytest.mark.parametrize(
    ("sbp", "dbp", "tier"),
    [
        (129, 84, HEALTHY),
        (130, 70, HIGH_RISK),
        (120, 85, HIGH_RISK),
        (139, 89, HIGH_RISK),
        (140, 70, CHRONIC),
        (120, 90, CHRONIC),
    ],
)
def test_fresh_bp_decides_the_hypertension_tier(config, sbp, dbp, tier):
    result = _htn(config, model_tier=CHRONIC if tier == HEALTHY else HEALTHY, sbp_mmhg=sbp, dbp_mmhg=dbp)
    assert (result.tier[0], result.source[0]) == (tier, MEASUREMENT)
    assert not result.confirmed[0]  # one record never confirms hypertension (three visits needed)


@pytest.mark.parametrize(
    ("sbp", "dbp", "tier", "source", "stale"),
    [(150, 95, HIGH_RISK, MEASUREMENT, True), (139, 89, HEALTHY, MODEL, False)],
)
def test_a_stale_raised_bp_keeps_high_risk_a_stale_normal_one_leaves_it_to_the_model(
    config, sbp, dbp, tier, source, stale
):
    # SPEC 13.1: a stale BP >= 140/90 that no later reading answers keeps high_risk (measurement, stale).
    result = _htn(config, model_tier=HEALTHY, sbp_mmhg=sbp, dbp_mmhg=dbp, bp_date="2025-01-01")
    assert (result.tier[0], result.source[0], bool(result.stale[0])) == (tier, source, stale)


@pytest.mark.parametrize(
    ("p_hr", "p_c", "cut", "tier"),
    [
        (0.0, 0.5, None, HIGH_RISK),  # the model never makes anyone chronic (SPEC 3)
        (0.0, 0.99, None, HIGH_RISK),
        (0.5, 0.4999, None, HIGH_RISK),
        (0.25, 0.2499, None, HEALTHY),
        (0.25, 0.25, None, HIGH_RISK),
        (0.0, 0.08, 0.08, HIGH_RISK),  # the model's own screen_cut
        (0.0, 0.0799, 0.08, HEALTHY),
    ],
)
def test_probability_policy_at_its_thresholds(config, p_hr, p_c, cut, tier):
    assert policy_tier(np.array([p_hr]), np.array([p_c]), config, cut)[0] == tier


def test_cdrs_decides_over_the_models_high_risk(config):
    result = _dm(config, model_tier=HIGH_RISK, cdrs=30, fpg_mmol_l=None, hba1c_pct=None)
    assert (result.tier[0], result.source[0]) == (HIGH_RISK, MEASUREMENT)
