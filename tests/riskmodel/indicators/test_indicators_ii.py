"""Indicators II (SPEC 13.6, amending SPEC 11) against small hand-built residents and histories.

Each test names the clause it checks and puts residents on both sides of its boundary.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from riskmodel.indicators.compute import (
    RESIDENT_FIELDS,
    cohort_quarters,
    compute_indicators,
    departure_outcomes,
    month_ends,
    registered_dates,
)
from riskmodel.records.events import events_table

A = dt.date(2026, 7, 1)
"""The batch's as-of date, at which ``age_years`` holds."""


def _day(n: int) -> dt.date:
    return A - dt.timedelta(days=n)


def _resident(rid: str, team: str = "T1", grid: str = "G1", **row: object) -> dict[str, object]:
    base: dict[str, object] = {name: None for name in RESIDENT_FIELDS.names}
    base.update(
        resident_id=rid,
        team_id=team,
        grid_id=grid,
        age_years=60.0,
        pregnant=False,
        diabetes_recorded=False,
        hypertension_recorded=False,
        diabetes_flag=False,
        hypertension_flag=False,
        hypertension_interval=365.0,
        diabetes_interval=1095.0,
    )
    base.update(row)
    return base


def _htn(rid: str, registered: dt.date | None = _day(800), **row: object) -> dict[str, object]:
    return _resident(rid, hypertension_recorded=True, hypertension_registered=registered, **row)


def _dm(rid: str, registered: dt.date | None = _day(800), **row: object) -> dict[str, object]:
    return _resident(rid, diabetes_recorded=True, diabetes_registered=registered, **row)


def _event(rid: str, key: str, day: dt.date, kind: str = "followup", **values: object) -> dict[str, object]:
    event: dict[str, object] = {"event_id": f"{rid}-{key}", "resident_id": rid, "event_date": day, "kind": kind}
    if kind == "followup":
        event.update(mode="clinic")
    event.update(values)
    return event


def _bp(rid: str, key: str, day: dt.date, sbp: float | None = 130, dbp: float | None = 80, **values: object):
    return _event(rid, key, day, disease="hypertension", sbp_mmhg=sbp, dbp_mmhg=dbp, **values)


def _figures(config, residents, events, dates=(A,), outcomes=None):  # type: ignore[no-untyped-def]
    table = pa.Table.from_pylist(residents, schema=RESIDENT_FIELDS)
    rows = compute_indicators(table, events_table(events), list(dates), as_of=A, config=config, outcomes=outcomes)
    return {(r["level"], r["unit_id"], r["disease"], r["indicator"], r["ref_date"]): r for r in rows}


def _pair(figures, indicator, disease="hypertension", day=A, level="county", unit="*"):  # type: ignore[no-untyped-def]
    row = figures[(level, unit, disease, indicator, day)]
    return row["numerator"], row["denominator"]


def _profile(config, profile: str):  # type: ignore[no-untyped-def]
    return config.model_copy(update={"control": config.control.model_copy(update={"profile": profile})})


# ------------------------------------------------------------------------------------ HEARTS diabetes control


HEARTS_PARTS = ("hearts_controlled", "hearts_uncontrolled", "hearts_visit_no_measure", "hearts_missed_visit")


