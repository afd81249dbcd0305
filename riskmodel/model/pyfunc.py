"""The registered model as MLflow serves it (SPEC section 7, MLflow): records in, assessments out.

The registered model is logged from code (``training/mlflow_model.py`` names :class:`RiskModelPyfunc`),
with this package shipped beside it, so ``mlflow models serve`` answers from the same scoring path as the
API and the batch: the same tiers, probabilities, actions and ``model_version``. What it adds for MLflow's
table-shaped interface:

* every input row comes back, in order, with its ``row_number``; a rejected row has its reasons in
  ``errors`` and no assessment (the batch's rule: a bad row is rejected, the rest go on);
* booleans are declared ``Any`` in the signature, so a missing answer stays missing (MLflow's own boolean
  cast turns a JSON ``null`` into ``False`` and a NaN into ``True``);
* ``as_of`` is a parameter (``{"params": {"as_of": "2026-11-23"}}``), today in the deployment's time zone
  when it is left out;
* an optional ``events`` column carries each resident's history (a list of section 2.2 events); a rejected
  event is named in the row's ``event_errors`` and left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from mlflow.pyfunc import PythonModel

from riskmodel.records.reading import cell_text
from riskmodel.records.schema import EVENT_COLUMNS, OUTPUT_COLUMNS, RESIDENT_COLUMNS

ARTIFACT_NAME = "riskmodel"
"""The model folder's name among the MLflow model's artifacts."""
EVENTS_COLUMN = "events"
PYFUNC_COLUMNS = ("row_number", "resident_id", *OUTPUT_COLUMNS, "errors", "event_errors")
"""The pyfunc's output columns: each input row, in order."""
EARLIEST_AS_OF, LATEST_AS_OF = dt.date(1900, 1, 1), dt.date(2100, 12, 31)

_MLFLOW_TYPES = {"str": "string", "category": "string", "float": "double", "int": "double", "date": "string"}
"""Whole numbers travel as double (a column of integers with gaps is float in pandas); booleans as Any."""
_OUTPUT_TYPES = {
    "row_number": "long",
    "cdrs_points": "long",
    "diabetes_confirmed": "boolean",
    "hypertension_confirmed": "boolean",
    "diabetes_guideline_high_risk": "boolean",
    "hypertension_guideline_high_risk": "boolean",
}


