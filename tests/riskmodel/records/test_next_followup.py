"""SPEC 14.4: the follow-up columns of the national forms on events (``followup_class``, ``adherence``,
``next_followup_date``), validated as closed sets and a date; when the newest follow-up names its next follow-up
date, the follow-up is due on that date (not overdue that day, overdue by 1 the day after)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute
import pyarrow.parquet
import pytest

from riskmodel.records.derivation import history_state
from riskmodel.records.events import validate_events
from riskmodel.rules.actions import ACTIONS, DISEASE_ORDER
from riskmodel.scoring import assess_rules
from tests.factories import columns_of, probabilities_of

AS_OF = dt.date(2026, 7, 1)
MANAGED_HTN = {
    "resident_id": "r-0000",
    "diagnosed_hypertension": True,
    "on_antihypertensive": True,
    "sbp_mmhg": 128,
    "dbp_mmhg": 80,
    "bp_date": "2026-06-20",
}


def _events(rows: list[dict]) -> pa.Table:
    names = sorted({key for row in rows for key in row})
    return pa.table(
        {
            name: pa.array([None if row.get(name) is None else str(row[name]) for row in rows], pa.string())
            for name in names
        }
    )


def _followup(event_id: str, date: str, **values) -> dict:
    return {
        "event_id": event_id,
        "resident_id": "r-0000",
        "event_date": date,
        "kind": "followup",
        "disease": "hypertension",
        "mode": "clinic",
        "sbp_mmhg": 128,
        "dbp_mmhg": 80,
        "on_treatment": "true",
        **values,
    }


@pytest.mark.parametrize(
    ("column", "value", "good"),
    [
        ("followup_class", "satisfactory", True),
        ("followup_class", "unsatisfactory", True),
        ("followup_class", "adverse_reaction", True),
        ("followup_class", "complication", True),
        ("followup_class", "控制满意", False),  # the forms' words are mapped on import, not accepted raw
        ("followup_class", "good", False),
        ("adherence", "regular", True),
        ("adherence", "intermittent", True),
        ("adherence", "none", True),
        ("adherence", "sometimes", False),
        ("next_followup_date", "2026-09-30", True),
        ("next_followup_date", "2026/9/30", True),
        ("next_followup_date", "2026-02-30", False),
        ("next_followup_date", "2026-06-20", True),  # agreed for the same day: due that day
        ("next_followup_date", "2026-06-19", False),  # before the follow-up that agreed it
        ("next_followup_date", "1970-01-01", False),  # an epoch standing in for "none" is not a date agreed
    ],
)
def test_the_new_event_columns_are_validated(column, value, good):
    checked = validate_events(_events([_followup("e1", "2026-06-20", **{column: value})]), as_of=AS_OF)
    assert checked.events.num_rows == (1 if good else 0)
    if not good:
        assert checked.rejected["errors"].iloc[0].startswith(column)
    else:
        assert checked.events.column(column)[0].as_py() is not None


def _overdue(as_of: dt.date, events: list[dict]) -> tuple[bool, str, int]:
    columns = columns_of(**MANAGED_HTN)
    checked = validate_events(_events(events), as_of=as_of)
    assert checked.rejected.empty, checked.rejected["errors"].tolist()
    from riskmodel.config import load_config

    config = load_config()
    state = history_state(columns, np.array(["r-0000"], dtype=object), checked.events, as_of=as_of, config=config)
    assessment = assess_rules(columns, probabilities_of(0.1, 0.1), as_of=as_of, config=config, state=state)
    d, a = DISEASE_ORDER.index("hypertension"), ACTIONS.index("follow_up_overdue")
    actions = assessment.actions
    return bool(actions.due[0, d, a]), str(actions.due_date[0, d, a]), int(actions.overdue_days[0, d, a])


@pytest.mark.parametrize(
    ("as_of", "overdue", "overdue_days"),
    [
        (dt.date(2026, 7, 10), False, 0),  # the agreed date itself: due, not overdue
        (dt.date(2026, 7, 11), True, 1),  # the day after: overdue by 1
    ],
)
def test_the_agreed_next_followup_date_is_the_due_date(as_of, overdue, overdue_days):
    # Seen 2026-06-01 (40 days before the agreed date, well inside 90 days): only the agreed date makes it late.
    events = [_followup("e1", "2026-06-01", next_followup_date="2026-07-10")]
    due, due_date, days = _overdue(as_of, events)
    assert due == overdue
    if overdue:
        assert (due_date, days) == ("2026-07-10", overdue_days)


def test_the_agreed_date_is_the_newest_followups_and_without_one_90_days_stand():
    # An older follow-up named an early date; the newest names none: 90 days from the newest face-to-face.
    events = [
        _followup("e1", "2026-03-01", next_followup_date="2026-03-15"),
        _followup("e2", "2026-04-01"),
    ]
    assert _overdue(dt.date(2026, 6, 30), events)[0] is False  # 90 days after 2026-04-01
    due, due_date, days = _overdue(dt.date(2026, 7, 1), events)
    assert (due, due_date, days) == (True, "2026-06-30", 1)


def test_an_agreed_date_later_than_90_days_is_not_overdue_at_91():
    events = [_followup("e1", "2026-03-01", next_followup_date="2026-07-15")]
    assert _overdue(dt.date(2026, 7, 1), events)[0] is False  # 122 days after the visit, before the agreed date


def test_synthetic_events_leave_the_next_followup_date_empty_not_1970(tmp_path):
    """Found on the demo's screen: 'overdue 20,635 days' came from synthetic events whose unset next follow-up
    date was written as 1970-01-01 (NaT through int32)."""
    from riskmodel.synth import write_population
    from riskmodel.synth.population import events_path

    source = write_population(tmp_path / "p.parquet", 300, teams=1, seed=2, as_of=AS_OF, history_years=3)
    events = pa.parquet.read_table(events_path(source))
    assert events.num_rows > 0
    agreed = events.column("next_followup_date")
    assert agreed.null_count == events.num_rows or pa.compute.min(agreed).as_py() > dt.date(2000, 1, 1)
    for name in events.column_names:
        if pa.types.is_date(events.schema.field(name).type) and events.column(name).null_count < events.num_rows:
            assert pa.compute.min(events.column(name)).as_py() > dt.date(1970, 1, 1), name