def test_hearts_diabetes_control_with_fpg_only_hba1c_only_and_both(config):
    """SPEC 13.6: the newest FPG or HbA1c in (A - 90 days, A] decides; a missing test is never a pass; a
    resident whose newest value is uncontrolled is uncontrolled; no SQL NULL moves anyone. Both tests on the
    newest day: controlled only if each is < 7.0."""
    dm = {"disease": "diabetes"}
    residents = [
        _dm("fpg_ok"),  # FPG 6.9 alone: controlled
        _dm("hba1c_bad"),  # HbA1c 8.1 alone (no FPG): uncontrolled, not "visit without a measurement"
        _dm("both_mixed"),  # FPG 6.5 and HbA1c 7.5 the same day: uncontrolled (a pass needs every measured one)
        _dm("newest_bad"),  # FPG 6.0 sixty days ago, then HbA1c 7.0 ten days ago: the newest decides
        _dm("no_measure"),  # a follow-up without a glucose 30 days ago
        _dm("missed"),  # last visit 200 days ago
        _dm("hba1c_ok", team="T2"),  # HbA1c 6.9 alone: controlled
        _dm("fpg_bad", team="T2"),  # FPG 7.0 alone: uncontrolled
        _dm("both_ok", team="T2"),  # FPG 6.9 and HbA1c 6.9 the same day: controlled
    ]
    events = [
        _event("fpg_ok", "1", _day(20), fpg_mmol_l=6.9, **dm),
        _event("hba1c_bad", "1", _day(20), hba1c_pct=8.1, **dm),
        _event("both_mixed", "1", _day(20), fpg_mmol_l=6.5, hba1c_pct=7.5, **dm),
        _event("newest_bad", "1", _day(60), fpg_mmol_l=6.0, **dm),
        _event("newest_bad", "2", _day(10), kind="lab", hba1c_pct=7.0),
        _event("no_measure", "1", _day(30), **dm),
        _event("missed", "1", _day(200), fpg_mmol_l=6.0, **dm),
        _event("hba1c_ok", "1", _day(20), kind="lab", hba1c_pct=6.9),
        _event("fpg_bad", "1", _day(20), fpg_mmol_l=7.0, **dm),
        _event("both_ok", "1", _day(20), fpg_mmol_l=6.9, hba1c_pct=6.9, **dm),
    ]
    figures = _figures(config, residents, events)
    t1 = {p: _pair(figures, p, "diabetes", level="team", unit="T1") for p in HEARTS_PARTS}
    assert t1 == {
        "hearts_controlled": (1, 6),
        "hearts_uncontrolled": (3, 6),
        "hearts_visit_no_measure": (1, 6),
        "hearts_missed_visit": (1, 6),
    }
    t2 = {p: _pair(figures, p, "diabetes", level="team", unit="T2")[0] for p in HEARTS_PARTS}
    assert t2 == {
        "hearts_controlled": 2,
        "hearts_uncontrolled": 1,
        "hearts_visit_no_measure": 0,
        "hearts_missed_visit": 0,
    }
    county = [_pair(figures, p, "diabetes")[0] for p in HEARTS_PARTS]
    assert county == [3, 4, 1, 1] and sum(county) == _pair(figures, "hearts_controlled", "diabetes")[1] == 9


def test_hearts_diabetes_control_from_the_resident_rows_dated_values(config):
    """SPEC 11: a measurement is also the row's own dated value; SPEC 13.6: an HbA1c-only row is judged on it."""
    residents = [
        _dm("row_hba1c_bad", hba1c_pct=7.2, glucose_date=_day(5)),
        _dm("row_fpg_ok", fpg_mmol_l=5.9, glucose_date=_day(5)),
    ]
    events = [_event(rid, "1", _day(30), disease="diabetes") for rid in ("row_hba1c_bad", "row_fpg_ok")]
    figures = _figures(config, residents, events)
    assert _pair(figures, "hearts_controlled", "diabetes") == (1, 2)
    assert _pair(figures, "hearts_uncontrolled", "diabetes") == (1, 2)


# ---------------------------------------------------------------------------- 控制率: the newest follow-up


def test_control_rate_newest_followup_without_measurement_is_not_controlled(config):
    """SPEC 13.6: 控制率 uses the newest follow-up in W (最近一次随访); without a BP it is not 达标."""
    residents = [_htn("measured_then_phone"), _htn("phone_then_measured"), _htn("measured_only")]
    events = [
        _bp("measured_then_phone", "1", _day(60)),
        _bp("measured_then_phone", "2", _day(10), sbp=None, dbp=None, mode="phone"),
        _bp("phone_then_measured", "1", _day(60), sbp=None, dbp=None, mode="phone"),
        _bp("phone_then_measured", "2", _day(10)),
        _bp("measured_only", "1", _day(10), sbp=140),  # measured, not controlled (140 is not < 140)
    ]
    figures = _figures(config, residents, events)
    assert _pair(figures, "control_rate") == (1, 3)  # phone_then_measured only


