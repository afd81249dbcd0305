"""Model features per disease (SPEC section 3), derived from the one schema.

Every schema field is a feature except identifiers, dates, follow-up bookkeeping (which only managed
patients have, so it would leak the diagnosis), and the disease's own defining measurements and
diagnosis/treatment flags. Derived features follow: BMI category, waist-to-height ratio, TG/HDL and
non-HDL cholesterol, central obesity, and the guideline scores that do not use the disease's own
measurements (CDRS points for diabetes; the count of non-BP BPHS criteria for hypertension).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Literal

import numpy as np

from riskmodel.exceptions import SchemaMismatchError
from riskmodel.records.schema import RESIDENT_COLUMNS
from riskmodel.rules.guidelines.body_size import bmi_category, central_obesity
from riskmodel.rules.guidelines.cdrs import cdrs_score
from riskmodel.rules.guidelines.findings import hypertension_findings
from riskmodel.vectorised import first_match

Disease = Literal["diabetes", "hypertension"]

NOT_FEATURES = frozenset(
    {
        "resident_id",
        "team_id",
        "grid_id",
        "exam_date",
        "bp_date",
        "glucose_date",
        "last_followup_date",
        "uncontrolled_visits",
        "pregnant",
        "htn_registered_date",
        "dm_registered_date",
    }
)
DEFINING_FIELDS: dict[str, frozenset[str]] = {
    "diabetes": frozenset({"fpg_mmol_l", "ogtt_2h_mmol_l", "hba1c_pct", "diagnosed_diabetes", "on_glucose_lowering"}),
    "hypertension": frozenset({"sbp_mmhg", "dbp_mmhg", "diagnosed_hypertension", "on_antihypertensive"}),
}
SMOKING_CODES = {"never": 0.0, "former": 1.0, "current": 2.0}
_SHARED_DERIVED = (
    "is_male",
    "smoking_code",
    "bmi_category",
    "waist_to_height",
    "tg_hdl_ratio",
    "non_hdl_mmol_l",
    "central_obesity",
)
DERIVED_FEATURES: dict[str, tuple[str, ...]] = {
    "diabetes": (*_SHARED_DERIVED, "pulse_pressure_mmhg", "cdrs_points"),
    "hypertension": (*_SHARED_DERIVED, "bphs_risk_count"),
}


@functools.cache
def feature_names(disease: Disease) -> tuple[str, ...]:
    """The model's input columns for one disease, in order (fixed by the schema: built once per disease)."""
    schema = tuple(
        c.name
        for c in RESIDENT_COLUMNS
        if c.name not in NOT_FEATURES and c.name not in DEFINING_FIELDS[disease] and c.kind != "category"
    )
    return schema + DERIVED_FEATURES[disease]


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return numerator / denominator


def derived_features(
    columns: Mapping[str, np.ndarray],
    cdrs_total: np.ndarray | None = None,
    bphs: Mapping[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Every derived feature of both diseases, as float columns (NaN where an input is missing)."""
    is_male = columns["sex"] == "M"
    smoking = columns["smoking"]
    smoking_code = first_match([smoking == name for name in SMOKING_CODES], list(SMOKING_CODES.values()), np.nan)
    bmi_cat = bmi_category(columns["bmi_kg_m2"]).astype(np.float64)
    bmi_cat[bmi_cat < 0] = np.nan
    waist = columns["waist_cm"]
    if cdrs_total is None:
        cdrs_total = cdrs_score(
            columns["age_years"],
            columns["bmi_kg_m2"],
            waist,
            columns["sbp_mmhg"],
            columns["family_history_diabetes"],
            is_male,
        ).total
    bphs = bphs if bphs is not None else hypertension_findings(columns)
    bphs_count = sum(
        (
            bphs[code].astype(np.float64)
            for code in ("htn_overweight", "htn_family_history", "htn_alcohol", "htn_age", "htn_high_salt")
        ),
        np.zeros(len(waist)),
    )
    obesity = central_obesity(waist, is_male).astype(np.float64)
    obesity[np.isnan(waist)] = np.nan
    return {
        "is_male": is_male.astype(np.float64),
        "smoking_code": smoking_code,
        "bmi_category": bmi_cat,
        "waist_to_height": _ratio(waist, columns["height_cm"]),
        "tg_hdl_ratio": _ratio(columns["tg_mmol_l"], columns["hdl_mmol_l"]),
        "non_hdl_mmol_l": columns["tc_mmol_l"] - columns["hdl_mmol_l"],
        "central_obesity": obesity,
        "pulse_pressure_mmhg": columns["sbp_mmhg"] - columns["dbp_mmhg"],
        "cdrs_points": np.asarray(cdrs_total, dtype=np.float64),
        "bphs_risk_count": bphs_count,
    }


def feature_matrix(
    columns: Mapping[str, np.ndarray],
    disease: Disease,
    *,
    derived: Mapping[str, np.ndarray] | None = None,
    expected: tuple[str, ...] | None = None,
) -> np.ndarray:
    """The model input for one disease as a float64 matrix, one row per resident.

    Parameters
    ----------
    columns
        Resident columns (see :func:`riskmodel.records.resident_columns`).
    derived
        Precomputed :func:`derived_features`, to share them between the two diseases.
    expected
        The feature names a fitted model was trained on; a mismatch raises with the difference.
    """
    names = feature_names(disease)
    if expected is not None and tuple(expected) != names:
        missing = sorted(set(expected) - set(names))
        extra = sorted(set(names) - set(expected))
        raise SchemaMismatchError(
            f"{disease} model expects features the code does not build: missing {missing or 'none'}, "
            f"unexpected {extra or 'none'}; retrain the model with this version of riskmodel"
        )
    derived = derived if derived is not None else derived_features(columns)
    n = len(columns["age_years"])
    matrix = np.empty((n, len(names)), dtype=np.float64, order="F")  # LightGBM reads column-major as is
    for j, name in enumerate(names):
        matrix[:, j] = derived[name] if name in derived else columns[name]
    return matrix
