"""When a model reason words a value as raising risk (SPEC 6): the thresholds of the guideline each feature
cites, at the exact boundary, both sides.

- Chinese guidelines for the management of dyslipidemia in adults (2016): borderline high from TC 5.2,
  LDL-C 3.4, non-HDL-C 4.1, TG 1.7 mmol/L; low HDL-C below 1.0 mmol/L. (The CDS 2020 diabetes risk factor
  "dyslipidaemia", TG >= 2.22 mmol/L, is a different criterion: a TG of 2.0 is worded here, yet is not that
  finding.)
- BPHS 2017 hypertension high-risk band 130-139 / 85-89 mmHg: from 130 systolic or 85 diastolic.
- 2018 Chinese hypertension guideline: a pulse pressure of 60 mmHg or more is wide.
- Ashwell 2012: a waist-to-height ratio of 0.5 or more.
- CDS 2024: from age 35.
"""

from __future__ import annotations

import numpy as np
import pytest

from riskmodel.rules.guidelines.findings import TG_HIGH_MMOL_L
from riskmodel.rules.guidelines.lipids import TG_BORDERLINE_HIGH_MMOL_L
from riskmodel.worklist.explain import describe_risk
from riskmodel.worklist.resident_view import ResidentView


def _view(lang: str = "en", **values: float) -> ResidentView:
    base = {"tg_mmol_l": 1.0, "hdl_mmol_l": 1.5, "waist_cut": 90.0, "waist_cm": 80.0, "is_male": 1.0}
    dates = {"exam": np.datetime64("2026-05-01", "D"), "bp": np.datetime64("2026-05-01", "D")}
    return ResidentView({**base, **values}, dates, np.datetime64("2026-07-01", "D"), {}, lang)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("feature", "below", "at"),
    [
        ("tc_mmol_l", 5.19, 5.2),
        ("ldl_mmol_l", 3.39, 3.4),
        ("non_hdl_mmol_l", 4.09, 4.1),
        ("tg_mmol_l", 1.69, 1.7),
        ("sbp_mmhg", 129, 130),
        ("dbp_mmhg", 84, 85),
        ("pulse_pressure_mmhg", 59, 60),
        ("waist_to_height", 0.49, 0.5),
        ("age_years", 34, 35),
    ],
)
def test_a_value_raises_risk_from_its_guideline_threshold_on(feature, below, at):
    assert describe_risk(feature, below, _view())[0] is None
    assert describe_risk(feature, at, _view())[0] is not None


def test_a_low_hdl_is_below_one():
    assert describe_risk("hdl_mmol_l", 1.0, _view())[0] is None
    assert describe_risk("hdl_mmol_l", 0.99, _view())[0] == "HDL cholesterol 0.99 mmol/L (2026-05-01)"


def test_the_lipid_guideline_and_the_cds_finding_are_two_triglyceride_thresholds():
    assert (TG_BORDERLINE_HIGH_MMOL_L, TG_HIGH_MMOL_L) == (1.7, 2.22)
    assert describe_risk("tg_mmol_l", 2.0, _view())[0] == "triglycerides 2.00 mmol/L (2026-05-01)"
    assert describe_risk("tg_mmol_l", 2.0, _view("zh"))[0] == "甘油三酯 2.00 mmol/L（2026-05-01）"