def test_control_rate_diabetes_defining_test_depends_on_the_profile(config):
    """SPEC 4.5 / 13.6: under bphs2017 the defining test is the FPG (an HbA1c-only newest follow-up is not
    达标); under guideline2024 an FPG or an HbA1c is a measurement."""
    residents = [_dm("hba1c_only"), _dm("fpg_only")]
    events = [
        _event("hba1c_only", "1", _day(60), disease="diabetes", fpg_mmol_l=6.0),
        _event("hba1c_only", "2", _day(10), disease="diabetes", hba1c_pct=6.5),
        _event("fpg_only", "1", _day(10), disease="diabetes", fpg_mmol_l=6.5),
    ]
    assert _pair(_figures(config, residents, events), "control_rate", "diabetes") == (1, 2)
    figures = _figures(_profile(config, "guideline2024"), residents, events)
    assert _pair(figures, "control_rate", "diabetes") == (2, 2)


# -------------------------------------------------------------------------------------- ages at each date


def test_bphs_figures_cover_35_and_over_hearts_adults(config):
    """SPEC 13.6: BPHS indicators cover residents aged >= 35 (BPHS 2017's management population); HEARTS
    covers adults >= 18. The age is the one at each reference date."""
    march = dt.date(2026, 3, 31)  # 92 days before A: 0.25 years younger
    residents = [
        _htn("age34", age_years=34.9),
        _htn("age35", age_years=35.0),
        _htn("turns35", age_years=35.1),  # 34.85 on 2026-03-31
        _resident("risky34", age_years=34.9, hypertension_flag=True),
        _resident("risky35", age_years=35.0, hypertension_flag=True),
        _htn("adult18", age_years=18.1),  # 17.85 on 2026-03-31: not yet in HEARTS
    ]
    events = [_bp(r["resident_id"], "1", dt.date(2026, 3, 15)) for r in residents if r["hypertension_recorded"]]
    figures = _figures(config, residents, events, dates=(march, A))
    assert _pair(figures, "managed", day=A)[0] == 2  # age35, turns35
    assert _pair(figures, "managed", day=march)[0] == 0  # on 2026-03-31 age35 was 34.75 and turns35 34.85
    assert _pair(figures, "estimated_patients", day=A)[0] == pytest.approx(3 * 0.25)  # age35, turns35, risky35
    assert _pair(figures, "guideline_high_risk", day=A)[0] == 1  # risky35
    assert _pair(figures, "control_rate", day=A) == (2, 2)
    assert _pair(figures, "hearts_controlled", day=A)[1] == 4  # every adult patient: age34, age35, turns35, 18
    assert _pair(figures, "hearts_controlled", day=march)[1] == 3  # adult18 was 17.85


def test_elderly_bp_target_uses_the_age_at_each_reference_date(config):
    """SPEC 4.5 (bphs2017: < 150/90 at age >= 65) and 13.6: the age at each reference date of the trend."""
    march = dt.date(2026, 3, 31)
    residents = [_htn("turns65", age_years=65.1), _htn("age64", age_years=64.5), _htn("age66", age_years=66.0)]
    events = [_bp(r["resident_id"], "1", dt.date(2026, 3, 15), sbp=145, dbp=85) for r in residents]
    figures = _figures(config, residents, events, dates=(march, A))
    assert _pair(figures, "control_rate", day=march) == (1, 3)  # age66 (65.75); turns65 was 64.85
    assert _pair(figures, "control_rate", day=A) == (2, 3)  # turns65 and age66; age64 is held to < 140


# ---------------------------------------------------------------------------------------- died, moved, ...