def model_signature() -> Any:
    """The MLflow signature: the record schema in (booleans ``Any``, so missing stays missing; optional
    ``events``), every input row's assessment out, and the ``as_of`` parameter."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema
    from mlflow.types.schema import AnyType

    inputs: list[Any] = [
        ColSpec(AnyType() if c.kind == "bool" else _MLFLOW_TYPES[c.kind], c.name, required=c.required)
        for c in RESIDENT_COLUMNS
    ]
    inputs.append(ColSpec(AnyType(), EVENTS_COLUMN, required=False))
    text = {"errors", "event_errors", "resident_id", "model_version", "due_date", "action"}
    outputs: list[Any] = [
        ColSpec(
            _OUTPUT_TYPES.get(name, "string" if name in text or name.endswith(("_tier", "_source")) else "double"), name
        )
        for name in PYFUNC_COLUMNS
    ]
    params = ParamSchema([ParamSpec("as_of", "string", "")])
    return ModelSignature(inputs=Schema(inputs), outputs=Schema(outputs), params=params)


def parse_as_of(value: Any, default: dt.date) -> dt.date:
    """The ``as_of`` parameter as a date (ISO 8601, 1900-2100); empty means ``default``."""
    if value is None or str(value).strip() == "":
        return default
    try:
        day = dt.date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise ValueError(f"as_of: '{value}' is not a date (use YYYY-MM-DD)") from exc
    if not EARLIEST_AS_OF <= day <= LATEST_AS_OF:
        raise ValueError(f"as_of: {day} is outside {EARLIEST_AS_OF}..{LATEST_AS_OF}")
    return day


def _event_list(value: Any) -> list[Mapping[str, Any]]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise ValueError("events: expected a list of events for each resident")
    return [event for event in value if isinstance(event, Mapping)]


def score_records(records: Sequence[Mapping[str, Any]], model: Any, *, as_of: dt.date) -> pd.DataFrame:
    """Assess records given as mappings: one output row per record, in order, rejected ones with reasons.

    Values are validated exactly as a file's cells are (:func:`riskmodel.records.reading.validate_records`);
    events, when a record carries them, are validated per event and the accepted ones applied.
    """
    from riskmodel.records.derivation import history_state
    from riskmodel.records.events import validate_events
    from riskmodel.records.reading import resident_columns, validate_records
    from riskmodel.scoring import assess, output_columns

    if not records:
        return pd.DataFrame(columns=list(PYFUNC_COLUMNS))
    schema_names = {c.name for c in RESIDENT_COLUMNS}
    rows = [{k: v for k, v in record.items() if k in schema_names} for record in records]
    checked = validate_records(rows)
    n = len(records)
    out = pd.DataFrame(
        {"row_number": np.arange(1, n + 1), "resident_id": [cell_text(r.get("resident_id")) for r in rows]}
    )
    out = out.reindex(columns=list(PYFUNC_COLUMNS)).astype(object)
    out["row_number"] = np.arange(1, n + 1)
    if len(checked.rejected):
        where = checked.rejected["row_number"].to_numpy(dtype=np.int64) - 1
        out.loc[where, "errors"] = checked.rejected["errors"].to_numpy(dtype=object)
    residents = checked.residents
    if residents.empty:
        return out.where(out.notna(), None)
    accepted = residents.index.to_numpy(dtype=np.int64) - 1
    ids = residents["resident_id"].to_numpy(dtype=object)
    raw_events, owners = [], []
    for i in accepted:
        for j, event in enumerate(_event_list(records[i].get(EVENTS_COLUMN)), start=1):
            raw_events.append({**event, "resident_id": rows[i].get("resident_id")})
            owners.append((i, j))
    columns = resident_columns(residents)
    state = None
    if raw_events:
        table = pa.table(
            {c.name: pa.array([cell_text(e.get(c.name)) for e in raw_events], pa.string()) for c in EVENT_COLUMNS}
        )
        events = validate_events(table, as_of=as_of)
        if len(events.rejected):
            for number, errors in zip(events.rejected["row_number"], events.rejected["errors"], strict=True):
                i, j = owners[int(number) - 1]
                previous = out.at[i, "event_errors"]
                entry = f"event {j}: {errors}"  # its place in the resident's own list
                out.at[i, "event_errors"] = entry if previous is None or pd.isna(previous) else f"{previous}; {entry}"
        state = history_state(columns, ids, events.events, as_of=as_of, config=model.config)
    assessment = assess(columns, model, as_of=as_of, state=state)
    for name, values in output_columns(assessment).items():
        if name == "due_date":
            values = np.asarray(values, dtype="datetime64[D]").astype(str)
        elif name == "cdrs_points":
            values = np.asarray(values, dtype=np.int64)
        out.loc[accepted, name] = pd.Series(list(np.asarray(values).tolist()), index=accepted, dtype=object)
    return out.where(out.notna(), None)


class RiskModelPyfunc(PythonModel):  # type: ignore[misc]
    """The MLflow pyfunc: loads the model folder among the artifacts and scores through :func:`score_records`."""

    def load_context(self, context: Any) -> None:
        from riskmodel.model.tier_model import RiskModel

        self._model = RiskModel.load(context.artifacts[ARTIFACT_NAME])

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        model = self._model
        as_of = parse_as_of((params or {}).get("as_of"), model.config.deployment.today())
        records = model_input.to_dict(orient="records") if isinstance(model_input, pd.DataFrame) else list(model_input)
        return score_records(records, model, as_of=as_of)
