"""The one records-in entry (SPEC 14.1): every transport's input gives the same assessment through it, rows in =
accepted + rejected, events in = used + rejected, and an event never outlives its rejected resident."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from riskmodel.intake import OWNER_REJECTED, assess_records
from riskmodel.records.reading import cell_text
from riskmodel.scoring import output_columns
from tests.factories import make_resident

AS_OF = dt.date(2026, 7, 1)
READINGS = [
    {"event_id": f"bp{i}", "event_date": day, "kind": "screening", "sbp_mmhg": 152.0, "dbp_mmhg": 96.0}
    for i, day in enumerate(("2026-06-01", "2026-06-08", "2026-06-15"))
]


def _residents() -> list[dict]:
    return [
        make_resident(resident_id="a", sbp_mmhg=None, dbp_mmhg=None, bp_date=None),
        make_resident(resident_id="b", age_years=-4),  # rejected: age out of range
        make_resident(resident_id="c", diagnosed_hypertension=True),
    ]


def _text_table(rows: list[dict]) -> pa.Table:
    names = list(dict.fromkeys(name for row in rows for name in row))
    return pa.table({name: pa.array([cell_text(row.get(name)) for row in rows], pa.string()) for name in names})


def test_a_file_table_and_mappings_give_the_same_assessment(model):
    residents = _residents()
    events = [{**event, "resident_id": "a"} for event in READINGS]
    from_table = assess_records(_text_table(residents), _text_table(events), as_of=AS_OF, model=model)
    from_mappings = assess_records(residents, events, as_of=AS_OF, model=model)
    for result in (from_table, from_mappings):
        assert list(result.resident_ids) == ["a", "c"] and list(result.positions) == [0, 2]
        assert list(result.rejected["row_number"]) == [2] and "age_years" in result.rejected["errors"].iloc[0]
        assert result.events.num_rows == 3 and result.rejected_events.empty
        assert result.assessment is not None
        assert list(result.assessment.tiers["hypertension"].tier_names()) == ["chronic", "chronic"]
        assert bool(result.assessment.tiers["hypertension"].confirmed[0])  # three days >= 140/90 within 28 days
    a, b = (output_columns(r.assessment) for r in (from_table, from_mappings))  # type: ignore[arg-type]
    for name in a:
        assert np.array_equal(np.asarray(a[name]), np.asarray(b[name])), name


def test_records_checked_at_the_boundary_match_the_validated_path(model):
    """The API's request models type and check records (BMI derived from height and weight as a file's row is);
    given to the entry as checked, they are assessed exactly as the same records validated here."""
    from serving.models import EventRecord, ResidentRecord

    residents = [_residents()[0], _residents()[2]]
    assert "bmi_kg_m2" not in residents[0]  # derived on both paths
    typed = [ResidentRecord.model_validate(r).model_dump() for r in residents]
    events = [{**EventRecord.model_validate(e).model_dump(), "resident_id": "a"} for e in READINGS]
    checked = assess_records(typed, events, as_of=AS_OF, model=model, checked=True)
    validated = assess_records(residents, [{**e, "resident_id": "a"} for e in READINGS], as_of=AS_OF, model=model)
    assert checked.residents is None and checked.rejected.empty
    assert typed[0]["bmi_kg_m2"] == 21.5  # 55 kg / 1.60 m squared, rounded to 0.1 as in a file
    a, b = (output_columns(r.assessment) for r in (checked, validated))  # type: ignore[arg-type]
    for name in a:
        assert np.array_equal(np.asarray(a[name]), np.asarray(b[name])), name


def test_counts_add_up_and_events_of_a_rejected_resident_go_with_it(model):
    residents = _residents()
    nested = [(0, READINGS[0]), (1, READINGS[1]), (2, {**READINGS[2], "event_date": "2026-08-01"})]
    events = [{**event, "resident_id": residents[owner]["resident_id"]} for owner, event in nested]
    result = assess_records(
        residents, events, as_of=AS_OF, model=model, event_owners=np.array([owner for owner, _ in nested])
    )
    assert len(result.resident_ids) + len(result.rejected) == len(residents)
    assert result.events.num_rows + len(result.rejected_events) == len(events)
    errors = dict(zip(result.rejected_events["row_number"], result.rejected_events["errors"], strict=True))
    assert errors[2] == OWNER_REJECTED  # resident b was rejected: its event is not applied to anyone
    assert "after the as-of date" in errors[3]


def test_an_event_of_an_unknown_resident_is_rejected_and_all_rejected_gives_no_assessment(model):
    result = assess_records(
        [make_resident(resident_id="x", sex="X")], [{**READINGS[0], "resident_id": "x"}], as_of=AS_OF, model=model
    )
    assert result.assessment is None and len(result.rejected) == 1
    assert "not a resident of this batch" in result.rejected_events["errors"].iloc[0]