def test_a_death_mid_trend_leaves_the_later_denominators_only(config):
    """SPEC 13.6: a ``status`` event (died) removes the resident from every denominator and numerator from its
    date on, in every month of the trend after it; before it they count."""
    died = dt.date(2026, 5, 15)
    dates = (dt.date(2026, 4, 30), dt.date(2026, 5, 14), died, *month_ends(A, 2))
    residents = [_htn("alive", _day(500)), _htn("dies", _day(500)), _resident("risky", hypertension_flag=True)]
    events = [
        *[
            _bp(rid, str(k), dt.date(2026, 1, 10) + dt.timedelta(days=30 * k))
            for rid in ("alive", "dies")
            for k in range(5)
        ],
        _event("dies", "status", died, kind="status", status="died"),
        _event("risky", "status", died, kind="status", status="moved"),
    ]
    figures = _figures(config, residents, events, dates=dates)
    for day in dates[:2]:
        assert _pair(figures, "management_rate", day=day) == (2, pytest.approx(3 * 0.25)), day
        assert _pair(figures, "hearts_controlled", day=day)[1] == 2
        assert _pair(figures, "guideline_high_risk", day=day)[0] == 1
    for day in dates[2:]:
        assert _pair(figures, "management_rate", day=day) == (1, pytest.approx(1 * 0.25)), day
        assert _pair(figures, "control_rate", day=day) == (1, 1)
        assert _pair(figures, "hearts_controlled", day=day)[1] == 1
        assert _pair(figures, "hearts_ltfu_12m", day=day)[0] == 0
        assert _pair(figures, "guideline_high_risk", day=day)[0] == 0
        assert _pair(figures, "management_rate", day=day, level="grid", unit="G1")[1] == pytest.approx(0.25)


@pytest.fixture()
def outcome_store(tmp_path):  # type: ignore[no-untyped-def]
    from riskmodel.store.batches import ResultStore

    store = ResultStore(f"sqlite:///{tmp_path / 'store.db'}")
    yield store
    store.dispose()


def _outcome(store, rid: str, outcome: str, on: dt.date) -> None:  # type: ignore[no-untyped-def]
    store.outcomes.append(
        {
            "team_id": "T1",
            "resident_id": rid,
            "disease": None,
            "action": None,
            "outcome": outcome,
            "reason": None,
            "note": None,
            "recorded_on": on,
            "recorded_by": "test",
            "hidden_until": None,
        }
    )


def test_a_died_outcome_in_the_store_and_a_reinstated_move(config, outcome_store):
    """SPEC 13.6 (outcomes): ``died`` recorded on a date removes the resident from that date on; ``moved``
    does too until a later ``reinstate``; an outcome about another disease's action does not."""
    _outcome(outcome_store, "dies", "died", dt.date(2026, 5, 15))
    _outcome(outcome_store, "away", "moved", dt.date(2026, 4, 10))
    _outcome(outcome_store, "away", "reinstate", dt.date(2026, 6, 10))
    outcome_store.outcomes.append(
        {
            "team_id": "T1",
            "resident_id": "alive",
            "disease": "hypertension",
            "action": "recheck",
            "outcome": "agreed",
            "reason": None,
            "note": None,
            "recorded_on": dt.date(2026, 4, 1),
            "recorded_by": "test",
            "hidden_until": None,
        }
    )
    residents = [_htn(rid, _day(500)) for rid in ("alive", "dies", "away")]
    events = [
        _bp(rid, str(k), dt.date(2026, 1, 10) + dt.timedelta(days=30 * k))
        for rid in ("alive", "dies", "away")
        for k in range(5)
    ]
    dates = month_ends(A, 4)  # 04-30, 05-31, 06-30, 07-01
    figures = _figures(config, residents, events, dates=dates, outcomes=departure_outcomes(outcome_store))
    managed = [_pair(figures, "managed", day=day)[0] for day in dates]
    assert managed == [2, 1, 2, 2]  # away gone 04-10 .. 06-10; dies gone from 05-15
    assert [_pair(figures, "estimated_patients", day=day)[0] for day in dates] == pytest.approx([0.5, 0.25, 0.5, 0.5])
    # without the store's outcomes, everyone counts
    plain = _figures(config, residents, events, dates=dates)
    assert [_pair(plain, "managed", day=day)[0] for day in dates] == [3, 3, 3, 3]


