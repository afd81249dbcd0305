"""The registered model's scoring as MLflow calls it (riskmodel.pyfunc): rows in order, rejected rows with
their reasons, events applied, as_of honoured, answers equal to the batch path's."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from riskmodel.pyfunc import PYFUNC_COLUMNS, parse_as_of, score_records
from riskmodel.records.reading import validate_records
from riskmodel.scoring import score_frame
from tests.factories import make_resident
from training.signature import model_signature

AS_OF = dt.date(2026, 7, 1)


def test_rows_come_back_in_order_with_rejected_ones_explained(model):
    records = [
        make_resident(resident_id="a"),
        make_resident(resident_id="b", age_years=-4),
        make_resident(resident_id="c", physically_active=None, diagnosed_hypertension=True),
    ]
    out = score_records(records, model, as_of=AS_OF)
    assert list(out.columns) == list(PYFUNC_COLUMNS)
    assert list(out["row_number"]) == [1, 2, 3] and list(out["resident_id"]) == ["a", "b", "c"]
    assert "age_years" in out.loc[1, "errors"] and out.loc[1, "diabetes_tier"] is None
    assert out.loc[0, "errors"] is None and out.loc[2, "hypertension_tier"] == "chronic"
    expected = score_frame(validate_records([records[0], records[2]]).residents, model, as_of=AS_OF)
    for column in ("diabetes_p_chronic", "hypertension_p_high_risk"):
        assert np.allclose(out.loc[[0, 2], column].astype(float), expected[column].to_numpy(), atol=1e-12)
    assert list(out.loc[[0, 2], "action"]) == list(expected["action"])
    assert out.loc[0, "model_version"] == model.version


def test_events_are_applied_and_a_bad_event_is_named(model):
    readings = [
        {"event_id": f"bp{i}", "event_date": day, "kind": "screening", "sbp_mmhg": 152.0, "dbp_mmhg": 96.0}
        for i, day in enumerate(("2026-06-01", "2026-06-08", "2026-06-15"))
    ]
    late = {"event_id": "late", "event_date": "2026-08-01", "kind": "screening", "sbp_mmhg": 150.0, "dbp_mmhg": 90.0}
    record = make_resident(resident_id="e", sbp_mmhg=None, dbp_mmhg=None, bp_date=None)
    out = score_records([{**record, "events": [*readings, late]}], model, as_of=AS_OF)
    row = out.iloc[0]
    assert row["hypertension_tier"] == "chronic" and row["hypertension_tier_source"] == "measurement"
    assert row["hypertension_confirmed"] is True  # three days at or above 140/90 within four weeks
    assert "event 4" in row["event_errors"] and "after the as-of date" in row["event_errors"]
    without = score_records([record], model, as_of=AS_OF).iloc[0]
    assert without["hypertension_tier_source"] == "model" and without["event_errors"] is None


def test_as_of_parameter():
    assert parse_as_of(None, AS_OF) == AS_OF and parse_as_of("", AS_OF) == AS_OF
    assert parse_as_of("2025-02-28", AS_OF) == dt.date(2025, 2, 28)
    with pytest.raises(ValueError, match="as_of"):
        parse_as_of("2025-02-30", AS_OF)
    with pytest.raises(ValueError, match="outside"):
        parse_as_of("1800-01-01", AS_OF)


def test_signature_keeps_missing_booleans_missing():
    from mlflow.types.schema import AnyType

    signature = model_signature()
    inputs = {spec.name: spec for spec in signature.inputs.inputs}
    assert isinstance(inputs["physically_active"].type, AnyType)
    assert isinstance(inputs["events"].type, AnyType) and not inputs["events"].required
    assert [p.name for p in signature.params.params] == ["as_of"]
    assert [spec.name for spec in signature.outputs.inputs] == list(PYFUNC_COLUMNS)


def test_an_empty_or_all_rejected_input(model):
    assert score_records([], model, as_of=AS_OF).empty
    out = score_records([make_resident(sex="X")], model, as_of=AS_OF)
    assert "sex" in out.loc[0, "errors"] and pd.isna(out.loc[0, "diabetes_tier"])
