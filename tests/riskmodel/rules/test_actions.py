"""Actions, due dates and priorities (SPEC sections 4.5, 5 and 6)."""

from __future__ import annotations

import numpy as np
import pytest

from riskmodel.rules.actions import ACTION_NAMES, diabetes_action, hypertension_action, resident_action
from riskmodel.rules.tiers import HEALTHY, diabetes_tier, hypertension_tier
from riskmodel.worklist.entries import select_entries
from tests.factories import AS_OF, columns_of

DAY = np.datetime64(AS_OF, "D")


def _action(config, p_chronic=0.1, **overrides):
    columns = columns_of(**overrides)
    p = np.array([[1 - p_chronic - 0.1, 0.1, p_chronic]])
    dm_tier = diabetes_tier(columns, DAY, config, cdrs_total=np.array([0]), model_tier=np.array([HEALTHY]))
    htn_tier = hypertension_tier(columns, DAY, config, model_tier=np.array([HEALTHY]))
    dm = diabetes_action(columns, dm_tier, p, DAY, config)
    htn = hypertension_action(columns, htn_tier, p, DAY, config)
    combined = resident_action(dm, htn)
    return combined.action[0], str(combined.due[0]), float(combined.priority[0]), combined.tests[0]


RECENT = {"bp_date": "2026-06-20", "glucose_date": "2026-06-20"}
MANAGED_HTN = {
    "diagnosed_hypertension": True,
    "on_antihypertensive": True,
    "last_followup_date": "2026-06-20",
    "uncontrolled_visits": 0,
    "sbp_mmhg": 128,
    "dbp_mmhg": 80,
    **RECENT,
}


@pytest.mark.parametrize(
    ("overrides", "action"),
    [
        ({"sbp_mmhg": 179, "dbp_mmhg": 100, **RECENT}, "confirm_diagnosis"),
        ({"sbp_mmhg": 180, "dbp_mmhg": 100, **RECENT}, "refer_now"),
        ({"sbp_mmhg": 170, "dbp_mmhg": 110, **RECENT}, "refer_now"),
        ({"fpg_mmol_l": 16.7, **RECENT}, "refer_now"),
        ({"fpg_mmol_l": 3.9, "on_glucose_lowering": True, "last_followup_date": "2026-06-20", **RECENT}, "refer_now"),
        ({"fpg_mmol_l": 3.9, **RECENT}, "none"),  # the low bound is for managed patients (hypoglycaemia on treatment)
        ({"fpg_mmol_l": 4.0, **RECENT}, "none"),
        ({"sbp_mmhg": 185, "dbp_mmhg": 100, "bp_date": "2026-05-31"}, "confirm_diagnosis"),  # older than the look-back
    ],
)
def test_refer_now_on_recent_emergency_values(config, overrides, action):
    assert _action(config, **overrides)[0] == action


def test_unconfirmed_measurement_chronic_is_recalled_within_14_days(config):
    action, due, _, tests = _action(config, fpg_mmol_l=7.2, hba1c_pct=5.5)
    assert (action, due, tests) == ("confirm_diagnosis", "2026-07-15", "HbA1c")


@pytest.mark.parametrize(("visits", "action"), [(0, "none"), (1, "recheck"), (2, "refer"), (3, "refer")])
def test_uncontrolled_streak(config, visits, action):
    assert _action(config, **{**MANAGED_HTN, "uncontrolled_visits": visits})[0] == action


@pytest.mark.parametrize(
    ("sbp", "age", "action"), [(139, 50, "none"), (140, 50, "recheck"), (149, 65, "none"), (150, 65, "recheck")]
)
def test_recheck_when_latest_values_uncontrolled(config, sbp, age, action):
    assert _action(config, **{**MANAGED_HTN, "sbp_mmhg": sbp, "age_years": age})[0] == action


@pytest.mark.parametrize(
    ("followup", "action", "due"),
    [
        ("2026-04-02", "none", "2026-07-01"),  # 90 days ago: due today, not yet overdue
        ("2026-04-01", "follow_up_overdue", "2026-06-30"),  # 91 days ago
        (None, "follow_up_overdue", "2026-07-01"),
    ],
)
def test_follow_up_overdue_after_90_days(config, followup, action, due):
    result = _action(config, **{**MANAGED_HTN, "last_followup_date": followup})
    assert result[:2] == (action, due)


@pytest.mark.parametrize(
    ("age", "glucose_date", "action"),
    [
        (45, "2025-07-01", "screen"),  # age >= 40: yearly, 365 days since the test
        (45, "2025-07-02", "none"),
        (30, "2025-07-01", "none"),  # younger: every 36 months
        (30, "2023-07-03", "none"),  # 1,095 days (36 months) end on 2026-07-02
        (30, "2023-07-02", "screen"),
    ],
)
def test_diabetes_screening_interval_by_group(config, age, glucose_date, action):
    result = _action(config, age_years=age, glucose_date=glucose_date, bp_date="2026-06-01", exam_date=None)
    assert result[0] == action
    if action == "screen":
        assert result[3].startswith("FPG")


def test_never_tested_is_screened_and_prediabetic_fpg_gets_an_ogtt(config):
    assert _action(config, fpg_mmol_l=None, hba1c_pct=None, glucose_date=None, exam_date=None)[0] == "screen"
    action, _, _, tests = _action(config, fpg_mmol_l=6.2, glucose_date="2025-12-01")
    assert (action, tests) == ("screen", "OGTT")


def test_priority_orders_classes_then_yield(config):
    refer_now = _action(config, sbp_mmhg=190, dbp_mmhg=100, **{k: v for k, v in RECENT.items() if k == "bp_date"})
    screen_high = _action(config, p_chronic=0.6, fpg_mmol_l=None, hba1c_pct=None, glucose_date=None)
    screen_low = _action(config, p_chronic=0.1, fpg_mmol_l=None, hba1c_pct=None, glucose_date=None)
    assert refer_now[2] > screen_high[2] > screen_low[2]
    assert 100 <= screen_low[2] < 200 <= refer_now[2] - 400


def test_capacity_truncates_only_overdue_and_screen():
    actions = np.array(["screen"] * 5 + ["refer"] * 4 + ["follow_up_overdue"] * 3 + ["none"] * 2, dtype=object)
    priority = np.array([150, 160, 170, 180, 190] + [450] * 4 + [250, 260, 270] + [0, 0], dtype=float)
    chosen = select_entries(actions, priority, capacity=2)
    names = actions[chosen].tolist()
    assert names.count("refer") == 4 and names.count("screen") == 2 and names.count("follow_up_overdue") == 2
    assert "none" not in names
    assert priority[chosen].tolist() == sorted(priority[chosen].tolist(), reverse=True)
    assert set(priority[chosen][np.array(names) == "screen"]) == {190, 180}


def test_action_names_follow_spec_order():
    assert ACTION_NAMES.tolist() == [
        "refer_now",
        "confirm_diagnosis",
        "refer",
        "recheck",
        "follow_up_overdue",
        "screen",
        "none",
    ]