# ------------------------------------------------------------------------------------------- registration


def test_registered_date_is_the_earliest_known():
    """SPEC 13.6: the row's ``*_registered_date`` for patients managed before their events begin; the earliest
    known date wins; none known stays unknown."""
    nat = "NaT"
    row = ["2020-01-01", nat, "2024-05-01", nat]
    events = [nat, "2023-03-01", "2023-03-01", nat]
    got = registered_dates(row, events)
    assert [str(d) for d in got] == ["2020-01-01", "2023-03-01", "2023-03-01", "NaT"]


def test_registration_from_the_resident_column_and_registration_date_unknown(config):
    """SPEC 13.6: a patient registered (row date) before the last 90 days is in the HEARTS denominator; a
    patient with the disease recorded and no registration date is counted as 登记日期不详, never dropped;
    one registered within the last 90 days is in neither."""
    residents = [
        _htn("row_registered", registered=_day(400)),
        _htn("unknown", registered=None),
        _htn("unknown_no_visit", registered=None, team="T2"),
        _htn("recent", registered=_day(60)),
    ]
    events = [_bp(rid, "1", _day(20)) for rid in ("row_registered", "unknown", "recent")]
    figures = _figures(config, residents, events)
    assert _pair(figures, "hearts_controlled")[1] == 1  # row_registered
    assert _pair(figures, "hearts_ltfu_12m")[0] == 0
    assert _pair(figures, "hearts_registration_unknown") == (2, None)
    assert _pair(figures, "hearts_registration_unknown", level="team", unit="T2") == (1, None)
    assert _pair(figures, "managed")[0] == 3  # BPHS management does not need the date


# ---------------------------------------------------------------------------------------------- pregnancy


def test_pregnant_residents_are_not_in_the_management_indicators(config):
    """SPEC 13.4 / 13.6: pregnant residents are not in the hypertension and diabetes management indicators
    (BPHS management and HEARTS); the screening figures keep them."""
    residents = [
        _htn("pregnant_htn", pregnant=True, age_years=36.0),
        _htn("not_pregnant", age_years=36.0),
        _dm("pregnant_dm", pregnant=True, age_years=36.0),
        _resident("pregnant_risky", pregnant=True, age_years=36.0, hypertension_flag=True),
    ]
    events = [
        _bp("pregnant_htn", "1", _day(20)),
        _bp("not_pregnant", "1", _day(20)),
        _event("pregnant_dm", "1", _day(20), disease="diabetes", fpg_mmol_l=6.0),
    ]
    figures = _figures(config, residents, events)
    assert _pair(figures, "managed")[0] == 1
    assert _pair(figures, "estimated_patients")[0] == pytest.approx(0.25)  # not_pregnant alone
    assert _pair(figures, "control_rate") == (1, 1)
    assert _pair(figures, "hearts_controlled") == (1, 1)
    assert _pair(figures, "managed", "diabetes")[0] == 0
    assert _pair(figures, "hearts_controlled", "diabetes")[1] == 0
    assert _pair(figures, "guideline_high_risk")[0] == 1  # pregnant_risky: screening, not management


# ----------------------------------------------------------------------------------------- quarterly cohort


@pytest.mark.parametrize(
    ("a", "quarters"),
    [
        (dt.date(2026, 7, 1), ("2026-01-01", "2026-03-31", "2026-04-01", "2026-06-30")),
        (dt.date(2026, 6, 30), ("2026-01-01", "2026-03-31", "2026-04-01", "2026-06-30")),  # Q+1 ends on A
        (dt.date(2026, 6, 29), ("2025-10-01", "2025-12-31", "2026-01-01", "2026-03-31")),
        (dt.date(2026, 1, 15), ("2025-07-01", "2025-09-30", "2025-10-01", "2025-12-31")),
    ],
)
def test_cohort_quarters(a, quarters):
    """SPEC 13.6: Q+1 is the last complete calendar quarter ending on or before A; Q the one before it."""
    assert tuple(str(d) for d in cohort_quarters(a)) == quarters


