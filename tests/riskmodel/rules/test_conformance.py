"""Clinical conformance table (SPEC 13.1-13.5, with the rules of SPEC 3, 4.5 and 6 they rest on).

An independent check written from the guideline text, not from the code: each row is one hand-built resident
with a history, scored through the HTTP API as an integrator's system sees it
(``POST /v1/assessments?explain=true&lang=zh|en&as_of=...``), with the clause it tests and what a family
doctor must read. Every rule is tested on both sides of its boundary.

References: BPHS 2017 (National Basic Public Health Service Standard, 3rd ed.: 高血压/2型糖尿病患者健康管理服务规范),
CDS 2020 (Chinese Diabetes Society T2DM guideline), CHG 2018/2024 (Chinese hypertension guideline), the 2025
primary-care hypertension guideline (three non-same-day readings within four weeks), Zhou 2013 (CDRS).

Not tested here: SPEC 13.5 "actions hidden by an outcome are not in the reasons" and the ``not_confirmed``
outcome of 13.2 need the stored work list and outcomes (the assessment endpoint has no outcomes); the
indicators of 13.6 are tested elsewhere.

Defaults the table relies on (config): ``result_valid_days`` 365 (a result 365 days old is fresh, 366 stale),
``worklist.emergency_lookback_days`` 30, ``tiers.htn_confirmation_window_days`` 28,
``worklist.stale_task_days`` 365. As-of date 2026-07-01 unless a row says otherwise.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from tests.factories import make_resident

AS_OF = dt.date(2026, 7, 1)
KEY = "conformance-key-all-teams"
HTN, DM = "hypertension", "diabetes"


def ago(days: int, base: dt.date = AS_OF) -> str:
    """The date ``days`` before the as-of date."""
    return (base - dt.timedelta(days=days)).isoformat()


def plus(day: str, days: int) -> str:
    """``day`` + ``days``: due dates are counted from the event that creates the task (SPEC 6)."""
    return (dt.date.fromisoformat(day) + dt.timedelta(days=days)).isoformat()


# ------------------------------------------------------------------------------------------------ residents

_ids = itertools.count(1)


def ev(date: str, kind: str = "health_check", **values: Any) -> dict[str, Any]:
    """One event of SPEC 2.2."""
    return {"event_id": f"e{next(_ids):05d}", "event_date": date, "kind": kind, **values}


def bp(date: str, sbp: float, dbp: float, kind: str = "health_check", **values: Any) -> dict[str, Any]:
    return ev(date, kind, sbp_mmhg=sbp, dbp_mmhg=dbp, **values)


def lab(date: str, **values: Any) -> dict[str, Any]:
    return ev(date, "lab", **values)


def fu(date: str, disease: str, mode: str = "clinic", **values: Any) -> dict[str, Any]:
    """A follow-up of a managed patient (on treatment unless told otherwise)."""
    return ev(date, "followup", disease=disease, mode=mode, **{"on_treatment": True, **values})


def dx(date: str, disease: str, **values: Any) -> dict[str, Any]:
    return ev(date, "diagnosis", disease=disease, **values)


def referral(date: str, disease: str, status: str) -> dict[str, Any]:
    return ev(date, "referral", disease=disease, referral_status=status)


NO_BP = {"sbp_mmhg": None, "dbp_mmhg": None, "bp_date": None}
NO_GLUCOSE = {"fpg_mmol_l": None, "hba1c_pct": None, "glucose_date": None}


def resident(events: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    """The factory's healthy 45-year-old woman (normal BP and FPG on 2026-05-01) with a history."""
    record = make_resident(**overrides)
    record["events"] = events
    return record


