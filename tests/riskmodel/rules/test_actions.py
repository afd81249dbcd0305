"""Actions, due dates and priorities (SPEC sections 4.5, 5 and 6), each rule at its boundary, both sides.

References in the tables: BPHS 2017 (National Basic Public Health Service Standard, 3rd ed.), CDS 2020/2024
(Chinese Diabetes Society guideline), CHG 2018/2024 (Chinese hypertension guideline), Zhou 2013 (CDRS).
"""

from __future__ import annotations

import numpy as np
import pytest

from riskmodel.config import RiskConfig
from riskmodel.rules.actions import ACTIONS, DISEASE_ORDER, TESTS
from tests.factories import assess_one

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
MANAGED_DM = {
    "diagnosed_diabetes": True,
    "on_glucose_lowering": True,
    "last_followup_date": "2026-06-20",
    "uncontrolled_visits": 0,
    "fpg_mmol_l": 6.0,
    **RECENT,
}


def due(assessment, disease=None):
    """{(disease, action): (due date, overdue days, test)} of resident 0."""
    actions = assessment.actions
    out = {}
    for d, name in enumerate(DISEASE_ORDER):
        for a, code in enumerate(ACTIONS):
            if actions.due[0, d, a] and (disease is None or disease == name):
                out[(name, code)] = (
                    str(actions.due_date[0, d, a]),
                    int(actions.overdue_days[0, d, a]),
                    TESTS[actions.test[0, d, a]],
                )
    return out


def codes(assessment, disease=None):
    return {code for (_, code) in due(assessment, disease)}


# ----------------------------------------------------------------------------------------------- emergencies


@pytest.mark.parametrize(
    ("overrides", "refer_now"),
    [
        ({"sbp_mmhg": 179, "dbp_mmhg": 109, **RECENT}, False),  # BPHS 2017: SBP >= 180 or DBP >= 110
        ({"sbp_mmhg": 180, "dbp_mmhg": 100, **RECENT}, True),
        ({"sbp_mmhg": 170, "dbp_mmhg": 110, **RECENT}, True),
        ({"fpg_mmol_l": 16.6, **RECENT}, False),  # BPHS 2017: fasting or random glucose >= 16.7 (anyone)
        ({"fpg_mmol_l": 16.7, **RECENT}, True),
        ({**MANAGED_DM, "fpg_mmol_l": 3.9}, True),  # <= 3.9 in a managed patient
        ({**MANAGED_DM, "fpg_mmol_l": 4.0}, False),
        ({"fpg_mmol_l": 3.9, **RECENT}, False),  # the low bound is for managed patients only
        ({"ogtt_2h_mmol_l": 16.7, "fpg_mmol_l": 5.0, **RECENT}, False),  # SPEC 4.5: an OGTT never is
        ({"sbp_mmhg": 185, "dbp_mmhg": 100, "bp_date": "2026-06-01"}, True),  # 30 days: inside the look-back
        ({"sbp_mmhg": 185, "dbp_mmhg": 100, "bp_date": "2026-05-31"}, False),  # 31 days: outside
    ],
)
def test_refer_now_only_on_recent_fasting_random_glucose_or_bp(config, overrides, refer_now):
    assert ("refer_now" in codes(assess_one(config, **overrides))) == refer_now


def test_ogtt_16_7_is_an_urgent_confirmation_at_the_top_of_band_2(config):
    urgent = assess_one(config, ogtt_2h_mmol_l=16.7, fpg_mmol_l=5.0, **RECENT)
    below = assess_one(config, ogtt_2h_mmol_l=16.6, fpg_mmol_l=5.0, **RECENT)
    assert urgent.action.action[0] == "confirm_diagnosis" == below.action.action[0]
    assert urgent.action.priority[0] == 399.0 > below.action.priority[0]


def test_emergency_is_due_on_the_reading_date(config):
    result = assess_one(config, sbp_mmhg=186, dbp_mmhg=100, bp_date="2026-06-21")
    assert due(result)[("hypertension", "refer_now")] == ("2026-06-21", 10, "")


# ------------------------------------------------------------------------------- due dates from their events


def test_recheck_is_due_14_days_after_the_uncontrolled_follow_up(config):
    # BPHS 2017: first uncontrolled follow-up, recheck within 14 days; counted from that follow-up.
    result = assess_one(config, **{**MANAGED_HTN, "uncontrolled_visits": 1, "last_followup_date": "2026-03-01"})
    found = due(result, "hypertension")
    assert found[("hypertension", "recheck")] == ("2026-03-15", 108, "BP")
    assert ("hypertension", "follow_up_overdue") in found  # the overdue follow-up is not hidden by the recheck


