"""Deriving the state from history (SPEC 2.2 and 3), each rule at its boundary, both sides.

References: CHG 2018 / the 2025 primary-care guideline (three non-same-day readings within four weeks),
CDS 2020 (a second qualifying result on another day, or two tests from one sample), BPHS 2017 (four
face-to-face follow-ups a year; two consecutive uncontrolled follow-ups: refer).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from riskmodel.records.derivation import history_state
from riskmodel.records.events import events_table
from riskmodel.rules.actions import ACTIONS
from riskmodel.scoring import assess_rules
from tests.factories import AS_OF, columns_of, probabilities_of

DAY = dt.date.fromisoformat(AS_OF)


def _day(days_before: int) -> dt.date:
    return DAY - dt.timedelta(days=days_before)


def _event(k: int, days_before: int, kind: str = "screening", **values):
    return {"event_id": f"e{k}", "resident_id": "r-0000", "event_date": _day(days_before), "kind": kind, **values}


def _state(events, config, **row):
    columns = columns_of(**{"resident_id": "r-0000", **row})
    return columns, history_state(
        columns, np.array(["r-0000"], dtype=object), events_table(events), as_of=DAY, config=config
    )


def _assess(events, config, **row):
    columns, state = _state(events, config, **row)
    return assess_rules(columns, probabilities_of(), as_of=DAY, config=config, state=state)


NO_ROW_BP = {"sbp_mmhg": None, "dbp_mmhg": None, "bp_date": None}


@pytest.mark.parametrize(
    ("days", "confirmed", "count"),
    [
        ((40, 26, 12), True, 3),  # first to third: 28 days
        ((41, 26, 12), False, 2),  # 29 days
        ((12, 12, 5), False, 2),  # two readings on one day count as one day
        ((50, 30, 5), False, 2),
    ],
)
def test_hypertension_needs_three_days_within_the_window(config, days, confirmed, count):
    events = [_event(k, d, sbp_mmhg=150, dbp_mmhg=92) for k, d in enumerate(days)]
    result = _assess(events, config, **NO_ROW_BP)
    assert result.tiers["hypertension"].tier[0] == 2
    assert bool(result.tiers["hypertension"].confirmed[0]) == confirmed
    assert result.state["hypertension_confirmations"][0] == count


def test_same_day_readings_count_as_their_mean(config):
    # 150/95 and 120/70 on one day: the day's mean 135/82.5 does not qualify.
    events = [_event(0, 20, sbp_mmhg=150, dbp_mmhg=95), _event(1, 20, sbp_mmhg=120, dbp_mmhg=70)]
    _, state = _state(events, config, **NO_ROW_BP)
    assert state["sbp_mmhg"][0] == 135 and state["dbp_mmhg"][0] == 82.5
    assert state["hypertension_confirmations"][0] == 0


def test_readings_on_treatment_do_not_confirm(config):
    events = [
        _event(
            k, d, kind="followup", disease="hypertension", mode="clinic", sbp_mmhg=150, dbp_mmhg=92, on_treatment=True
        )
        for k, d in enumerate((20, 10, 5))
    ]
    _, state = _state(events, config, **NO_ROW_BP)
    assert state["hypertension_confirmations"][0] == 0


def test_confirm_diagnosis_says_which_reading_and_is_due_from_the_newest(config):
    events = [_event(0, 20, sbp_mmhg=150, dbp_mmhg=92), _event(1, 10, sbp_mmhg=152, dbp_mmhg=94)]
    result = _assess(events, config, **NO_ROW_BP)
    assert str(result.actions.due_date[0, 1, 1]) == str(_day(10) + dt.timedelta(days=14))
    from riskmodel.worklist.explain import resident_reasons

    reasons = resident_reasons(result, np.array([0]), None, config, "en")[0]  # type: ignore[arg-type]
    assert any("BP reading 2 of 3" in line for line in reasons)


@pytest.mark.parametrize(
    ("events", "confirmed"),
    [
        ([{"fpg_mmol_l": 7.2}], False),
        ([{"fpg_mmol_l": 7.2}, {"fpg_mmol_l": 7.4, "_day": 5}], True),  # the same test repeated on another day
        ([{"fpg_mmol_l": 7.2, "hba1c_pct": 6.6}], True),  # two tests on one day
        ([{"fpg_mmol_l": 7.2}, {"fpg_mmol_l": 7.4}], False),  # the same test twice on one day
    ],
)
def test_diabetes_confirmation(config, events, confirmed):
    built = [_event(k, e.pop("_day", 10), kind="lab", **e) for k, e in enumerate(dict(e) for e in events)]
    result = _assess(built, config, fpg_mmol_l=None, hba1c_pct=None, glucose_date=None)
    assert result.tiers["diabetes"].tier[0] == 2
    assert bool(result.tiers["diabetes"].confirmed[0]) == confirmed


def test_an_event_wins_a_tie_with_the_row(config):
    _, state = _state(
        [_event(0, 30, sbp_mmhg=130, dbp_mmhg=80)], config, sbp_mmhg=150, dbp_mmhg=95, bp_date=str(_day(30))
    )
    assert (state["sbp_mmhg"][0], str(state["bp_date"][0])) == (130, str(_day(30)))


def test_a_newer_row_value_wins_over_older_events(config):
    _, state = _state(
        [_event(0, 60, sbp_mmhg=130, dbp_mmhg=80)], config, sbp_mmhg=150, dbp_mmhg=95, bp_date=str(_day(30))
    )
    assert state["sbp_mmhg"][0] == 150


def _followup(k, days, disease="hypertension", mode="clinic", **values):
    return _event(k, days, kind="followup", disease=disease, mode=mode, **values)


def test_uncontrolled_streak_skips_follow_ups_without_a_measurement(config):
    events = [
        _followup(0, 200, sbp_mmhg=128, dbp_mmhg=80),
        _followup(1, 120, sbp_mmhg=150, dbp_mmhg=90),
        _followup(2, 60, sbp_mmhg=155, dbp_mmhg=92),
        _followup(3, 20, mode="phone"),  # no BP: skipped
    ]
    result = _assess(events, config, diagnosed_hypertension=True, **NO_ROW_BP)
    assert result.state["hypertension_uncontrolled_visits"][0] == 2
    assert str(result.state["hypertension_uncontrolled_date"][0]) == str(_day(60))
    assert str(result.state["hypertension_last_followup_date"][0]) == str(_day(20))
    due = {code: str(result.actions.due_date[0, 1, a]) for a, code in enumerate(ACTIONS) if result.actions.due[0, 1, a]}
    assert due == {"refer": str(_day(60) + dt.timedelta(days=14))}  # 14 days after the follow-up that made it so


@pytest.mark.parametrize(("days", "count"), [((364, 200, 100), 3), ((365, 200, 100), 2)])
def test_face_to_face_follow_ups_in_the_last_365_days(config, days, count):
    events = [_followup(k, d) for k, d in enumerate(days)] + [_followup(9, 50, mode="phone")]
    _, state = _state(events, config, diagnosed_hypertension=True)
    assert state["hypertension_followups_12m"][0] == count


def test_follow_up_events_replace_the_rows_counters_and_registration(config):
    events = [
        _event(0, 900, kind="diagnosis", disease="diabetes"),
        _followup(1, 100, disease="diabetes", fpg_mmol_l=6.0),
    ]
    _, state = _state(events, config, diagnosed_diabetes=True, last_followup_date=str(_day(5)), uncontrolled_visits=3)
    assert str(state["diabetes_last_followup_date"][0]) == str(_day(100))
    assert state["diabetes_uncontrolled_visits"][0] == 0
    assert str(state["diabetes_registered_date"][0]) == str(_day(900))
    assert str(state["hypertension_last_followup_date"][0]) == str(_day(5))  # no hypertension follow-ups: the row's


def test_open_referral_is_followed_up_until_it_arrives(config):
    sent = [_event(0, 20, kind="referral", disease="hypertension", referral_status="sent")]
    arrived = [*sent, _event(1, 10, kind="referral", disease="hypertension", referral_status="arrived")]
    open_ = _assess(sent, config, diagnosed_hypertension=True, last_followup_date=str(_day(20)))
    closed = _assess(arrived, config, diagnosed_hypertension=True, last_followup_date=str(_day(20)))
    follow_up = ACTIONS.index("referral_follow_up")
    assert open_.actions.due[0, 1, follow_up] and str(open_.actions.due_date[0, 1, follow_up]) == str(_day(6))
    assert not closed.actions.due[0, 1, follow_up]


def test_emergency_signs_refer_now(config):
    result = _assess([_followup(0, 3, emergency_signs=True)], config, diagnosed_hypertension=True)
    assert result.action.action[0] == "refer_now"


def test_an_event_never_changes_another_resident(config):
    columns = columns_of(resident_id="r-0000")
    two = {name: np.concatenate([values, values]) for name, values in columns.items()}
    ids = np.array(["r-0000", "r-0001"], dtype=object)
    event = {**_event(0, 5, sbp_mmhg=190, dbp_mmhg=115), "resident_id": "r-0001"}
    state = history_state(two, ids, events_table([event]), as_of=DAY, config=config)
    assert state["sbp_mmhg"][0] == columns["sbp_mmhg"][0] and state["sbp_mmhg"][1] == 190


def test_without_events_the_state_is_the_rows(config, population):
    from riskmodel.records.history import row_state
    from riskmodel.records.reading import resident_columns

    columns = resident_columns(population.head(500))
    ids = population.head(500)["resident_id"].to_numpy(dtype=object)
    with_nothing = history_state(columns, ids, events_table([]), as_of=DAY, config=config)
    expected = row_state(columns)
    for name, values in expected.items():
        np.testing.assert_array_equal(with_nothing[name], values)