def test_hearts_quarterly_cohort(config):
    """SPEC 13.6 (WHO HEARTS quarterly cohort): patients registered in Q, controlled at their newest
    measurement in Q+1; per team, grid and county."""
    residents = [
        _htn("q_ok", dt.date(2026, 2, 10)),  # 150/95 in April, 130/80 in late June: controlled
        _htn("q_bad", dt.date(2026, 3, 31), grid="G2"),  # 130/80 in April, 150/95 on 06-30: not controlled
        _htn("q_none", dt.date(2026, 1, 1), team="T2"),  # no measurement in Q+1 (one on 07-01): not controlled
        _htn("before_q", dt.date(2025, 12, 31)),  # Q4 2025: outside this cohort
        _htn("after_q", dt.date(2026, 4, 1)),  # Q+1: outside this cohort
    ]
    events = [
        _bp("q_ok", "1", dt.date(2026, 4, 20), sbp=150, dbp=95),
        _bp("q_ok", "2", dt.date(2026, 6, 20)),
        _bp("q_bad", "1", dt.date(2026, 4, 20)),
        _bp("q_bad", "2", dt.date(2026, 6, 30), sbp=150, dbp=95),
        _bp("q_none", "1", dt.date(2026, 7, 1)),
        _bp("before_q", "1", dt.date(2026, 2, 1)),
        _bp("after_q", "1", dt.date(2026, 6, 1)),
    ]
    june29 = dt.date(2026, 6, 29)
    figures = _figures(config, residents, events, dates=(june29, A))
    assert _pair(figures, "hearts_cohort_registered") == (3, None)
    assert _pair(figures, "hearts_cohort_controlled") == (1, 3)
    assert _pair(figures, "hearts_cohort_controlled", level="team", unit="T1") == (1, 2)
    assert _pair(figures, "hearts_cohort_controlled", level="team", unit="T2") == (0, 1)
    assert _pair(figures, "hearts_cohort_controlled", level="grid", unit="G2") == (0, 1)
    # A = 06-29: Q is 2025 Q4 (before_q), Q+1 is 2026 Q1 (130/80 on 02-01)
    assert _pair(figures, "hearts_cohort_controlled", day=june29) == (1, 1)


# ------------------------------------------------------------------------- through a published batch


RESIDENTS_CSV = """resident_id,team_id,sex,age_years,grid_id,diagnosed_hypertension,htn_registered_date,pregnant
col_reg,T1,M,60,G1,true,2024-01-01,
unknown,T1,M,60,G1,true,,
pregnant,T1,F,36,G1,true,2024-01-01,true
dies,T1,M,70,G1,true,2024-01-01,
alive,T1,M,70,G1,true,2024-01-01,
"""
EVENTS_CSV = """event_id,resident_id,event_date,kind,disease,mode,sbp_mmhg,dbp_mmhg,status
c1,col_reg,2026-06-10,followup,hypertension,clinic,130,80,
p1,pregnant,2026-06-10,followup,hypertension,clinic,130,80,
d1,dies,2026-04-10,followup,hypertension,clinic,130,80,
d2,dies,2026-05-15,status,,,,,died
a1,alive,2026-04-10,followup,hypertension,clinic,130,80,
"""


