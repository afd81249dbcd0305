"""Guideline high-risk findings per criterion (SPEC section 4.4)."""

from __future__ import annotations

import numpy as np
import pytest

from riskmodel.rules.guidelines import diabetes_findings, glycaemic_status, hypertension_findings
from tests.factories import columns_of


def _dm(profile="cds2020", cdrs=0, **overrides):
    columns = columns_of(**{"age_years": 30, **overrides})  # below both profiles' age criterion
    status = glycaemic_status(columns["fpg_mmol_l"], columns["ogtt_2h_mmol_l"], columns["hba1c_pct"])
    in_age = (columns["age_years"] >= 20) & (columns["age_years"] < 75)
    found = diabetes_findings(columns, status, np.array([cdrs]), cdrs_in_age=in_age, profile=profile)
    return {code for code, met in found.items() if met[0]}


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
        ({"sbp_mmhg": 140}, "cds2020", {"dm_hypertension"}),
        ({"on_antihypertensive": True}, "cds2020", {"dm_hypertension"}),
        ({"hdl_mmol_l": 0.91}, "cds2020", {"dm_dyslipidaemia"}),
        ({"hdl_mmol_l": 0.92}, "cds2020", set()),
        ({"hdl_mmol_l": 0.90}, "cds2024", set()),
        ({"hdl_mmol_l": 0.89}, "cds2024", {"dm_dyslipidaemia"}),
        ({"tg_mmol_l": 2.22}, "cds2020", {"dm_dyslipidaemia"}),
        ({"tg_mmol_l": 2.21}, "cds2020", set()),
        ({"fpg_mmol_l": 6.1}, "cds2020", {"dm_prediabetes"}),
        ({"ascvd_history": True}, "cds2020", {"dm_ascvd"}),
    ],
)
def test_diabetes_findings(overrides, profile, expected):
    assert _dm(profile=profile, **overrides) == expected


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
