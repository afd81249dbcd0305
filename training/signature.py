"""The registered model's MLflow signature, derived from the record schema (STYLE rule 1)."""

from __future__ import annotations

from typing import Any

from riskmodel.pyfunc import EVENTS_COLUMN, PYFUNC_COLUMNS
from riskmodel.records.schema import RESIDENT_COLUMNS

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
