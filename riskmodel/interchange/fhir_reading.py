"""Checking FHIR R4 resources with the ``fhir.resources`` R4 models (SPEC 14.2), and the rejected rows' form.

A line that is not a JSON object, or a resource the FHIR model refuses, is a rejected row with its path and reason
(:mod:`riskmodel.interchange.fhir_mapping` reads the lines and Bundles).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

REJECTED_COLUMNS = ("resource_type", "resource_id", "path", "reason", "source", "line")
VALIDATED_TYPES = (
    "Patient",
    "Observation",
    "Condition",
    "MedicationStatement",
    "MedicationRequest",
    "Encounter",
    "ServiceRequest",
)


def rejected_frame(rows: Iterable[dict[str, Any]] = ()) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=list(REJECTED_COLUMNS))
    return frame.astype({"line": "int64"}) if len(frame) else frame


def fhir_problem(resource: dict[str, Any]) -> tuple[str, str] | None:
    """The first problem the FHIR R4 model (``fhir.resources.R4B``, FHIR 4.3, R4-compatible) finds, as (path, reason),
    or ``None`` for a valid resource. Types riskmodel does not read are not checked."""
    kind = resource.get("resourceType")
    if kind not in VALIDATED_TYPES:
        return None
    from fhir.resources.R4B import get_fhir_model_class
    from pydantic import ValidationError

    try:
        get_fhir_model_class(kind).model_validate(resource)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()) if not str(part).startswith("function-"))
        return f"{kind}.{where}" if where else kind, str(first.get("msg", "invalid"))[:200]
    except (TypeError, ValueError) as error:  # a model that refuses a value outright
        return kind, str(error).splitlines()[0][:200]
    return None
