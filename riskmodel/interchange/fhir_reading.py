"""The rejected rows' form, and the check of FHIR R4 resources by the ``fhir.resources`` R4 models (SPEC 14.2,
:mod:`riskmodel.interchange.fhir_validation`).

A line that is not a JSON object, or a resource the FHIR model refuses, is a rejected row with its path and reason
(:mod:`riskmodel.interchange.fhir_mapping` reads the lines and Bundles).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from riskmodel.interchange.fhir_validation import VALIDATED_TYPES, fhir_problem

__all__ = ["REJECTED_COLUMNS", "VALIDATED_TYPES", "fhir_problem", "rejected_frame"]

REJECTED_COLUMNS = ("resource_type", "resource_id", "path", "reason", "source", "line")


def rejected_frame(rows: Iterable[dict[str, Any]] = ()) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=list(REJECTED_COLUMNS))
    return frame.astype({"line": "int64"}) if len(frame) else frame
