"""Guideline high-risk findings per criterion (SPEC section 4.4)."""

from __future__ import annotations

import numpy as np
import pytest

from riskmodel.rules.guidelines import diabetes_findings, glycaemic_status, hypertension_findings
from riskmodel.rules.guidelines.findings import guideline_high_risk
from tests.factories import columns_of


def _dm_found(profile="cds2020", cdrs=0, known=None, criteria="who", hba1c=True, **overrides):
    columns = columns_of(**{"age_years": 30, **overrides})  # below both profiles' age criterion
    status = glycaemic_status(
        columns["fpg_mmol_l"],
        columns["ogtt_2h_mmol_l"],
        columns["hba1c_pct"],
        criteria=criteria,
        use_hba1c_prediabetes=hba1c,
    )
    in_age = (columns["age_years"] >= 20) & (columns["age_years"] < 75)
    hypertension_known = None if known is None else np.array([known])
    return diabetes_findings(
        columns, status, np.array([cdrs]), cdrs_in_age=in_age, hypertension_known=hypertension_known, profile=profile
    )


def _dm(profile="cds2020", cdrs=0, **overrides):
    return {code for code, met in _dm_found(profile, cdrs, **overrides).items() if met[0]}


def _htn(**overrides):
    return {code for code, met in hypertension_findings(columns_of(**overrides)).items() if met[0]}


@pytest.mark.parametrize(
    ("overrides", "profile", "expected"),
    [
        ({"age_years": 39.9}, "cds2020", set()),
        ({"age_years": 40}, "cds2020", {"dm_age"}),
        ({"age_years": 35}, "cds2024", {"dm_age"}),
        ({"age_years": 34.9}, "cds2024", set()),
        ({"weight_kg": 61.5}, "cds2020", {"dm_overweight"}),  # BMI 24.0
        ({"waist_cm": 85}, "cds2020", {"dm_overweight"}),
        ({"waist_cm": 89, "sex": "M"}, "cds2020", set()),
        ({"physically_active": False}, "cds2020", {"dm_sedentary"}),
        ({"family_history_diabetes": True}, "cds2020", {"dm_family_history"}),
        ({"gdm_history": True}, "cds2020", {"dm_gdm_history"}),
        ({"sbp_mmhg": 140}, "cds2020", {"dm_raised_bp"}),  # one reading is not a diagnosis (SPEC 13.5)
        ({"on_antihypertensive": True}, "cds2020", {"dm_hypertension"}),
        ({"hdl_mmol_l": 0.91}, "cds2020", {"dm_dyslipidaemia"}),
        ({"hdl_mmol_l": 0.92}, "cds2020", set()),
        ({"hdl_mmol_l": 0.90}, "cds2024", set()),
        ({"hdl_mmol_l": 0.89}, "cds2024", {"dm_dyslipidaemia"}),
        ({"tg_mmol_l": 2.22}, "cds2020", {"dm_dyslipidaemia"}),
        ({"tg_mmol_l": 2.21}, "cds2020", set()),
        ({"fpg_mmol_l": 6.1}, "cds2020", {"dm_prediabetes"}),
        ({"fpg_mmol_l": 6.0}, "cds2020", set()),
        ({"hba1c_pct": 5.7}, "cds2020", {"dm_prediabetes_ada"}),  # HbA1c range switched on here: ADA's
        ({"hba1c_pct": 5.6}, "cds2020", set()),
        ({"ascvd_history": True}, "cds2020", {"dm_ascvd"}),
    ],
)
def test_diabetes_findings(overrides, profile, expected):
    assert _dm(profile=profile, **overrides) == expected


@pytest.mark.parametrize(
    ("overrides", "known", "expected"),
    [
        ({"sbp_mmhg": 139, "dbp_mmhg": 89}, None, set()),
        ({"sbp_mmhg": 140}, None, {"dm_raised_bp"}),
        ({"dbp_mmhg": 90}, None, {"dm_raised_bp"}),
        ({"sbp_mmhg": 140}, False, {"dm_raised_bp"}),
        ({"sbp_mmhg": 140}, True, {"dm_hypertension"}),  # recorded by events, or confirmed (SPEC 3)
        ({}, True, {"dm_hypertension"}),
        ({"on_antihypertensive": True}, None, {"dm_hypertension"}),
        ({"diagnosed_hypertension": True, "sbp_mmhg": 150}, False, {"dm_hypertension"}),
    ],
)
def test_hypertension_is_the_cds_criterion_only_when_known(overrides, known, expected):
    # CDS 2020: a history of hypertension or antihypertensive treatment; a raised reading alone is reported
    # (dm_raised_bp) but is not the criterion, so it does not make the guideline flag.
    found = _dm_found(known=known, **overrides)
    assert {code for code, met in found.items() if met[0]} == expected
    flag = guideline_high_risk(found, np.array([False]), "diabetes")
    assert bool(flag[0]) == ("dm_hypertension" in expected)


@pytest.mark.parametrize(
    ("criteria", "hba1c", "overrides", "expected"),
    [
        ("who", False, {"hba1c_pct": 6.0}, set()),
        ("who", True, {"hba1c_pct": 6.4}, {"dm_prediabetes_ada"}),
        ("who", True, {"hba1c_pct": 6.5}, set()),
        ("ada", False, {"fpg_mmol_l": 5.6}, {"dm_prediabetes_ada"}),  # ADA's IFG from 5.6
        ("ada", False, {"fpg_mmol_l": 5.5}, set()),
        ("ada", False, {"fpg_mmol_l": 6.1}, {"dm_prediabetes"}),  # WHO's IFG, the range CDS uses
        ("who", False, {"fpg_mmol_l": 5.6}, set()),
    ],
)
def test_prediabetes_is_split_by_the_source_of_its_range(criteria, hba1c, overrides, expected):
    found = _dm_found(criteria=criteria, hba1c=hba1c, **overrides)
    assert {code for code, met in found.items() if met[0]} == expected
    assert bool(guideline_high_risk(found, np.array([False]), "diabetes")[0]) == bool(expected)


@pytest.mark.parametrize(
    ("cdrs", "age", "found"),
    [(24, 30, set()), (25, 30, {"dm_cdrs"}), (25, 74.9, {"dm_cdrs"}), (25, 75, {"dm_cdrs_unvalidated"})],
)
def test_cdrs_finding_is_flagged_outside_ages_20_to_74(cdrs, age, found):
    # Zhou 2013: validated for ages 20-74; outside, shown and flagged (SPEC 3).
    assert _dm(cdrs=cdrs, age_years=age) & {"dm_cdrs", "dm_cdrs_unvalidated"} == found


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"sbp_mmhg": 130}, {"htn_bp_band", "htn_high_normal"}),
        ({"sbp_mmhg": 125}, {"htn_high_normal"}),
        ({"weight_kg": 61.5}, {"htn_overweight"}),
        ({"family_history_hypertension": True}, {"htn_family_history"}),
        ({"alcohol_excess": True}, {"htn_alcohol"}),
        ({"age_years": 54.9}, set()),
        ({"age_years": 55}, {"htn_age"}),
        ({"high_salt_diet": True}, {"htn_high_salt"}),
    ],
)
def test_hypertension_findings(overrides, expected):
    assert _htn(**overrides) == expected