def htn_subject(events: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    """Blood pressure only from the events; diabetes unremarkable (fresh normal FPG and HbA1c)."""
    return resident(events, **{**NO_BP, **overrides})


def dm_subject(events: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    """Glucose only from the events; hypertension unremarkable (fresh normal BP)."""
    return resident(events, **{**NO_GLUCOSE, **overrides})


def managed_htn(events: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    """A treated hypertensive patient diagnosed in 2024, BP from the follow-ups."""
    return htn_subject(
        [dx("2024-01-10", HTN), *events],
        **{"diagnosed_hypertension": True, "on_antihypertensive": True, **overrides},
    )


def managed_dm(events: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    """A treated diabetic patient diagnosed in 2024, glucose from the follow-ups."""
    return dm_subject(
        [dx("2024-01-10", DM), *events],
        **{"diagnosed_diabetes": True, "on_glucose_lowering": True, **overrides},
    )


# ------------------------------------------------------------------------------------------------ the table

Key = tuple[str, str]  # (disease, action)


@dataclass(frozen=True)
class Case:
    id: str
    clause: str
    record: dict[str, Any]
    disease: str
    """The disease under test: tier, source, confirmed, stale and ``exact`` refer to it."""
    as_of: str = AS_OF.isoformat()
    lang: str = "zh"
    tier: str | tuple[str, ...] | None = None
    """Expected tier, or the tiers allowed ("at least high_risk")."""
    tier_source: str | None = None
    not_tier_source: str | None = None
    confirmed: bool | None = None
    stale: bool | None = None
    due: dict[Key, str | None] = field(default_factory=dict)
    """Actions that must be due, with their due dates (None: any date)."""
    not_due: frozenset[Key] = frozenset()
    exact: bool = False
    """The disease's actions other than ``screen`` are exactly those of ``due``."""
    bands: dict[Key, int] = field(default_factory=dict)
    overdue: dict[Key, int] = field(default_factory=dict)
    first_test: dict[Key, frozenset[str]] = field(default_factory=dict)
    """The first test named by the action is one of these."""
    tests_within: dict[Key, frozenset[str]] = field(default_factory=dict)
    """Every test named by the action is one of these (and there is one)."""
    labels: dict[Key, str] = field(default_factory=dict)
    action: str | None = None
    """The entry's (most urgent) action."""
    action_disease: str | None = None
    top_of_band: Key | None = None
    """This action's priority is at least every other band-2 action's of the resident."""
    reasons: tuple[tuple[str, ...], ...] = ()
    """Each tuple: fragments a doctor must read together, in one reason line."""
    not_reasons: tuple[str, ...] = ()
    """Fragments that must appear in no reason."""
    check: Callable[[dict[str, Any]], None] | None = None
    """A further check on the whole assessment."""


def zh_or_en(case_lang: str, zh: str, en: str) -> str:
    return zh if case_lang == "zh" else en


CONFIRM_TESTS = frozenset({"FPG", "HbA1c"})
STALE_BP_DATE = "2025-03-01"  # 16 months before 2026-07-01
STALE_FPG_DATE = "2024-07-01"  # two years before
EMERGENCY_STALE = "达紧急转诊水平，尚无后续读数"
CONFIRMATION_SERIES = [bp("2026-04-01", 152, 94), bp("2026-04-08", 148, 92), bp("2026-04-15", 150, 96)]


def _no_model_tier_and_no_screen(a: dict[str, Any]) -> None:
    for disease in (DM, HTN):
        block = a[disease]
        assert not (block["tier"] == "high_risk" and block["tier_source"] == "model"), (disease, block)
    assert not [x for x in a["actions"] if x["action"] == "screen"], a["actions"]


def _screen_due(a: dict[str, Any]) -> None:
    assert {x["disease"] for x in a["actions"] if x["action"] == "screen"} == {DM, HTN}, a["actions"]


def _cdrs_line_says_score(a: dict[str, Any]) -> None:
    lines = [r for r in a["reasons"] if "风险评分" in r]
    assert lines, a["reasons"]
    for line in lines:
        assert "检测结果" not in line, line
    for line in a["reasons"]:
        assert not ("糖尿病" in line and "检测结果" in line), line
    assert a["cdrs"]["total"] >= 25


def _count_shown(*spellings: str) -> Callable[[dict[str, Any]], None]:
    """The confirmation count is shown (SPEC 3 words it "BP reading 2 of 3"; SPEC 13.5 "3/3：")."""

    def check(a: dict[str, Any]) -> None:
        assert any(s in line for line in a["reasons"] for s in spellings), a["reasons"]

    return check


def _findings_text(disease: str, fragment: str, present: bool) -> Callable[[dict[str, Any]], None]:
    def check(a: dict[str, Any]) -> None:
        texts = [f["text"] for f in a[disease]["findings"]]
        assert any(fragment in t for t in texts) == present, texts

    return check


CASES: list[Case] = [
    # ---------------------------------------------------------------- 13.1: a stale abnormal result stays visible
    Case(
        "stale_bp_185_115_16_months_emergency_level",
        "SPEC 13.1 (stale abnormal result; emergency-level reading past the look-back); BPHS 2017",
        htn_subject([bp(STALE_BP_DATE, 185, 115)]),
        HTN,
        tier=("high_risk", "chronic"),
        tier_source="measurement",
        stale=True,
        due={(HTN, "recheck_stale"): plus(AS_OF.isoformat(), 3)},
        not_due=frozenset({(HTN, "refer_now"), (HTN, "confirm_diagnosis"), (HTN, "re_engage")}),
        bands={(HTN, "recheck_stale"): 2},
        action="recheck_stale",
        action_disease=HTN,
        top_of_band=(HTN, "recheck_stale"),
        reasons=(("185/115", STALE_BP_DATE, EMERGENCY_STALE), ("已过期",)),
    ),
    Case(
        "stale_fpg_8_5_two_years",
        "SPEC 13.1 (stale abnormal result); CDS 2020",
        dm_subject([lab(STALE_FPG_DATE, fpg_mmol_l=8.5)]),
        DM,
        tier=("high_risk", "chronic"),
        tier_source="measurement",
        stale=True,
        due={(DM, "recheck_stale"): plus(AS_OF.isoformat(), 14)},
        not_due=frozenset({(DM, "refer_now"), (DM, "confirm_diagnosis"), (DM, "re_engage")}),
        bands={(DM, "recheck_stale"): 2},
        action="recheck_stale",
        action_disease=DM,
        reasons=(("8.5", STALE_FPG_DATE, "已过期"),),
        not_reasons=(EMERGENCY_STALE,),
    ),
    Case(
        "fpg_7_5_at_365_days_is_fresh",
        "SPEC 3 (result_valid_days 365: fresh); SPEC 13.1 boundary",
        dm_subject([lab(ago(365), fpg_mmol_l=7.5)]),
        DM,
        tier="chronic",
        tier_source="measurement",
        confirmed=False,
        stale=False,
        due={(DM, "confirm_diagnosis"): plus(ago(365), 14)},
        not_due=frozenset({(DM, "recheck_stale"), (DM, "re_engage")}),
        reasons=(("7.5", ago(365)),),
    ),
    Case(
        "fpg_7_5_at_366_days_is_stale",
        "SPEC 13.1 (stale abnormal result) boundary; CDS 2020",
        dm_subject([lab(ago(366), fpg_mmol_l=7.5)]),
        DM,
        tier=("high_risk", "chronic"),
        tier_source="measurement",
        stale=True,
        due={(DM, "recheck_stale"): plus(AS_OF.isoformat(), 14)},
        not_due=frozenset({(DM, "confirm_diagnosis")}),
        bands={(DM, "recheck_stale"): 2},
        reasons=(("7.5", ago(366), "已过期"),),
    ),
    Case(
        "stale_bp_150_95_not_emergency_level",
        "SPEC 13.1 (stale abnormal BP >= 140/90 off treatment)",
        htn_subject([bp("2025-05-01", 150, 95)]),
        HTN,
        tier=("high_risk", "chronic"),
        tier_source="measurement",
        stale=True,
        due={(HTN, "recheck_stale"): plus(AS_OF.isoformat(), 14)},
        not_due=frozenset({(HTN, "refer_now"), (HTN, "confirm_diagnosis")}),
        bands={(HTN, "recheck_stale"): 2},
        reasons=(("150/95", "2025-05-01", "已过期"),),
        not_reasons=(EMERGENCY_STALE, "紧急转诊"),
    ),
    Case(
        "stale_bp_130_90_dbp_alone_abnormal",
        "SPEC 13.1 (BP >= 140/90: DBP 90 alone); SPEC 4.2",
        htn_subject([bp("2025-05-01", 130, 90)]),
        HTN,
        tier_source="measurement",
        stale=True,
        due={(HTN, "recheck_stale"): plus(AS_OF.isoformat(), 14)},
        reasons=(("130/90", "2025-05-01"),),
    ),
    Case(
        "stale_bp_139_89_not_abnormal",
        "SPEC 13.1 boundary (below 140/90: the stale result leaves the tier to the model, SPEC 3)",
        htn_subject([bp("2025-05-01", 139, 89)]),
        HTN,
        tier_source="model",
        stale=False,
        not_due=frozenset({(HTN, "recheck_stale")}),
    ),
    Case(
        "stale_bp_185_115_answered_by_later_normal_bp",
        "SPEC 13.1 (a later result of the same measure answers it)",
        htn_subject([bp(STALE_BP_DATE, 185, 115), bp("2025-05-01", 118, 76)]),
        HTN,
        tier_source="model",
        stale=False,
        not_due=frozenset({(HTN, "recheck_stale"), (HTN, "refer_now")}),
        not_reasons=(EMERGENCY_STALE,),
    ),
    Case(
        "stale_fpg_8_5_answered_by_later_normal_fpg",
        "SPEC 13.1 (a later result of the same measure answers it)",
        dm_subject([lab(STALE_FPG_DATE, fpg_mmol_l=8.5), lab("2025-01-10", fpg_mmol_l=5.2)]),
        DM,
        stale=False,
        not_due=frozenset({(DM, "recheck_stale")}),
    ),
    Case(
        "stale_fpg_8_5_not_answered_by_fresh_hba1c",
        "SPEC 13.1 (only a later result of the same measure answers it; HbA1c is another measure)",
        dm_subject([lab(STALE_FPG_DATE, fpg_mmol_l=8.5), lab("2026-05-01", hba1c_pct=5.3)]),
        DM,
        tier=("high_risk", "chronic"),
        tier_source="measurement",
        stale=True,
        due={(DM, "recheck_stale"): plus(AS_OF.isoformat(), 14)},
        reasons=(("8.5", STALE_FPG_DATE),),
    ),
    Case(
        "stale_random_glucose_12_0",
        "SPEC 13.1 (stale random glucose >= 11.1)",
        dm_subject([ev("2025-05-01", random_glucose_mmol_l=12.0)]),
        DM,
        tier=("high_risk", "chronic"),
        tier_source="measurement",
        stale=True,
        due={(DM, "recheck_stale"): plus(AS_OF.isoformat(), 14)},
        not_due=frozenset({(DM, "confirm_diagnosis")}),
        reasons=(("12.0", "2025-05-01"),),
    ),
    Case(
        "stale_random_glucose_11_0_not_abnormal",
        "SPEC 13.1 boundary (random glucose below 11.1)",
        dm_subject([ev("2025-05-01", random_glucose_mmol_l=11.0)]),
        DM,
        stale=False,
        tier_source="model",
        not_due=frozenset({(DM, "recheck_stale"), (DM, "confirm_diagnosis")}),
    ),
    Case(
        "stale_ogtt_11_1",
        "SPEC 13.1 (stale OGTT-2h >= 11.1); CDS 2020",
        dm_subject([lab("2025-05-01", ogtt_2h_mmol_l=11.1)]),
        DM,
        tier=("high_risk", "chronic"),
        tier_source="measurement",
        stale=True,
        due={(DM, "recheck_stale"): plus(AS_OF.isoformat(), 14)},
        reasons=(("11.1", "2025-05-01"),),
    ),
    Case(
        "stale_ogtt_11_0_not_abnormal",
        "SPEC 13.1 boundary (OGTT-2h below 11.1 is IGT, not in the list)",
        dm_subject([lab("2025-05-01", ogtt_2h_mmol_l=11.0)]),
        DM,
        stale=False,
        not_due=frozenset({(DM, "recheck_stale")}),
    ),
    Case(
        "stale_hba1c_6_5",
        "SPEC 13.1 (stale HbA1c >= 6.5); CDS 2020",
        dm_subject([lab("2025-05-01", hba1c_pct=6.5)]),
        DM,
        tier=("high_risk", "chronic"),
        tier_source="measurement",
        stale=True,
        due={(DM, "recheck_stale"): plus(AS_OF.isoformat(), 14)},
        reasons=(("6.5", "2025-05-01"),),
    ),
    Case(
        "stale_hba1c_6_4_not_abnormal",
        "SPEC 13.1 boundary (HbA1c below 6.5)",
        dm_subject([lab("2025-05-01", hba1c_pct=6.4)]),
        DM,
        stale=False,
        not_due=frozenset({(DM, "recheck_stale")}),
    ),
    Case(
        "stale_fpg_6_5_ifg_not_abnormal",
        "SPEC 13.1 boundary (a stale IFG is not in the list)",
        dm_subject([lab(STALE_FPG_DATE, fpg_mmol_l=6.5)]),
        DM,
        stale=False,
        not_due=frozenset({(DM, "recheck_stale")}),
    ),
    # ---------------------------------------------------------------- 4.5 / 13.1: emergencies and the look-back
    Case(
        "bp_185_115_at_30_days_refer_now",
        "SPEC 4.5 (emergency, look-back 30 days: inside); SPEC 13.5 (the reading is shown); BPHS 2017",
        htn_subject([bp(ago(30), 185, 115)]),
        HTN,
        tier="chronic",
        tier_source="measurement",
        stale=False,
        due={(HTN, "refer_now"): None},
        not_due=frozenset({(HTN, "recheck_stale")}),
        bands={(HTN, "refer_now"): 1},
        action="refer_now",
        action_disease=HTN,
        reasons=(("185/115", ago(30)),),
    ),
    Case(
        "bp_185_115_at_31_days_recheck_stale_top_of_band_2",
        "SPEC 13.1 (emergency-level reading older than the look-back, no later reading); SPEC 4.5",
        htn_subject([bp(ago(31), 185, 115)]),
        HTN,
        tier="chronic",
        tier_source="measurement",
        stale=False,
        due={(HTN, "recheck_stale"): plus(AS_OF.isoformat(), 3), (HTN, "confirm_diagnosis"): plus(ago(31), 14)},
        not_due=frozenset({(HTN, "refer_now")}),
        bands={(HTN, "recheck_stale"): 2},
        action="recheck_stale",
        action_disease=HTN,
        top_of_band=(HTN, "recheck_stale"),
        reasons=(("185/115", ago(31), EMERGENCY_STALE),),
    ),
    Case(
        "bp_185_115_at_31_days_answered_by_later_reading",
        "SPEC 13.1 boundary (a later reading of the measure answers the emergency-level one)",
        htn_subject([bp(ago(31), 185, 115), bp(ago(10), 150, 95)]),
        HTN,
        tier="chronic",
        tier_source="measurement",
        not_due=frozenset({(HTN, "refer_now"), (HTN, "recheck_stale")}),
        due={(HTN, "confirm_diagnosis"): plus(ago(10), 14)},
        not_reasons=(EMERGENCY_STALE,),
    ),
    Case(
        "bp_180_95_refer_now",
        "SPEC 4.5 (SBP >= 180); BPHS 2017",
        htn_subject([bp(ago(5), 180, 95)]),
        HTN,
        due={(HTN, "refer_now"): None},
        action="refer_now",
        reasons=(("180/95", ago(5)),),
    ),
    Case(
        "bp_150_110_refer_now",
        "SPEC 4.5 (DBP >= 110); BPHS 2017",
        htn_subject([bp(ago(5), 150, 110)]),
        HTN,
        due={(HTN, "refer_now"): None},
        action="refer_now",
        reasons=(("150/110", ago(5)),),
    ),
    Case(
        "bp_179_109_not_emergency",
        "SPEC 4.5 boundary (below 180/110)",
        htn_subject([bp(ago(5), 179, 109)]),
        HTN,
        tier="chronic",
        tier_source="measurement",
        confirmed=False,
        due={(HTN, "confirm_diagnosis"): plus(ago(5), 14)},
        not_due=frozenset({(HTN, "refer_now"), (HTN, "recheck_stale")}),
        exact=True,
        action="confirm_diagnosis",
        reasons=(("179/109", ago(5)),),
        not_reasons=("紧急转诊", "调整治疗"),
    ),
    Case(
        "fpg_16_7_refer_now",
        "SPEC 4.5 (fasting glucose >= 16.7, anyone); BPHS 2017",
        dm_subject([lab(ago(5), fpg_mmol_l=16.7)]),
        DM,
        tier="chronic",
        tier_source="measurement",
        due={(DM, "refer_now"): None},
        action="refer_now",
        action_disease=DM,
        reasons=(("16.7", ago(5)),),
    ),
    Case(
        "fpg_16_6_not_emergency",
        "SPEC 4.5 boundary (below 16.7)",
        dm_subject([lab(ago(5), fpg_mmol_l=16.6)]),
        DM,
        tier="chronic",
        tier_source="measurement",
        confirmed=False,
        due={(DM, "confirm_diagnosis"): plus(ago(5), 14)},
        not_due=frozenset({(DM, "refer_now")}),
        exact=True,
        not_reasons=("紧急转诊",),
        action="confirm_diagnosis",
    ),
    Case(
        "fpg_17_0_at_31_days_recheck_stale",
        "SPEC 13.1 (glucose >= 16.7 older than the look-back, no later reading)",
        dm_subject([lab(ago(31), fpg_mmol_l=17.0)]),
        DM,
        due={(DM, "recheck_stale"): plus(AS_OF.isoformat(), 3)},
        not_due=frozenset({(DM, "refer_now")}),
        bands={(DM, "recheck_stale"): 2},
        top_of_band=(DM, "recheck_stale"),
        reasons=(("17.0", ago(31), EMERGENCY_STALE),),
    ),
    Case(
        "random_glucose_16_7_refer_now",
        "SPEC 4.5 (random glucose >= 16.7, anyone); SPEC 13.1 (no symptoms: confirm with FPG or HbA1c)",
        dm_subject([ev(ago(5), random_glucose_mmol_l=16.7)]),
        DM,
        tier="high_risk",
        tier_source="measurement",
        due={(DM, "refer_now"): None, (DM, "confirm_diagnosis"): plus(ago(5), 14)},
        tests_within={(DM, "confirm_diagnosis"): CONFIRM_TESTS},
        action="refer_now",
        reasons=(("16.7", ago(5)),),
    ),
    Case(
        "low_glucose_3_9_managed_refer_now",
        "SPEC 4.5 (glucose <= 3.9 in a managed patient); BPHS 2017",
        managed_dm([fu(ago(60), DM, fpg_mmol_l=6.2), fu(ago(5), DM, fpg_mmol_l=3.9)]),
        DM,
        tier="chronic",
        tier_source="record",
        due={(DM, "refer_now"): None},
        action="refer_now",
        reasons=(("3.9", ago(5)),),
    ),
    Case(
        "low_glucose_4_0_managed_not_emergency",
        "SPEC 4.5 boundary (4.0 is not <= 3.9)",
        managed_dm([fu(ago(60), DM, fpg_mmol_l=6.2), fu(ago(5), DM, fpg_mmol_l=4.0)]),
        DM,
        not_due=frozenset({(DM, "refer_now")}),
        not_reasons=("紧急转诊",),
    ),
    Case(
        "low_glucose_3_9_not_managed_not_emergency",
        "SPEC 4.5 boundary (the low bound is for managed patients only)",
        dm_subject([lab(ago(5), fpg_mmol_l=3.9)]),
        DM,
        not_due=frozenset({(DM, "refer_now")}),
        not_reasons=("紧急转诊",),
    ),
    Case(
        "emergency_signs_at_30_days_refer_now",
        "SPEC 4.5 (emergency signs, look-back 30 days: inside); BPHS 2017",
        managed_htn(
            [
                fu(ago(60), HTN, sbp_mmhg=130, dbp_mmhg=80),
                fu(ago(30), HTN, sbp_mmhg=130, dbp_mmhg=80, emergency_signs=True),
            ]
        ),
        HTN,
        due={(HTN, "refer_now"): None},
        action="refer_now",
    ),
    Case(
        "emergency_signs_at_31_days_no_refer_now",
        "SPEC 4.5 boundary (look-back 30 days: outside)",
        managed_htn(
            [
                fu(ago(60), HTN, sbp_mmhg=130, dbp_mmhg=80),
                fu(ago(31), HTN, sbp_mmhg=130, dbp_mmhg=80, emergency_signs=True),
            ]
        ),
        HTN,
        not_due=frozenset({(HTN, "refer_now")}),
    ),
    # ---------------------------------------------------------------- 13.1: OGTT and random glucose
    Case(
        "ogtt_18_0_confirm_with_fpg_or_hba1c_never_refer_now",
        "SPEC 13.1 (after a single OGTT-2h >= 11.1 offer FPG or HbA1c first); SPEC 4.5 (an OGTT is never an "
        "emergency; >= 16.7 is an urgent confirm_diagnosis at the top of band 2); CDS 2020",
        dm_subject([lab(ago(5), ogtt_2h_mmol_l=18.0)]),
        DM,
        tier="chronic",
        tier_source="measurement",
        confirmed=False,
        due={(DM, "confirm_diagnosis"): plus(ago(5), 14)},
        not_due=frozenset({(DM, "refer_now"), (DM, "recheck_stale")}),
        exact=True,
        first_test={(DM, "confirm_diagnosis"): CONFIRM_TESTS},
        action="confirm_diagnosis",
        reasons=(("18.0", ago(5)),),
        not_reasons=("紧急转诊", "登记诊断"),
    ),
    Case(
        "ogtt_11_1_confirm_with_fpg_or_hba1c",
        "SPEC 13.1 (OGTT-2h >= 11.1: confirming test FPG or HbA1c first); SPEC 3",
        dm_subject([lab(ago(5), ogtt_2h_mmol_l=11.1)]),
        DM,
        tier="chronic",
        tier_source="measurement",
        confirmed=False,
        due={(DM, "confirm_diagnosis"): plus(ago(5), 14)},
        first_test={(DM, "confirm_diagnosis"): CONFIRM_TESTS},
        reasons=(("11.1", ago(5)),),
    ),
    Case(
        "ogtt_11_0_is_igt",
        "SPEC 3 / 4.1 boundary (OGTT-2h 7.8-11.0: IGT, high_risk); SPEC 6 (糖耐量减低, not 糖耐量异常)",
        dm_subject([lab(ago(5), ogtt_2h_mmol_l=11.0)]),
        DM,
        tier="high_risk",
        tier_source="measurement",
        not_due=frozenset({(DM, "confirm_diagnosis"), (DM, "refer_now")}),
        reasons=(("糖耐量减低",),),
        not_reasons=("糖耐量异常",),
    ),
    Case(
        "random_glucose_17_5_with_symptoms",
        "SPEC 13.1 (random glucose >= 11.1 with typical symptoms qualifies on its own; CDS 2020); SPEC 4.5",
        dm_subject([ev(ago(10), random_glucose_mmol_l=17.5, symptoms=True)]),
        DM,
        tier="chronic",
        tier_source="measurement",
        confirmed=True,
        due={(DM, "refer_now"): None, (DM, "confirm_diagnosis"): plus(ago(10), 14)},
        labels={(DM, "confirm_diagnosis"): "登记诊断"},
        action="refer_now",
        reasons=(("17.5", ago(10)),),
    ),
    Case(
        "random_glucose_12_5_with_symptoms",
        "SPEC 13.1 (random glucose >= 11.1 with typical symptoms: record the diagnosis); CDS 2020",
        dm_subject([ev(ago(10), random_glucose_mmol_l=12.5, symptoms=True)]),
        DM,
        tier="chronic",
        tier_source="measurement",
        confirmed=True,
        due={(DM, "confirm_diagnosis"): plus(ago(10), 14)},
        not_due=frozenset({(DM, "refer_now")}),
        exact=True,
        labels={(DM, "confirm_diagnosis"): "登记诊断"},
        reasons=(("12.5", ago(10)),),
        not_reasons=("紧急转诊",),
        action="confirm_diagnosis",
    ),
    Case(
        "random_glucose_12_5_without_symptoms",
        "SPEC 13.1 (random glucose >= 11.1 without symptoms: confirm with FPG or HbA1c, high_risk)",
        dm_subject([ev(ago(10), random_glucose_mmol_l=12.5)]),
        DM,
        tier="high_risk",
        tier_source="measurement",
        confirmed=False,
        due={(DM, "confirm_diagnosis"): plus(ago(10), 14)},
        not_due=frozenset({(DM, "refer_now")}),
        exact=True,
        tests_within={(DM, "confirm_diagnosis"): CONFIRM_TESTS},
        labels={(DM, "confirm_diagnosis"): "复查确诊"},
        reasons=(("12.5", ago(10)),),
        not_reasons=("登记诊断", "紧急转诊"),
        action="confirm_diagnosis",
    ),
    Case(
        "random_glucose_11_1_without_symptoms",
        "SPEC 13.1 boundary (11.1 qualifies)",
        dm_subject([ev(ago(10), random_glucose_mmol_l=11.1)]),
        DM,
        tier="high_risk",
        tier_source="measurement",
        confirmed=False,
        due={(DM, "confirm_diagnosis"): plus(ago(10), 14)},
        tests_within={(DM, "confirm_diagnosis"): CONFIRM_TESTS},
        reasons=(("11.1", ago(10)),),
    ),
    Case(
        "random_glucose_11_0_without_symptoms",
        "SPEC 13.1 boundary (11.0 does not qualify; a random glucose is not diagnostic, SPEC 2.2)",
        dm_subject([ev(ago(10), random_glucose_mmol_l=11.0)]),
        DM,
        tier_source="model",
        not_due=frozenset({(DM, "confirm_diagnosis"), (DM, "refer_now")}),
    ),
    Case(
        "random_glucose_11_0_with_symptoms",
        "SPEC 13.1 boundary (11.0 with symptoms does not qualify)",
        dm_subject([ev(ago(10), random_glucose_mmol_l=11.0, symptoms=True)]),
        DM,
        tier_source="model",
        not_due=frozenset({(DM, "confirm_diagnosis"), (DM, "refer_now")}),
    ),
    Case(
        "random_glucose_17_5_without_symptoms",
        "SPEC 13.1 (no symptoms: confirm with FPG or HbA1c); SPEC 4.5 (>= 16.7: refer now)",
        dm_subject([ev(ago(10), random_glucose_mmol_l=17.5)]),
        DM,
        tier="high_risk",
        tier_source="measurement",
        confirmed=False,
        due={(DM, "refer_now"): None, (DM, "confirm_diagnosis"): plus(ago(10), 14)},
        tests_within={(DM, "confirm_diagnosis"): CONFIRM_TESTS},
        action="refer_now",
        reasons=(("17.5", ago(10)),),
    ),
    # ---------------------------------------------------------------- 3 / 13.2 / 13.5: hypertension confirmation
    Case(
        "htn_three_days_within_28_then_normal_stands",
        "SPEC 3 (three days >= 140/90 within 28 days, off treatment); SPEC 13.2 (a completed confirmation "
        "stands); SPEC 13.5 (each value with its date); 2025 primary-care hypertension guideline",
        htn_subject([*CONFIRMATION_SERIES, bp("2026-05-15", 128, 82)]),
        HTN,
        tier="chronic",
        tier_source="measurement",
        confirmed=True,
        stale=False,
        due={(HTN, "confirm_diagnosis"): "2026-04-29"},
        not_due=frozenset({(HTN, "refer_now"), (HTN, "recheck_stale")}),
        exact=True,
        labels={(HTN, "confirm_diagnosis"): "登记诊断"},
        reasons=(("3/3：", "04-01 152/94", "04-08 148/92", "04-15 150/96"),),
        not_reasons=("2/3", "1/3", "调整治疗"),
        action="confirm_diagnosis",
    ),
    Case(
        "htn_three_days_span_28_confirms",
        "SPEC 3 boundary (first to third reading 28 days: confirmed)",
        htn_subject([bp("2026-04-01", 150, 95), bp("2026-04-15", 150, 95), bp("2026-04-29", 150, 95)]),
        HTN,
        tier="chronic",
        tier_source="measurement",
        confirmed=True,
        due={(HTN, "confirm_diagnosis"): "2026-05-13"},
        labels={(HTN, "confirm_diagnosis"): "登记诊断"},
        reasons=(("3/3",),),
    ),
    Case(
        "htn_three_days_span_29_not_confirmed",
        "SPEC 3 boundary (first to third reading 29 days: not confirmed); SPEC 13.2",
        htn_subject([bp("2026-04-01", 150, 95), bp("2026-04-15", 150, 95), bp("2026-04-30", 150, 95)]),
        HTN,
        tier="chronic",
        tier_source="measurement",
        confirmed=False,
        due={(HTN, "confirm_diagnosis"): "2026-05-14"},
        labels={(HTN, "confirm_diagnosis"): "复查确诊"},
        not_reasons=("3/3", "登记诊断"),
    ),
    Case(
        "htn_day_mean_140_qualifies",
        "SPEC 3 (several readings on one day count as that day's mean: 150/95 and 130/80 -> 140/87.5)",
        htn_subject(
            [bp("2026-04-01", 150, 95), bp("2026-04-01", 130, 80), bp("2026-04-08", 150, 95), bp("2026-04-15", 150, 95)]
        ),
        HTN,
        confirmed=True,
        due={(HTN, "confirm_diagnosis"): "2026-04-29"},
    ),
    Case(
        "htn_day_mean_139_does_not_qualify",
        "SPEC 3 boundary (150/95 and 128/80 -> 139/87.5: that day does not count)",
        htn_subject(
            [bp("2026-04-01", 150, 95), bp("2026-04-01", 128, 80), bp("2026-04-08", 150, 95), bp("2026-04-15", 150, 95)]
        ),
        HTN,
        tier="chronic",
        tier_source="measurement",
        confirmed=False,
        due={(HTN, "confirm_diagnosis"): "2026-04-29"},
        not_reasons=("3/3",),
    ),
    Case(
        "htn_two_days_only",
        "SPEC 3 (three different days needed: two readings on one day are one day)",
        htn_subject([bp(ago(20), 150, 95), bp(ago(20), 152, 96), bp(ago(10), 150, 95)]),
        HTN,
        tier="chronic",
        tier_source="measurement",
        confirmed=False,
        due={(HTN, "confirm_diagnosis"): plus(ago(10), 14)},
        overdue={(HTN, "confirm_diagnosis"): 0},
        reasons=(("2/3",),),
        not_reasons=("3/3", "登记诊断"),
    ),
    Case(
        "htn_window_lapsed_series_restarts",
        "SPEC 13.2 (the window lapsed: the series restarts at 1/3, due 14 days after the newest reading)",
        htn_subject([bp("2026-03-01", 150, 95), bp("2026-03-10", 148, 94), bp("2026-06-20", 146, 92)]),
        HTN,
        tier="chronic",
        tier_source="measurement",
        confirmed=False,
        due={(HTN, "confirm_diagnosis"): "2026-07-04"},
        overdue={(HTN, "confirm_diagnosis"): 0},
        exact=True,
        reasons=(("确诊系列已超过28天，需重新测量（1/3）",), ("146/92",)),
        not_reasons=("2/3", "3/3", "登记诊断"),
        action="confirm_diagnosis",
    ),
    Case(
        "htn_confirmed_then_diagnosis_recorded",
        "SPEC 13.2 (record the diagnosis until a diagnosis event); SPEC 13.3 (new patient: first follow-up)",
        htn_subject([*CONFIRMATION_SERIES, dx("2026-05-01", HTN)], diagnosed_hypertension=True),
        HTN,
        tier="chronic",
        tier_source="record",
        due={(HTN, "first_followup"): "2026-05-15"},
        not_due=frozenset({(HTN, "confirm_diagnosis"), (HTN, "recheck")}),
        not_reasons=("调整治疗",),
    ),
    # ---------------------------------------------------------------- 3 / 13.2: diabetes confirmation
    Case(
        "dm_single_fpg_7_2",
        "SPEC 3 (FPG >= 7.0: measured chronic, one result of two); CDS 2020",
        dm_subject([lab(ago(10), fpg_mmol_l=7.2)]),
        DM,
        tier="chronic",
        tier_source="measurement",
        confirmed=False,
        stale=False,
        due={(DM, "confirm_diagnosis"): plus(ago(10), 14)},
        not_due=frozenset({(DM, "refer_now"), (DM, "recheck_stale")}),
        exact=True,
        labels={(DM, "confirm_diagnosis"): "复查确诊"},
        reasons=(("7.2", ago(10)),),
        not_reasons=("登记诊断", "紧急转诊"),
        action="confirm_diagnosis",
    ),
    Case(
        "dm_fpg_7_0_boundary",
        "SPEC 3 / 4.1 boundary (FPG 7.0 is diabetic)",
        dm_subject([lab(ago(10), fpg_mmol_l=7.0)]),
        DM,
        tier="chronic",
        tier_source="measurement",
        confirmed=False,
        due={(DM, "confirm_diagnosis"): plus(ago(10), 14)},
    ),
    Case(
        "dm_fpg_6_9_ifg",
        "SPEC 3 / 4.1 boundary (FPG 6.9 is IFG: high_risk)",
        dm_subject([lab(ago(10), fpg_mmol_l=6.9)]),
        DM,
        tier="high_risk",
        tier_source="measurement",
        not_due=frozenset({(DM, "confirm_diagnosis")}),
    ),
    Case(
        "dm_hba1c_6_5_boundary",
        "SPEC 3 boundary (HbA1c 6.5 is diabetic)",
        dm_subject([lab(ago(10), hba1c_pct=6.5)]),
        DM,
        tier="chronic",
        tier_source="measurement",
        confirmed=False,
        due={(DM, "confirm_diagnosis"): plus(ago(10), 14)},
    ),
    Case(
        "dm_hba1c_6_4_not_diabetic",
        "SPEC 3 boundary (HbA1c 6.4 is not diabetic)",
        dm_subject([lab(ago(10), hba1c_pct=6.4)]),
        DM,
        tier=("healthy", "high_risk"),
        not_due=frozenset({(DM, "confirm_diagnosis")}),
    ),
    Case(
        "dm_two_fpg_confirmed_then_normal_stands",
        "SPEC 3 (two qualifying results on two days); SPEC 13.2 (a later normal result does not undo it)",
        dm_subject(
            [lab("2026-03-01", fpg_mmol_l=7.4), lab("2026-03-15", fpg_mmol_l=7.6), lab("2026-05-01", fpg_mmol_l=5.5)]
        ),
        DM,
        tier="chronic",
        tier_source="measurement",
        confirmed=True,
        due={(DM, "confirm_diagnosis"): "2026-03-29"},
        exact=True,
        labels={(DM, "confirm_diagnosis"): "登记诊断"},
        reasons=(("7.4", "03-01"), ("7.6", "03-15")),
        action="confirm_diagnosis",
    ),
    Case(
        "dm_fpg_and_hba1c_same_day_confirmed",
        "SPEC 3 (two different tests meet their thresholds on the same day); CDS 2020",
        dm_subject([lab("2026-06-01", fpg_mmol_l=7.2, hba1c_pct=6.8)]),
        DM,
        tier="chronic",
        tier_source="measurement",
        confirmed=True,
        due={(DM, "confirm_diagnosis"): "2026-06-15"},
        labels={(DM, "confirm_diagnosis"): "登记诊断"},
    ),
    # ---------------------------------------------------------------- 4.5 / 13.3: managed patients, referrals
    Case(
        "two_uncontrolled_follow_ups_refer",
        "SPEC 4.5 (two consecutive uncontrolled follow-ups: refer, due 14 days after); BPHS 2017",
        managed_htn(
            [fu("2026-05-01", HTN, sbp_mmhg=165, dbp_mmhg=98), fu("2026-06-01", HTN, sbp_mmhg=162, dbp_mmhg=96)]
        ),
        HTN,
        tier="chronic",
        tier_source="record",
        due={(HTN, "refer"): "2026-06-15"},
        not_due=frozenset({(HTN, "recheck"), (HTN, "referral_follow_up")}),
        exact=True,
        reasons=(("162/96", "2026-06-01"),),
        action="refer",
    ),
    Case(
        "one_uncontrolled_follow_up_recheck",
        "SPEC 4.5 boundary (one uncontrolled follow-up: recheck within 14 days); BPHS 2017",
        managed_htn(
            [fu("2026-05-01", HTN, sbp_mmhg=130, dbp_mmhg=80), fu("2026-06-01", HTN, sbp_mmhg=165, dbp_mmhg=98)]
        ),
        HTN,
        due={(HTN, "recheck"): "2026-06-15"},
        not_due=frozenset({(HTN, "refer")}),
        exact=True,
        reasons=(("165/98", "2026-06-01"),),
        action="recheck",
    ),
    Case(
        "referral_sent_follow_up_never_refer",
        "SPEC 13.3 (an open referral replaces refer by referral_follow_up, due sent + 14); SPEC 6",
        managed_htn(
            [
                fu("2026-05-01", HTN, sbp_mmhg=165, dbp_mmhg=98),
                fu("2026-06-01", HTN, sbp_mmhg=162, dbp_mmhg=96),
                referral("2026-06-05", HTN, "sent"),
            ]
        ),
        HTN,
        due={(HTN, "referral_follow_up"): "2026-06-19"},
        not_due=frozenset({(HTN, "refer"), (HTN, "recheck")}),
        exact=True,
        action="referral_follow_up",
    ),
    Case(
        "referral_arrived_never_refer_again",
        "SPEC 13.3 (never listed as refer again for the same episode until returned)",
        managed_htn(
            [
                fu("2026-05-01", HTN, sbp_mmhg=165, dbp_mmhg=98),
                fu("2026-06-01", HTN, sbp_mmhg=162, dbp_mmhg=96),
                referral("2026-06-05", HTN, "sent"),
                referral("2026-06-10", HTN, "arrived"),
            ]
        ),
        HTN,
        not_due=frozenset({(HTN, "refer")}),
    ),
    Case(
        "referral_returned_streak_counts_after_return",
        "SPEC 13.3 (after returned, only follow-ups after the return date count toward the streak)",
        managed_htn(
            [
                fu("2026-04-01", HTN, sbp_mmhg=165, dbp_mmhg=98),
                fu("2026-04-20", HTN, sbp_mmhg=162, dbp_mmhg=96),
                referral("2026-04-25", HTN, "sent"),
                referral("2026-05-20", HTN, "returned"),
                fu("2026-06-10", HTN, sbp_mmhg=158, dbp_mmhg=95),
            ]
        ),
        HTN,
        due={(HTN, "recheck"): "2026-06-24"},
        not_due=frozenset({(HTN, "refer"), (HTN, "referral_follow_up")}),
        exact=True,
        action="recheck",
    ),
    Case(
        "referral_returned_then_two_uncontrolled_refer",
        "SPEC 13.3 boundary (two uncontrolled follow-ups after the return: a new episode, refer)",
        managed_htn(
            [
                fu("2026-04-01", HTN, sbp_mmhg=165, dbp_mmhg=98),
                fu("2026-04-20", HTN, sbp_mmhg=162, dbp_mmhg=96),
                referral("2026-04-25", HTN, "sent"),
                referral("2026-05-20", HTN, "returned"),
                fu("2026-06-01", HTN, sbp_mmhg=158, dbp_mmhg=95),
                fu("2026-06-15", HTN, sbp_mmhg=160, dbp_mmhg=96),
            ]
        ),
        HTN,
        due={(HTN, "refer"): "2026-06-29"},
        not_due=frozenset({(HTN, "recheck"), (HTN, "referral_follow_up")}),
        exact=True,
        action="refer",
    ),
    Case(
        "first_adverse_reaction_recheck",
        "SPEC 13.3 (a first adverse drug reaction: recheck within 14 days, not refer); BPHS 2017",
        managed_htn(
            [
                fu("2026-05-01", HTN, sbp_mmhg=130, dbp_mmhg=80),
                fu("2026-06-10", HTN, sbp_mmhg=128, dbp_mmhg=80, adverse_reaction=True),
            ]
        ),
        HTN,
        due={(HTN, "recheck"): "2026-06-24"},
        not_due=frozenset({(HTN, "refer")}),
        exact=True,
        action="recheck",
    ),
    Case(
        "adverse_reaction_still_recorded_refer",
        "SPEC 13.3 / 4.5 (the next follow-up still records the reaction: refer); BPHS 2017",
        managed_htn(
            [
                fu("2026-05-20", HTN, sbp_mmhg=130, dbp_mmhg=80, adverse_reaction=True),
                fu("2026-06-10", HTN, sbp_mmhg=128, dbp_mmhg=80, adverse_reaction=True),
            ]
        ),
        HTN,
        due={(HTN, "refer"): "2026-06-24"},
        not_due=frozenset({(HTN, "recheck")}),
        exact=True,
        action="refer",
    ),
    Case(
        "adverse_reaction_resolved_nothing_due",
        "SPEC 13.3 boundary (the reaction is gone at the next follow-up); SPEC 6 (no screening finding when managed)",
        managed_htn(
            [
                fu("2026-05-20", HTN, sbp_mmhg=130, dbp_mmhg=80, adverse_reaction=True),
                fu("2026-06-10", HTN, sbp_mmhg=128, dbp_mmhg=80),
            ]
        ),
        HTN,
        not_due=frozenset({(HTN, "refer"), (HTN, "recheck")}),
        exact=True,
        not_reasons=("正常高值",),  # SPEC 6: no screening finding for a disease the resident is managed for
    ),
    Case(
        "new_complication_refer",
        "SPEC 13.3 / 4.5 (a new or worse complication: refer); BPHS 2017",
        managed_htn(
            [
                fu("2026-05-01", HTN, sbp_mmhg=130, dbp_mmhg=80),
                fu("2026-06-10", HTN, sbp_mmhg=128, dbp_mmhg=80, new_complication=True),
            ]
        ),
        HTN,
        due={(HTN, "refer"): "2026-06-24"},
        exact=True,
        action="refer",
    ),
    Case(
        "age_70_145_85_controlled",
        "SPEC 4.5 (bphs2017: < 150/90 at age >= 65)",
        managed_htn(
            [fu("2026-05-01", HTN, sbp_mmhg=140, dbp_mmhg=80), fu("2026-06-10", HTN, sbp_mmhg=145, dbp_mmhg=85)],
            age_years=70.0,
        ),
        HTN,
        not_due=frozenset({(HTN, "recheck"), (HTN, "refer")}),
        exact=True,
    ),
    Case(
        "age_64_145_85_uncontrolled",
        "SPEC 4.5 boundary (bphs2017: < 140/90 under 65)",
        managed_htn(
            [fu("2026-05-01", HTN, sbp_mmhg=130, dbp_mmhg=80), fu("2026-06-10", HTN, sbp_mmhg=145, dbp_mmhg=85)],
            age_years=64.0,
        ),
        HTN,
        due={(HTN, "recheck"): "2026-06-24"},
        exact=True,
        action="recheck",
    ),
    Case(
        "diabetes_fpg_8_0_uncontrolled_recheck",
        "SPEC 4.5 (bphs2017: FPG < 7.0; first uncontrolled follow-up: recheck within 14 days)",
        managed_dm([fu("2026-05-01", DM, fpg_mmol_l=6.5), fu("2026-06-10", DM, fpg_mmol_l=8.0)]),
        DM,
        due={(DM, "recheck"): "2026-06-24"},
        exact=True,
        reasons=(("8.0", "2026-06-10"),),
        action="recheck",
    ),
    # ---------------------------------------------------------------- 13.3: new patients
    Case(
        "new_patient_diagnosed_10_days_ago_untreated",
        "SPEC 13.3 (new patient: first_followup due diagnosis + 14; never 调整治疗; not follow_up_overdue)",
        htn_subject([dx(ago(10), HTN, sbp_mmhg=150, dbp_mmhg=95)], diagnosed_hypertension=True),
        HTN,
        tier="chronic",
        tier_source="record",
        due={(HTN, "first_followup"): plus(ago(10), 14)},
        not_due=frozenset({(HTN, "follow_up_overdue"), (HTN, "recheck"), (HTN, "refer"), (HTN, "confirm_diagnosis")}),
        exact=True,
        action="first_followup",
        not_reasons=("调整治疗",),
    ),
    Case(
        "new_diabetic_diagnosed_10_days_ago_untreated",
        "SPEC 13.3 (new patient: first_followup; never 调整治疗)",
        dm_subject([dx(ago(10), DM, fpg_mmol_l=8.0)], diagnosed_diabetes=True),
        DM,
        tier="chronic",
        tier_source="record",
        due={(DM, "first_followup"): plus(ago(10), 14)},
        not_due=frozenset({(DM, "follow_up_overdue"), (DM, "recheck"), (DM, "refer")}),
        exact=True,
        not_reasons=("调整治疗",),
        action="first_followup",
    ),
    Case(
        "new_patient_first_followup_overdue",
        "SPEC 13.3 (first_followup keeps its due date, diagnosis + 14, and shows overdue days)",
        htn_subject([dx("2026-04-01", HTN, sbp_mmhg=150, dbp_mmhg=95)], diagnosed_hypertension=True),
        HTN,
        due={(HTN, "first_followup"): "2026-04-15"},
        overdue={(HTN, "first_followup"): 77},
        not_due=frozenset({(HTN, "recheck"), (HTN, "refer")}),
        not_reasons=("调整治疗",),
    ),
    Case(
        "new_patient_with_a_follow_up_since",
        "SPEC 13.3 boundary (a follow-up after the diagnosis: no first_followup)",
        htn_subject(
            [
                dx(ago(20), HTN, sbp_mmhg=150, dbp_mmhg=95),
                fu(ago(5), HTN, sbp_mmhg=136, dbp_mmhg=86, on_treatment=False),
            ],
            diagnosed_hypertension=True,
        ),
        HTN,
        not_due=frozenset({(HTN, "first_followup"), (HTN, "follow_up_overdue")}),
    ),
    # ---------------------------------------------------------------- 13.3: stale tasks retire
    Case(
        "refer_older_than_365_days_re_engage",
        "SPEC 13.3 (a task whose creating event is older than stale_task_days becomes re_engage, band 3)",
        managed_htn(
            [fu("2025-05-01", HTN, sbp_mmhg=165, dbp_mmhg=98), fu("2025-06-01", HTN, sbp_mmhg=162, dbp_mmhg=96)]
        ),
        HTN,
        due={(HTN, "re_engage"): None},
        not_due=frozenset({(HTN, "refer"), (HTN, "recheck")}),
        bands={(HTN, "re_engage"): 3},
    ),
    Case(
        "refer_at_365_days_still_refer",
        "SPEC 13.3 boundary (creating event 365 days old is not older than stale_task_days)",
        managed_htn([fu("2025-06-01", HTN, sbp_mmhg=165, dbp_mmhg=98), fu(ago(365), HTN, sbp_mmhg=162, dbp_mmhg=96)]),
        HTN,
        due={(HTN, "refer"): plus(ago(365), 14)},
        not_due=frozenset({(HTN, "re_engage")}),
    ),
    Case(
        "re_engage_never_outranks_current_recheck",
        "SPEC 13.3 (re_engage is band 3: a current uncontrolled 165/98 recheck is the entry's action)",
        managed_htn(
            [
                dx("2024-01-10", DM),
                # the refer comes from a new complication, not a reading: no stale abnormal value (SPEC 13.1)
                fu("2025-04-01", DM, fpg_mmol_l=6.5),
                fu("2025-05-01", DM, fpg_mmol_l=6.6, new_complication=True),
                fu("2026-05-01", HTN, sbp_mmhg=130, dbp_mmhg=80),
                fu("2026-06-10", HTN, sbp_mmhg=165, dbp_mmhg=98),
            ],
            diagnosed_diabetes=True,
            on_glucose_lowering=True,
            **NO_GLUCOSE,
        ),
        HTN,
        due={(HTN, "recheck"): "2026-06-24", (DM, "re_engage"): None},
        not_due=frozenset({(DM, "refer")}),
        bands={(DM, "re_engage"): 3, (HTN, "recheck"): 2},
        action="recheck",
        action_disease=HTN,
    ),
    # ---------------------------------------------------------------- 13.3: face-to-face follow-ups
    Case(
        "face_to_face_91_days_phone_10_days_overdue",
        "SPEC 13.3 (BPHS counts face-to-face follow-ups: last one 91 days old is overdue despite phone)",
        managed_htn([fu(ago(91), HTN, sbp_mmhg=130, dbp_mmhg=80), fu(ago(10), HTN, mode="phone")]),
        HTN,
        due={(HTN, "follow_up_overdue"): plus(ago(91), 90)},
        bands={(HTN, "follow_up_overdue"): 3},
        reasons=(("面对面",),),
        action="follow_up_overdue",
    ),
    Case(
        "face_to_face_90_days_phone_10_days_not_overdue",
        "SPEC 13.3 boundary (90 days is not more than 90)",
        managed_htn([fu(ago(90), HTN, sbp_mmhg=130, dbp_mmhg=80), fu(ago(10), HTN, mode="phone")]),
        HTN,
        not_due=frozenset({(HTN, "follow_up_overdue")}),
    ),
    Case(
        "face_to_face_91_days_no_phone_overdue",
        "SPEC 6 / 13.3 (no follow-up in 90 days: due 90 days after the last)",
        managed_htn([fu(ago(91), HTN, sbp_mmhg=130, dbp_mmhg=80)]),
        HTN,
        due={(HTN, "follow_up_overdue"): plus(ago(91), 90)},
        overdue={(HTN, "follow_up_overdue"): 1},
        exact=True,
        action="follow_up_overdue",
    ),
    # ---------------------------------------------------------------- 13.4: pregnancy
    Case(
        "pregnant_bp_145_92_refer_now",
        "SPEC 13.4 (raised BP in pregnancy: refer now; BPHS 2017 妊娠期高血压)",
        htn_subject([bp(ago(10), 145, 92)], pregnant=True, age_years=30.0),
        HTN,
        due={(HTN, "refer_now"): None},
        bands={(HTN, "refer_now"): 1},
        action="refer_now",
        action_disease=HTN,
        reasons=(("145/92", ago(10)),),
    ),
    Case(
        "pregnant_bp_140_85_refer_now",
        "SPEC 13.4 boundary (SBP 140)",
        htn_subject([bp(ago(10), 140, 85)], pregnant=True, age_years=30.0),
        HTN,
        due={(HTN, "refer_now"): None},
    ),
    Case(
        "pregnant_bp_135_90_refer_now",
        "SPEC 13.4 boundary (DBP 90)",
        htn_subject([bp(ago(10), 135, 90)], pregnant=True, age_years=30.0),
        HTN,
        due={(HTN, "refer_now"): None},
    ),
    Case(
        "pregnant_bp_139_89_no_refer_now",
        "SPEC 13.4 boundary (below 140/90)",
        htn_subject([bp(ago(10), 139, 89)], pregnant=True, age_years=30.0),
        HTN,
        not_due=frozenset({(HTN, "refer_now")}),
        not_reasons=("紧急转诊",),
    ),
    Case(
        "pregnant_bp_145_92_at_40_days_no_refer_now",
        "SPEC 13.4 with SPEC 4.5 (readings older than the 30-day look-back do not trigger refer_now)",
        htn_subject([bp(ago(40), 145, 92)], pregnant=True, age_years=30.0),
        HTN,
        not_due=frozenset({(HTN, "refer_now")}),
    ),
    Case(
        "pregnant_at_the_event_bp_150_95_refer_now",
        "SPEC 13.4 (event column pregnant)",
        htn_subject([bp(ago(10), 150, 95, pregnant=True)], age_years=30.0),
        HTN,
        due={(HTN, "refer_now"): None},
    ),
    Case(
        "pregnant_fpg_5_1_refer_now",
        "SPEC 13.4 (glucose above normal in pregnancy: refer now; CDS 2020 gestational fasting 5.1)",
        dm_subject([lab(ago(10), fpg_mmol_l=5.1)], pregnant=True, age_years=30.0),
        DM,
        due={(DM, "refer_now"): None},
        action="refer_now",
        action_disease=DM,
        reasons=(("5.1", ago(10)),),
    ),
    Case(
        "pregnant_fpg_5_0_no_refer_now",
        "SPEC 13.4 boundary (fasting 5.0 is normal in pregnancy)",
        dm_subject([lab(ago(10), fpg_mmol_l=5.0)], pregnant=True, age_years=30.0),
        DM,
        not_due=frozenset({(DM, "refer_now")}),
        not_reasons=("紧急转诊",),
    ),
    Case(
        "pregnant_no_model_tier_no_screen",
        "SPEC 13.4 (pregnant residents get no model-based screening tier and no screen)",
        resident(
            [],
            pregnant=True,
            age_years=38.0,
            sex="F",
            weight_kg=85.0,
            waist_cm=98.0,
            family_history_diabetes=True,
            family_history_hypertension=True,
            physically_active=False,
            **NO_BP,
            **NO_GLUCOSE,
        ),
        DM,
        not_due=frozenset({(DM, "screen"), (HTN, "screen")}),
        check=_no_model_tier_and_no_screen,
    ),
    Case(
        "not_pregnant_control_is_screened",
        "SPEC 5 (the same resident not pregnant, never tested: screening due) — control for the row above",
        resident(
            [],
            pregnant=False,
            age_years=38.0,
            sex="F",
            weight_kg=85.0,
            waist_cm=98.0,
            family_history_diabetes=True,
            family_history_hypertension=True,
            physically_active=False,
            **NO_BP,
            **NO_GLUCOSE,
        ),
        DM,
        due={(DM, "screen"): AS_OF.isoformat(), (HTN, "screen"): AS_OF.isoformat()},
        check=_screen_due,
    ),
    # ---------------------------------------------------------------- 13.5: what the doctor reads
    Case(
        "cdrs_raised_tier_says_risk_score",
        "SPEC 13.5 (a CDRS-raised tier says 风险评分, never 检测结果); SPEC 3 (CDRS >= 25 at 20-74); Zhou 2013",
        resident(
            [], sex="M", age_years=60.0, height_cm=170.0, weight_kg=88.0, waist_cm=100.0, sbp_mmhg=118.0, dbp_mmhg=76.0
        ),
        DM,
        tier="high_risk",
        check=_cdrs_line_says_score,
    ),
    Case(
        "unconfirmed_raised_bp_is_not_hypertension",
        "SPEC 13.5 (血压升高（未确诊） for an unrecorded, unconfirmed raised BP); CDS 2020 risk factor",
        htn_subject([bp(ago(10), 150, 95)]),
        HTN,
        tier="chronic",
        tier_source="measurement",
        confirmed=False,
        reasons=(("血压升高（未确诊）",),),
        not_reasons=("高血压或正在接受降压治疗",),
        check=_findings_text(DM, "高血压或正在接受降压治疗", False),
    ),
    Case(
        "recorded_hypertension_is_a_diabetes_risk_factor",
        "SPEC 13.5 (高血压或正在接受降压治疗 for a recorded hypertension); CDS 2020",
        managed_htn([fu(ago(30), HTN, sbp_mmhg=130, dbp_mmhg=80)]),
        HTN,
        reasons=(("高血压或正在接受降压治疗",),),
        not_reasons=("血压升高（未确诊）",),
    ),
    Case(
        "confirmed_hypertension_is_a_diabetes_risk_factor",
        "SPEC 13.5 (高血压或正在接受降压治疗 for a confirmed hypertension); CDS 2020",
        htn_subject(list(CONFIRMATION_SERIES)),
        HTN,
        confirmed=True,
        reasons=(("高血压或正在接受降压治疗",),),
        not_reasons=("血压升高（未确诊）",),
    ),
    # ---------------------------------------------------------------- the same in English
    Case(
        "en_stale_bp_185_115_16_months",
        "SPEC 13.1 (lang=en: value and date shown)",
        htn_subject([bp(STALE_BP_DATE, 185, 115)]),
        HTN,
        lang="en",
        tier_source="measurement",
        stale=True,
        due={(HTN, "recheck_stale"): plus(AS_OF.isoformat(), 3)},
        action="recheck_stale",
        reasons=(("185/115", STALE_BP_DATE),),
    ),
    Case(
        "en_htn_three_days_confirmed",
        "SPEC 13.5 (lang=en: each qualifying value with its date)",
        htn_subject(list(CONFIRMATION_SERIES)),
        HTN,
        lang="en",
        confirmed=True,
        due={(HTN, "confirm_diagnosis"): "2026-04-29"},
        labels={(HTN, "confirm_diagnosis"): "record the diagnosis"},
        reasons=(("152/94", "04-01"), ("148/92", "04-08"), ("150/96", "04-15")),
        not_reasons=("2/3", "2 of 3"),
        check=_count_shown("3/3", "3 of 3"),
    ),
    Case(
        "en_random_glucose_12_5_without_symptoms",
        "SPEC 13.1 (lang=en)",
        dm_subject([ev(ago(10), random_glucose_mmol_l=12.5)]),
        DM,
        lang="en",
        tier="high_risk",
        tier_source="measurement",
        due={(DM, "confirm_diagnosis"): plus(ago(10), 14)},
        tests_within={(DM, "confirm_diagnosis"): CONFIRM_TESTS},
        reasons=(("12.5", ago(10)),),
        not_reasons=("record the diagnosis",),
    ),
    Case(
        "en_new_patient_not_told_to_adjust_treatment",
        "SPEC 13.3 (lang=en)",
        htn_subject([dx(ago(10), HTN, sbp_mmhg=150, dbp_mmhg=95)], diagnosed_hypertension=True),
        HTN,
        lang="en",
        due={(HTN, "first_followup"): plus(ago(10), 14)},
        not_due=frozenset({(HTN, "follow_up_overdue")}),
        not_reasons=("adjust treatment", "adjust the treatment"),
    ),
]

assert len({case.id for case in CASES}) == len(CASES), "case ids are unique"


# --------------------------------------------------------------------------------------------- the API


@pytest.fixture(scope="module")
def client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, config):  # type: ignore[no-untyped-def]
    """The API over the session's trained model (or a saved one: RISKMODEL_CONFORMANCE_MODEL), fresh store."""
    folder = tmp_path_factory.mktemp("conformance")
    saved = os.environ.get("RISKMODEL_CONFORMANCE_MODEL")
    model_dir = saved or str(request.getfixturevalue("model").save(folder / "model"))
    keys = {hashlib.sha256(KEY.encode()).hexdigest(): ("*",)}
    settings = config.model_copy(update={"serving": config.serving.model_copy(update={"api_keys": keys})})
    app = create_app(settings, model_uri=model_dir, store_url=f"sqlite:///{folder / 'store.db'}", poll=False)
    with TestClient(app) as test_client:
        yield test_client


def assess(client: TestClient, case: Case) -> dict[str, Any]:
    response = client.post(
        f"/v1/assessments?explain=true&lang={case.lang}&as_of={case.as_of}",
        json={"records": [case.record]},
        headers={"X-API-Key": KEY},
    )
    assert response.status_code == 200, response.text
    (assessment,) = response.json()["assessments"]
    return assessment


def _actions(assessment: dict[str, Any]) -> dict[Key, dict[str, Any]]:
    return {(a["disease"], a["action"]): a for a in assessment["actions"]}


def _shown(assessment: dict[str, Any]) -> str:
    return "\n".join(assessment.get("reasons") or [])


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_conformance(client: TestClient, case: Case) -> None:
    a = assess(client, case)
    block = a[case.disease]
    actions = _actions(a)
    context = f"{case.clause}\nactions: {a['actions']}\nreasons: {a.get('reasons')}\n{case.disease}: {block}"

    if case.tier is not None:
        allowed = (case.tier,) if isinstance(case.tier, str) else case.tier
        assert block["tier"] in allowed, context
    if case.tier_source is not None:
        assert block["tier_source"] == case.tier_source, context
    if case.confirmed is not None:
        assert block["confirmed"] is case.confirmed, context
    if case.stale is not None:
        assert "stale" in block, "version 3: each disease says whether its deciding result is stale\n" + context
        assert block["stale"] is case.stale, context

    for key, due_date in case.due.items():
        assert key in actions, f"{key} not due\n{context}"
        if due_date is not None:
            assert actions[key]["due_date"] == due_date, f"{key} due\n{context}"
    for key in case.not_due:
        assert key not in actions, f"{key} is due\n{context}"
    if case.exact:
        got = {k for k in actions if k[0] == case.disease and k[1] != "screen"}
        want = {k for k in case.due if k[0] == case.disease and k[1] != "screen"}
        assert got == want, context
    for key, band in case.bands.items():
        assert actions[key]["band"] == band, f"{key} band\n{context}"
    for key, days in case.overdue.items():
        assert actions[key]["overdue_days"] == days, f"{key} overdue days\n{context}"
    for key, allowed_tests in case.first_test.items():
        tests = [t for t in actions[key]["tests"].split(", ") if t]
        assert tests and tests[0] in allowed_tests, f"{key} tests\n{context}"
    for key, allowed_tests in case.tests_within.items():
        tests = [t for t in actions[key]["tests"].split(", ") if t]
        assert tests and set(tests) <= allowed_tests, f"{key} tests\n{context}"
    for key, text in case.labels.items():
        assert actions[key]["label"] == text, f"{key} label\n{context}"
    if case.action is not None:
        assert a["action"] == case.action, context
    if case.action_disease is not None:
        assert a["action_disease"] == case.action_disease, context
    if case.top_of_band is not None:
        top = actions[case.top_of_band]["priority"]
        others = [x["priority"] for k, x in actions.items() if x["band"] == 2 and k != case.top_of_band]
        assert all(top >= p for p in others), context

    reasons = a.get("reasons") or []
    for fragments in case.reasons:
        assert any(all(f in line for f in fragments) for line in reasons), f"{fragments} not shown together\n{context}"
    shown = _shown(a)
    for fragment in case.not_reasons:
        assert fragment not in shown, f"{fragment!r} shown\n{context}"
    if case.check is not None:
        case.check(a)


# ------------------------------------------------------------------------------ properties over the table

_CITATION = re.compile(r"\[[^\]]*\]")
_ALLOWED_LATIN = {"mmol", "mmhg", "kg", "cm", "bmi", "hba1c", "ogtt", "cdrs", "l", "m", "s", "d", "x"}
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_THRESHOLD = re.compile(r"[≥≤<>＜＞]=?\s*\d+(?:\.\d+)?(?:\s*/\s*\d+(?:\.\d+)?)?")
_RANGE = re.compile(r"\d+(?:\.\d+)?\s*[–~-]\s*\d+(?:\.\d+)?")
_VALUE = re.compile(
    r"(?<![\d./:-])(?:\d{2,3}/\d{2,3}(?![\d/])|\d{1,2}\.\d+\s*(?:mmol|%))"
)  # a BP (152/94) or a glucose / HbA1c value (7.2 mmol/L, 6.8 %)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|(?<!\d)\d{2}-\d{2}(?!\d)")
_CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_reasons_are_in_the_language_asked_for_and_every_value_has_its_date(client: TestClient, case: Case) -> None:
    a = assess(client, case)
    reasons = a.get("reasons") or []
    for line in reasons:
        body = _CITATION.sub("", line)
        if case.lang == "zh":
            english = [w for w in _LATIN_WORD.findall(body) if w.lower() not in _ALLOWED_LATIN]
            assert not english, f"English in a zh reason: {english} in {line!r}"
        else:
            assert not _CJK.search(body), f"Chinese in an en reason: {line!r}"
        values = _VALUE.findall(_RANGE.sub("", _THRESHOLD.sub("", body)))
        if values:
            assert _DATE.search(body), f"values {values} without a date: {line!r}"


# ------------------------------------------------------------------------------ orderings (SPEC 6, 13.1, 13.3)


def _attention(assessment: dict[str, Any], disease: str) -> tuple[int, float]:
    """How much attention the disease's most urgent action gets: (-band, priority); no action is least."""
    mine = [(-x["band"], x["priority"]) for x in assessment["actions"] if x["disease"] == disease]
    return max(mine) if mine else (-99, float("-inf"))


def _priority(assessment: dict[str, Any], key: Key) -> float:
    actions = _actions(assessment)
    assert key in actions, (key, assessment["actions"])
    return float(actions[key]["priority"])


@dataclass(frozen=True)
class Order:
    id: str
    clause: str
    more: dict[str, Any]
    less: dict[str, Any]
    disease: str
    key: Key | None = None
    """Compare this action's priority (else the disease's most urgent action: band, then priority)."""
    relation: str = ">="
    """'>=' (never less attention), '>' (more) or '==' (the same)."""


ORDERS: list[Order] = [
    Order(
        "stale_diabetic_fpg_never_lighter_than_stale_ifg",
        "SPEC 13.1 (a stale diabetic-range result is never treated more lightly than a stale prediabetic one)",
        dm_subject([lab(STALE_FPG_DATE, fpg_mmol_l=8.5)]),
        dm_subject([lab(STALE_FPG_DATE, fpg_mmol_l=6.5)]),
        DM,
    ),
    Order(
        "stale_diabetic_fpg_7_0_never_lighter_than_stale_ifg_6_9",
        "SPEC 13.1 (boundary pair)",
        dm_subject([lab(STALE_FPG_DATE, fpg_mmol_l=7.0)]),
        dm_subject([lab(STALE_FPG_DATE, fpg_mmol_l=6.9)]),
        DM,
    ),
    Order(
        "stale_diabetic_hba1c_never_lighter_than_stale_prediabetic_hba1c",
        "SPEC 13.1",
        dm_subject([lab("2025-05-01", hba1c_pct=7.0)]),
        dm_subject([lab("2025-05-01", hba1c_pct=6.0)]),
        DM,
    ),
    Order(
        "stale_emergency_bp_above_stale_grade_1_bp",
        "SPEC 13.1 (emergency-level: top of band 2)",
        htn_subject([bp(STALE_BP_DATE, 185, 115)]),
        htn_subject([bp(STALE_BP_DATE, 150, 95)]),
        HTN,
        key=(HTN, "recheck_stale"),
        relation=">",
    ),
    Order(
        "emergency_level_recheck_stale_tops_an_overdue_grade_2_refer",
        "SPEC 13.1 (emergency-level recheck_stale at the top of band 2); SPEC 6",
        htn_subject([bp(ago(31), 185, 115)]),
        managed_htn(
            [fu("2026-05-01", HTN, sbp_mmhg=175, dbp_mmhg=105), fu("2026-06-01", HTN, sbp_mmhg=172, dbp_mmhg=104)]
        ),
        HTN,
    ),
    Order(
        "ogtt_18_urgent_confirmation_above_ogtt_12",
        "SPEC 4.5 (OGTT-2h >= 16.7: urgent confirm_diagnosis at the top of its band)",
        dm_subject([lab(ago(5), ogtt_2h_mmol_l=18.0)]),
        dm_subject([lab(ago(5), ogtt_2h_mmol_l=12.0)]),
        DM,
        key=(DM, "confirm_diagnosis"),
        relation=">",
    ),
    Order(
        "stale_reading_never_raises_recheck_severity",
        "SPEC 13.3 (severity uses fresh values only)",
        managed_htn(
            [
                fu(STALE_BP_DATE, HTN, sbp_mmhg=185, dbp_mmhg=115),
                fu("2026-03-01", HTN, sbp_mmhg=130, dbp_mmhg=80),
                fu("2026-06-10", HTN, sbp_mmhg=145, dbp_mmhg=92),
            ]
        ),
        managed_htn(
            [
                fu(STALE_BP_DATE, HTN, sbp_mmhg=130, dbp_mmhg=80),
                fu("2026-03-01", HTN, sbp_mmhg=130, dbp_mmhg=80),
                fu("2026-06-10", HTN, sbp_mmhg=145, dbp_mmhg=92),
            ]
        ),
        HTN,
        key=(HTN, "recheck"),
        relation="==",
    ),
    Order(
        "overdue_days_stop_adding_after_90",
        "SPEC 13.3 (overdue days stop adding to priority after 90)",
        managed_htn([fu(ago(200), HTN, sbp_mmhg=130, dbp_mmhg=80), fu(ago(134), HTN, sbp_mmhg=145, dbp_mmhg=92)]),
        managed_htn([fu(ago(200), HTN, sbp_mmhg=130, dbp_mmhg=80), fu(ago(114), HTN, sbp_mmhg=145, dbp_mmhg=92)]),
        HTN,
        key=(HTN, "recheck"),
        relation="==",
    ),
    Order(
        "overdue_days_raise_priority_below_90",
        "SPEC 6 (overdue days raise the score) — the other side of the cap",
        managed_htn([fu(ago(120), HTN, sbp_mmhg=130, dbp_mmhg=80), fu(ago(44), HTN, sbp_mmhg=145, dbp_mmhg=92)]),
        managed_htn([fu(ago(120), HTN, sbp_mmhg=130, dbp_mmhg=80), fu(ago(24), HTN, sbp_mmhg=145, dbp_mmhg=92)]),
        HTN,
        key=(HTN, "recheck"),
        relation=">",
    ),
]


@pytest.mark.parametrize("order", ORDERS, ids=[order.id for order in ORDERS])
def test_ordering(client: TestClient, order: Order) -> None:
    more = assess(client, Case(order.id, order.clause, order.more, order.disease))
    less = assess(client, Case(order.id, order.clause, order.less, order.disease))
    x: Any
    y: Any
    if order.key is None:
        x, y = _attention(more, order.disease), _attention(less, order.disease)
    else:
        x, y = _priority(more, order.key), _priority(less, order.key)
    context = f"{order.clause}\nmore: {more['actions']}\nless: {less['actions']}"
    if order.relation == ">=":
        assert x >= y, context
    elif order.relation == ">":
        assert x > y, context
    else:
        assert x == y, context


def test_the_table_is_large_enough() -> None:
    assert len(CASES) >= 60