def test_confirmation_is_due_14_days_after_the_qualifying_result(config):
    fresh = assess_one(config, fpg_mmol_l=7.2, hba1c_pct=5.5, glucose_date="2026-06-20", bp_date="2026-06-20")
    older = assess_one(config, fpg_mmol_l=7.2, hba1c_pct=5.5, glucose_date="2026-06-01", bp_date="2026-06-20")
    assert due(fresh)[("diabetes", "confirm_diagnosis")] == ("2026-07-04", 0, "FPG")
    assert due(older)[("diabetes", "confirm_diagnosis")] == ("2026-06-15", 16, "FPG")


def test_refer_is_due_14_days_after_the_follow_up_that_made_it_so(config):
    result = assess_one(
        config, **{**MANAGED_HTN, "uncontrolled_visits": 2, "sbp_mmhg": 150, "last_followup_date": "2026-06-10"}
    )
    assert due(result, "hypertension") == {("hypertension", "refer"): ("2026-06-24", 7, "")}


@pytest.mark.parametrize(
    ("visits", "sbp", "action"),
    [(0, 128, None), (0, 150, "recheck"), (1, 128, "recheck"), (2, 128, "refer"), (3, 150, "refer")],
)
def test_uncontrolled_streak(config, visits, sbp, action):
    found = codes(assess_one(config, **{**MANAGED_HTN, "sbp_mmhg": sbp, "uncontrolled_visits": visits}), "hypertension")
    assert found == ({action} if action else set())


def test_a_version_1_streak_skips_the_disease_controlled_at_that_follow_up(config):
    # One uncontrolled_visits for a patient managed for both: it cannot be about the controlled one.
    both = {**MANAGED_HTN, **MANAGED_DM, "fpg_mmol_l": 9.0, "uncontrolled_visits": 2}
    found = set(due(assess_one(config, **both)))
    assert ("diabetes", "refer") in found and ("hypertension", "refer") not in found


@pytest.mark.parametrize(
    ("followup", "overdue", "due_date"),
    [
        ("2026-04-02", False, None),  # 90 days ago: due today, not yet overdue (BPHS 2017: every <= 90 days)
        ("2026-04-01", True, "2026-06-30"),  # 91 days ago
        (None, True, "2026-07-01"),
    ],
)
def test_follow_up_overdue_after_90_days(config, followup, overdue, due_date):
    found = due(assess_one(config, **{**MANAGED_HTN, "last_followup_date": followup}), "hypertension")
    assert (("hypertension", "follow_up_overdue") in found) == overdue
    if overdue:
        assert found[("hypertension", "follow_up_overdue")][0] == due_date


# --------------------------------------------------------------------------------------- control profiles


@pytest.mark.parametrize(
    ("profile", "sbp", "dbp", "age", "diabetic", "recheck"),
    [
        ("bphs2017", 139, 89, 50, False, False),  # BPHS 2017: < 140/90
        ("bphs2017", 140, 80, 50, False, True),
        ("bphs2017", 149, 80, 65, False, False),  # < 150/90 at >= 65
        ("bphs2017", 150, 80, 65, False, True),
        ("guideline2024", 149, 80, 65, False, True),  # CHG 2024: < 140/90 up to 79
        ("guideline2024", 149, 80, 80, False, False),  # < 150/90 from 80
        ("guideline2024", 130, 70, 50, True, True),  # < 130/80 with diabetes
        ("guideline2024", 129, 79, 50, True, False),
        ("bphs2017", 135, 85, 50, True, False),
    ],
)
def test_control_profiles(config, profile, sbp, dbp, age, diabetic, recheck):
    settings = config.model_copy(update={"control": config.control.model_copy(update={"profile": profile})})
    extra = {"diagnosed_diabetes": True} if diabetic else {}
    result = assess_one(settings, **{**MANAGED_HTN, "sbp_mmhg": sbp, "dbp_mmhg": dbp, "age_years": age, **extra})
    assert ("recheck" in codes(result, "hypertension")) == recheck
    assert result.control_profile == profile


# --------------------------------------------------------------------------------------- both diseases


def test_one_entry_holds_both_diseases_most_urgent_first(config):
    # A BP of 194/108 and a confirmed diabetes: the BP emergency and the diagnosis to record are both due.
    result = assess_one(config, sbp_mmhg=194, dbp_mmhg=108, fpg_mmol_l=8.0, hba1c_pct=7.0, **RECENT)
    assert {("hypertension", "refer_now"), ("diabetes", "confirm_diagnosis")} <= set(due(result))
    assert (result.action.action[0], result.action.disease[0]) == ("refer_now", "hypertension")
    assert result.tiers["diabetes"].confirmed[0]


