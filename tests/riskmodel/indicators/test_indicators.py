"""Indicators against small hand-computed histories (SPEC 11): each definition at its boundary."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from riskmodel.indicators.compute import RESIDENT_FIELDS, compute_indicators, month_ends
from riskmodel.records.events import events_table

A = dt.date(2026, 7, 1)


def _day(n):
    return A - dt.timedelta(days=n)


def _resident(rid, team="T1", grid="G1", htn=False, registered=None, flag=False, interval=365.0, **row):
    base = {name: None for name in RESIDENT_FIELDS.names}
    base.update(
        resident_id=rid,
        team_id=team,
        grid_id=grid,
        age_years=60.0,
        diabetes_recorded=False,
        hypertension_recorded=htn,
        hypertension_registered=registered,
        diabetes_registered=None,
        hypertension_flag=flag,
        diabetes_flag=False,
        hypertension_interval=interval,
        diabetes_interval=1095.0,
    )
    base.update(row)
    return base


def _fu(rid, k, days, mode="clinic", sbp=130, dbp=80):
    return {
        "event_id": f"{rid}-{k}",
        "resident_id": rid,
        "event_date": _day(days),
        "kind": "followup",
        "disease": "hypertension",
        "mode": mode,
        "sbp_mmhg": sbp,
        "dbp_mmhg": dbp,
    }


@pytest.fixture(scope="module")
def figures(config):
    residents = [
        _resident("three", htn=True, registered=_day(800)),  # three face-to-face follow-ups: managed, not 规范
        _resident("four", htn=True, registered=_day(800)),  # four: 规范管理, last controlled
        _resident("new", htn=True, registered=_day(60), grid="G2"),  # registered 60 days ago: outside HEARTS
        _resident("lost", htn=True, registered=_day(900), grid="G2"),  # no visit in 12 months
        _resident("risky", flag=True, sbp_mmhg=132.0, dbp_mmhg=80.0, bp_date=_day(100), interval=182.0),
        _resident("risky_old", flag=True, sbp_mmhg=132.0, dbp_mmhg=80.0, bp_date=_day(200), interval=182.0, team="T2"),
    ]
    events = [
        *[_fu("three", k, d) for k, d in enumerate((300, 200, 100))],
        *[_fu("four", k, d, sbp=s) for k, (d, s) in enumerate(((350, 150), (250, 150), (150, 150), (40, 128)))],
        _fu("four", 9, 10, mode="phone", sbp=None, dbp=None),
        {
            "event_id": "new-d",
            "resident_id": "new",
            "event_date": _day(60),
            "kind": "diagnosis",
            "disease": "hypertension",
        },
        _fu("new", 1, 30),
        _fu("lost", 1, 400),
    ]
    table = pa.Table.from_pylist(residents, schema=RESIDENT_FIELDS)
    rows = compute_indicators(table, events_table(events), [A], as_of=A, config=config)
    return {(r["level"], r["unit_id"], r["disease"], r["indicator"]): r for r in rows}


def test_bphs_management(figures):
    county = {k[3]: v for k, v in figures.items() if k[0] == "county" and k[2] == "hypertension"}
    assert county["managed"]["numerator"] == 3  # three, four, new (lost: no follow-up in W)
    assert (county["standard_management_rate"]["numerator"], county["standard_management_rate"]["denominator"]) == (
        1,
        3,
    )
    # SPEC 13.6: the newest follow-up decides (three 130/80, new 130/80); four's newest is a phone follow-up
    # ten days ago without a BP, so four is not controlled though its last measured one (128/80) was.
    assert county["control_rate"]["numerator"] == 2
    assert county["estimated_patients"]["numerator"] == pytest.approx(6 * 0.25)
    assert county["management_rate"]["rate"] == pytest.approx(3 / 1.5)


def test_hearts(figures):
    county = {k[3]: v for k, v in figures.items() if k[0] == "county" and k[2] == "hypertension"}
    denominator = county["hearts_controlled"]["denominator"]
    assert denominator == 2  # three and four; new registered 60 days ago; lost is apart
    assert county["hearts_ltfu_12m"]["numerator"] == 1
    parts = ("hearts_controlled", "hearts_uncontrolled", "hearts_visit_no_measure", "hearts_missed_visit")
    assert sum(county[p]["numerator"] for p in parts) == denominator
    assert county["hearts_controlled"]["numerator"] == 1  # four: 128/80 forty days ago
    assert county["hearts_missed_visit"]["numerator"] == 1  # three: last visit 100 days ago


def test_screening_and_ratio_of_sums(figures):
    t1 = {k[3]: v for k, v in figures.items() if k[:2] == ("team", "T1") and k[2] == "hypertension"}
    t2 = {k[3]: v for k, v in figures.items() if k[:2] == ("team", "T2") and k[2] == "hypertension"}
    county = {k[3]: v for k, v in figures.items() if k[0] == "county" and k[2] == "hypertension"}
    assert (t1["high_risk_screened"]["numerator"], t1["high_risk_screened"]["denominator"]) == (1, 1)  # 100 < 182
    assert (t2["high_risk_screened"]["numerator"], t2["high_risk_screened"]["denominator"]) == (0, 1)  # 200 >= 182
    for code in ("standard_management_rate", "high_risk_screened", "screening_coverage"):
        assert county[code]["numerator"] == t1[code]["numerator"] + t2[code]["numerator"]
        assert county[code]["denominator"] == t1[code]["denominator"] + t2[code]["denominator"]
    g1 = {k[3]: v for k, v in figures.items() if k[:2] == ("grid", "G1") and k[2] == "hypertension"}
    assert g1["managed"]["numerator"] == 2


def test_month_ends():
    assert month_ends(dt.date(2026, 7, 1), 3) == [dt.date(2026, 5, 31), dt.date(2026, 6, 30), dt.date(2026, 7, 1)]
    assert month_ends(dt.date(2026, 2, 15), 3)[0] == dt.date(2025, 12, 31)


@pytest.fixture(scope="module")
def published(tmp_path_factory, model, config):
    from riskmodel.batch import score_file
    from riskmodel.store.batches import ResultStore
    from riskmodel.synth import write_population
    from riskmodel.synth.population import events_path

    folder = tmp_path_factory.mktemp("published")
    source = write_population(folder / "p.parquet", 2400, teams=2, seed=13, as_of=A, history_years=3)
    store = ResultStore(f"sqlite:///{folder / 'store.db'}")
    score_file(
        source, folder / "scored.parquet", model, config=config, as_of=A, store=store, events_path=events_path(source)
    )
    return store


def test_recomputed_for_another_date_equals_what_was_stored(published, config):
    from riskmodel.indicators.report import unit_indicators

    team = published.teams()[0]
    stored = unit_indicators(published, level="team", units=[team], months=12, config=config)
    # 2026-06-15 is not a stored reference date: recomputed, with the stored month ends before it in its trend.
    again = unit_indicators(published, level="team", units=[team], as_of=dt.date(2026, 6, 15), months=3, config=config)
    by_code = {(i["disease"], i["indicator"]): i for i in stored["units"][0]["indicators"]}
    for item in again["units"][0]["indicators"]:
        if item["indicator"] in ("outcomes_recorded", "returned_within_15_days"):
            continue
        point = next(p for p in item["trend"] if p["ref_date"] == "2026-05-31")
        expected = next(
            p for p in by_code[(item["disease"], item["indicator"])]["trend"] if p["ref_date"] == "2026-05-31"
        )
        assert (point["numerator"], point["denominator"]) == (expected["numerator"], expected["denominator"]), item[
            "indicator"
        ]


def test_county_is_the_sum_of_teams(published, config):
    from riskmodel.indicators.report import unit_indicators

    teams = unit_indicators(published, level="team", units=None, months=1, config=config)["units"]
    county = unit_indicators(published, level="county", units=None, months=1, config=config)["units"][0]
    for item in county["indicators"]:
        parts = [
            next(
                i for i in unit["indicators"] if (i["disease"], i["indicator"]) == (item["disease"], item["indicator"])
            )
            for unit in teams
        ]
        assert item["numerator"] == pytest.approx(sum(p["numerator"] for p in parts))
        if item["denominator"] is not None:
            assert item["denominator"] == pytest.approx(sum(p["denominator"] for p in parts))


def test_returned_within_15_days_counts_agreed_residents_who_came_back(published, config):
    from riskmodel.indicators.report import unit_indicators

    team = published.teams()[0]
    events = published.team_events(published.latest_batch()["batch_id"], [team]).to_pandas()
    followups = events[events["kind"] == "followup"].sort_values("event_date")
    came = followups[followups["event_date"] <= A - dt.timedelta(days=30)].iloc[
        -1
    ]  # agreed 10 days before it: came back
    stayed = events[~events["resident_id"].isin(followups["resident_id"])].iloc[0]  # never followed up
    for row, days in ((came, 10), (stayed, 40)):
        published.outcomes.append(
            {
                "team_id": team,
                "resident_id": row["resident_id"],
                "disease": "hypertension",
                "action": "recheck",
                "outcome": "agreed",
                "reason": None,
                "note": None,
                "recorded_on": row["event_date"] - dt.timedelta(days=days)
                if days == 10
                else A - dt.timedelta(days=days),
                "recorded_by": "test",
                "hidden_until": None,
            }
        )
    figures = unit_indicators(published, level="team", units=[team], months=1, config=config)["units"][0]["indicators"]
    returned = next(
        i for i in figures if i["indicator"] == "returned_within_15_days" and i["disease"] == "hypertension"
    )
    assert (returned["numerator"], returned["denominator"]) == (1, 2)