def test_a_published_batch_applies_indicators_ii(model, config, tmp_path):
    """SPEC 13.6 end to end: the row's ``htn_registered_date`` registers a patient whose first event is recent
    (HEARTS denominator), a patient with neither is 登记日期不详, a pregnant patient is not managed, a
    ``status`` event removes the resident from that date on (stored trend), and a ``died`` outcome recorded
    later removes one from a recomputed date; 管理率's denominator is marked as an estimate."""
    from riskmodel.batch import score_file
    from riskmodel.indicators.report import unit_indicators
    from riskmodel.store.batches import ResultStore

    (tmp_path / "residents.csv").write_text(RESIDENTS_CSV, encoding="utf-8")
    (tmp_path / "events.csv").write_text(EVENTS_CSV, encoding="utf-8")
    store = ResultStore(f"sqlite:///{tmp_path / 'store.db'}")
    summary = score_file(
        tmp_path / "residents.csv",
        tmp_path / "scored.parquet",
        model,
        config=config,
        as_of=A,
        store=store,
        events_path=tmp_path / "events.csv",
    )
    assert (summary.rows_scored, summary.events_rejected) == (5, 0)

    def figures(as_of: dt.date | None, months: int) -> dict[str, dict[str, object]]:
        unit = unit_indicators(store, level="team", units=["T1"], as_of=as_of, months=months, config=config)
        items = unit["units"][0]["indicators"]
        return {i["indicator"]: i for i in items if i["disease"] == "hypertension"}

    stored = figures(None, 3)  # 2026-05-31, 06-30, 07-01: read back as stored
    managed = {point["ref_date"]: point["numerator"] for point in stored["managed"]["trend"]}
    assert managed == {"2026-05-31": 1, "2026-06-30": 2, "2026-07-01": 2}  # alive; then col_reg too
    assert stored["hearts_controlled"]["denominator"] == 2  # col_reg (registered 2024 by its row) and alive
    assert stored["hearts_registration_unknown"]["numerator"] == 1
    assert stored["estimated_patients"]["numerator"] == pytest.approx(3 * 0.25)  # col_reg, unknown, alive
    assert stored["management_rate"]["estimated"] == "denominator"
    april = figures(dt.date(2026, 4, 30), 1)  # dies still counts before its death
    assert april["managed"]["numerator"] == 2

    before = figures(dt.date(2026, 6, 15), 1)["managed"]["numerator"]
    _outcome(store, "alive", "died", dt.date(2026, 6, 12))
    after = figures(dt.date(2026, 6, 15), 1)["managed"]["numerator"]
    assert (before, after) == (2, 1)
    store.dispose()


# ------------------------------------------------------------------------------ estimates in whole residents


def _item(code: str, numerator: float, denominator: float | None, estimated: str | None, is_rate: bool):
    rate = numerator / denominator if denominator else None
    return {
        "disease": "hypertension",
        "indicator": code,
        "label_zh": code,
        "label_en": code,
        "is_rate": is_rate,
        "estimated": estimated,
        "numerator": numerator,
        "denominator": denominator,
        "rate": rate,
        "target": None,
        "trend": [{"ref_date": str(A), "numerator": numerator, "denominator": denominator, "rate": rate}],
    }


@pytest.mark.parametrize(("lang", "about"), [("zh", "约"), ("en", "about ")])
def test_estimated_figures_are_shown_in_whole_residents_with_about(lang, about):
    """SPEC 13.6: estimated denominators (管理率) are shown rounded to whole residents with 约; never a
    fraction of a person. The JSON keeps the unrounded number."""
    from riskmodel.cli.console import console
    from riskmodel.cli.indicator_tables import indicator_frame, print_indicators

    units = [
        {
            "level": "team",
            "unit_id": "T1",
            "indicators": [
                _item("estimated_patients", 12.5, None, "numerator", False),
                _item("management_rate", 3.0, 12.5, "denominator", True),
                _item("managed", 3.0, None, None, False),
            ],
        }
    ]
    with console.capture() as captured:
        print_indicators(units, {"as_of": str(A), "batch_as_of": str(A)}, lang)
    text = captured.get()
    assert f"{about}13" in text and f"3/{about}13" in text
    assert "12.5" not in text
    frame = indicator_frame(units, lang).set_index("indicator")
    assert frame.loc["estimated_patients", "numerator"] == 13
    assert frame.loc["management_rate", "denominator"] == 13
    assert frame.loc["management_rate", "rate"] == pytest.approx(3 / 12.5)
    assert frame.loc["managed", "estimate"] == ""
    assert units[0]["indicators"][1]["denominator"] == 12.5