def test_managed_hypertensive_due_for_referral_keeps_the_diabetes_confirmation(config):
    result = assess_one(config, **{**MANAGED_HTN, "uncontrolled_visits": 2, "sbp_mmhg": 150, "fpg_mmol_l": 7.3})
    assert {("hypertension", "refer"), ("diabetes", "confirm_diagnosis")} <= set(due(result))


def test_band_2_is_ordered_by_severity_not_by_class(config):
    # SPEC 6: a confirmation for a borderline 140/63 must not outrank a managed patient at 172/90.
    borderline = assess_one(config, sbp_mmhg=140, dbp_mmhg=63, **RECENT)
    uncontrolled = assess_one(config, **{**MANAGED_HTN, "uncontrolled_visits": 2, "sbp_mmhg": 172, "dbp_mmhg": 90})
    assert borderline.action.action[0] == "confirm_diagnosis" and uncontrolled.action.action[0] == "refer"
    assert uncontrolled.action.priority[0] > borderline.action.priority[0]
    high_glucose = assess_one(config, **{**MANAGED_DM, "uncontrolled_visits": 1, "fpg_mmol_l": 11.1})
    low_glucose = assess_one(config, **{**MANAGED_DM, "uncontrolled_visits": 1, "fpg_mmol_l": 7.1})
    assert high_glucose.action.priority[0] > low_glucose.action.priority[0]


def test_overdue_days_raise_the_band_2_score(config):
    late = assess_one(config, sbp_mmhg=150, dbp_mmhg=80, bp_date="2026-05-01", glucose_date="2026-06-20")
    fresh = assess_one(config, sbp_mmhg=150, dbp_mmhg=80, **RECENT)
    assert late.action.priority[0] > fresh.action.priority[0]
    assert 300 < fresh.action.priority[0] < late.action.priority[0] < 400


# ----------------------------------------------------------------------------------------- screening (SPEC 5)

RISKY_40 = {
    "age_years": 40,
    "sex": "M",
    "weight_kg": 75.0,  # BMI 29.3 at 160 cm: overweight (BPHS criterion)
    "family_history_hypertension": True,
    "high_salt_diet": True,
    "sbp_mmhg": 124,
    "dbp_mmhg": 78,
}


@pytest.mark.parametrize(("bp_date", "screen"), [("2025-12-13", True), ("2025-12-31", True), ("2026-01-01", False)])
def test_guideline_high_risk_bp_every_6_months(config, bp_date, screen):
    # BPHS 2017: 易患人群 measure BP at least every six months (182 days): due on day 182, not on day 181.
    result = assess_one(config, **RISKY_40, bp_date=bp_date, glucose_date="2026-06-01")
    assert result.guideline_high_risk["hypertension"][0]
    assert ("screen" in codes(result, "hypertension")) == screen


@pytest.mark.parametrize(("glucose_date", "screen"), [("2025-07-01", True), ("2025-07-02", False)])
def test_gdm_history_makes_fpg_yearly_at_30(config, glucose_date, screen):
    # CDS 2020: GDM history is a high-risk criterion: yearly, not every 36 months.
    result = assess_one(config, age_years=30, gdm_history=True, glucose_date=glucose_date, bp_date="2026-06-01")
    assert result.guideline_high_risk["diabetes"][0]
    assert ("screen" in codes(result, "diabetes")) == screen


@pytest.mark.parametrize(
    ("age", "glucose_date", "screen"),
    [
        (40, "2025-07-01", True),  # CDS 2020 profile: yearly from 40
        (39, "2025-07-01", False),  # younger without a criterion: every 36 months
        (39, "2023-07-03", False),
        (39, "2023-07-02", True),
    ],
)
def test_diabetes_screening_age_is_the_profiles(config, age, glucose_date, screen):
    result = assess_one(config, age_years=age, glucose_date=glucose_date, bp_date="2026-06-01", exam_date=None)
    assert ("screen" in codes(result, "diabetes")) == screen


def test_cds2024_profile_screens_yearly_from_35(config):
    settings = config.model_copy(
        update={"glycaemia": config.glycaemia.model_copy(update={"high_risk_profile": "cds2024"})}
    )
    result = assess_one(settings, age_years=35, glucose_date="2025-07-01", bp_date="2026-06-01")
    assert "screen" in codes(result, "diabetes")


@pytest.mark.parametrize(
    ("overrides", "test"),
    [
        ({"fpg_mmol_l": 5.5, "glucose_date": "2025-01-01"}, "FPG"),
        ({"fpg_mmol_l": 5.6, "glucose_date": "2025-01-01"}, "OGTT"),  # CDS 2020: last FPG 5.6-6.9 -> OGTT
        (
            {
                "fpg_mmol_l": None,
                "hba1c_pct": None,
                "glucose_date": None,
                "sex": "M",
                "age_years": 60,
                "waist_cm": 95,
                "weight_kg": 70,
                "family_history_diabetes": True,
            },
            "OGTT",
        ),  # CDRS >= 25 at 20-74
        (
            {
                "fpg_mmol_l": None,
                "hba1c_pct": None,
                "glucose_date": None,
                "sex": "M",
                "age_years": 80,
                "waist_cm": 95,
                "weight_kg": 70,
                "family_history_diabetes": True,
            },
            "FPG",
        ),  # CDRS outside 20-74 does not decide
    ],
)
def test_the_screening_test_named(config, overrides, test):
    found = due(assess_one(config, **{"bp_date": "2026-06-01", **overrides}), "diabetes")
    assert found[("diabetes", "screen")][2] == test


