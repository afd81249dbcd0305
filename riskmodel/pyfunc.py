"""The registered model as MLflow serves it (SPEC section 7, MLflow): records in, assessments out.

The registered model is logged from code (``training/mlflow_model.py`` defines the MLflow ``PythonModel``),
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

from riskmodel.records.reading import cell_text
from riskmodel.records.schema import OUTPUT_COLUMNS, RESIDENT_COLUMNS

ARTIFACT_NAME = "riskmodel"
"""The model folder's name among the MLflow model's artifacts."""
DEFAULT_MODEL_URI = "models:/riskmodel@champion"
"""The model the API and the CLI load unless told otherwise."""
EVENTS_COLUMN = "events"
PYFUNC_COLUMNS = ("row_number", "resident_id", *OUTPUT_COLUMNS, "errors", "event_errors")
"""The pyfunc's output columns: each input row, in order."""
EARLIEST_AS_OF, LATEST_AS_OF = dt.date(1900, 1, 1), dt.date(2100, 12, 31)


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

    Values are validated exactly as a file's cells are (through :func:`riskmodel.intake.assess_records`);
    events, when a record carries them, are validated per event and the accepted ones applied.
    """
    from riskmodel.intake import OWNER_REJECTED, assess_records
    from riskmodel.scoring import output_columns

    if not records:
        return pd.DataFrame(columns=list(PYFUNC_COLUMNS))
    schema_names = {c.name for c in RESIDENT_COLUMNS}
    rows = [{k: v for k, v in record.items() if k in schema_names} for record in records]
    nested = [
        (i, j, {**event, "resident_id": rows[i].get("resident_id")})
        for i, record in enumerate(records)
        for j, event in enumerate(_event_list(record.get(EVENTS_COLUMN)), start=1)
    ]
    result = assess_records(
        rows,
        [event for _, _, event in nested] if nested else None,
        as_of=as_of,
        model=model,
        event_owners=np.array([i for i, _, _ in nested], dtype=np.int64),
    )
    n = len(records)
    out = pd.DataFrame(
        {"row_number": np.arange(1, n + 1), "resident_id": [cell_text(r.get("resident_id")) for r in rows]}
    )
    out = out.reindex(columns=list(PYFUNC_COLUMNS)).astype(object)
    out["row_number"] = np.arange(1, n + 1)
    if len(result.rejected):
        where = result.rejected["row_number"].to_numpy(dtype=np.int64) - 1
        out.loc[where, "errors"] = result.rejected["errors"].to_numpy(dtype=object)
    for number, errors in zip(result.rejected_events["row_number"], result.rejected_events["errors"], strict=True):
        i, j, _ = nested[int(number) - 1]
        if errors == OWNER_REJECTED:
            continue  # the record's own errors say why
        previous = out.at[i, "event_errors"]
        entry = f"event {j}: {errors}"  # its place in the resident's own list
        out.at[i, "event_errors"] = entry if previous is None or pd.isna(previous) else f"{previous}; {entry}"
    if result.assessment is None:
        return out.where(out.notna(), None)
    accepted = result.positions
    for name, values in output_columns(result.assessment).items():
        if name == "due_date":
            values = np.asarray(values, dtype="datetime64[D]").astype(str)
        elif name == "cdrs_points":
            values = np.asarray(values, dtype=np.int64)
        out.loc[accepted, name] = pd.Series(list(np.asarray(values).tolist()), index=accepted, dtype=object)
    return out.where(out.notna(), None)