def test_never_tested_is_due_on_the_as_of_date(config):
    found = due(
        assess_one(config, fpg_mmol_l=None, hba1c_pct=None, glucose_date=None, exam_date=None, bp_date="2026-06-01")
    )
    assert found[("diabetes", "screen")][:2] == ("2026-07-01", 0)


# --------------------------------------------------------------------------------- guideline high-risk flag


@pytest.mark.parametrize(
    ("overrides", "diabetes", "hypertension"),
    [
        ({"age_years": 39}, False, False),  # the base resident meets no criterion below 40
        ({"age_years": 40}, True, False),  # CDS 2020: age >= 40
        ({"age_years": 55}, True, True),  # BPHS 2017: age >= 55
        ({"age_years": 39, "alcohol_excess": True}, False, True),
        ({"age_years": 39, "physically_active": False}, True, False),
        ({"age_years": 60, "diagnosed_hypertension": True}, True, False),  # recorded: never in the flag
    ],
)
def test_guideline_high_risk_flag(config, overrides, diabetes, hypertension):
    result = assess_one(config, **overrides)
    assert result.guideline_high_risk["diabetes"][0] == diabetes
    assert result.guideline_high_risk["hypertension"][0] == hypertension


def test_cdrs_outside_validated_ages_is_flagged_not_raising(config):
    old = {
        "fpg_mmol_l": None,
        "hba1c_pct": None,
        "glucose_date": None,
        "sex": "M",
        "waist_cm": 95,
        "weight_kg": 70,
        "family_history_diabetes": True,
    }
    at_75 = assess_one(config, p_chronic=0.01, p_high_risk=0.01, age_years=75, **old)
    at_74 = assess_one(config, p_chronic=0.01, p_high_risk=0.01, age_years=74, **old)
    assert at_75.cdrs.total[0] >= 25 and at_75.tiers["diabetes"].tier[0] == 0
    assert at_75.findings["dm_cdrs_unvalidated"][0] and not at_75.findings["dm_cdrs"][0]
    assert at_74.tiers["diabetes"].tier[0] == 1 and at_74.findings["dm_cdrs"][0]


# ------------------------------------------------------------------------------------------- the as-of date


def test_today_is_the_configured_time_zone(config):
    import datetime as dt
    from zoneinfo import ZoneInfo

    from riskmodel.scoring import as_of_day

    for zone in ("Asia/Shanghai", "Pacific/Kiritimati", "Pacific/Pago_Pago"):
        settings = RiskConfig(deployment={"timezone": zone})
        before = dt.datetime.now(ZoneInfo(zone)).date()
        today = as_of_day(None, settings).astype(object)
        assert today in (before, dt.datetime.now(ZoneInfo(zone)).date())


def test_most_urgent_is_none_with_the_next_due_date_when_nothing_is_due(config):
    result = assess_one(config, age_years=30, glucose_date="2026-06-01", bp_date="2026-06-01")
    assert result.action.action[0] == "none"
    assert str(result.action.due[0]) == "2028-05-31"  # BP every 730 days under 35, before the 36-month FPG
    assert np.isfinite(result.action.priority[0])


def test_a_stale_ogtt_never_makes_a_confirmation_urgent(config):
    import datetime as dt

    from riskmodel.records.derivation import history_state
    from riskmodel.records.events import events_table
    from riskmodel.scoring import assess_rules
    from tests.factories import columns_of, probabilities_of

    columns = columns_of(resident_id="r-0000", fpg_mmol_l=7.4, glucose_date="2026-06-20", bp_date="2026-06-20")
    old_ogtt = {
        "event_id": "o1",
        "resident_id": "r-0000",
        "event_date": dt.date(2024, 1, 10),
        "kind": "lab",
        "ogtt_2h_mmol_l": 30.0,
    }
    state = history_state(
        columns, np.array(["r-0000"], dtype=object), events_table([old_ogtt]), as_of=dt.date(2026, 7, 1), config=config
    )
    result = assess_rules(columns, probabilities_of(), as_of="2026-07-01", config=config, state=state)
    assert result.action.action[0] == "confirm_diagnosis" and result.action.priority[0] < 399.0
