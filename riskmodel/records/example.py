"""A made-up resident: the MLflow input example and the API docs' example (not a real person)."""

from __future__ import annotations

from typing import Any

EXAMPLE_RESIDENT: dict[str, Any] = {
    "resident_id": "example-resident-0001",
    "team_id": "example-team",
    "sex": "F",
    "age_years": 52.0,
    "grid_id": "example-grid",
    "exam_date": "2026-03-02",
    "height_cm": 158.0,
    "weight_kg": 64.0,
    "bmi_kg_m2": 25.6,
    "waist_cm": 86.0,
    "sbp_mmhg": 134.0,
    "dbp_mmhg": 84.0,
    "bp_date": "2026-03-02",
    "fpg_mmol_l": 5.9,
    "hba1c_pct": 5.8,
    "glucose_date": "2026-03-02",
    "smoking": "never",
    "physically_active": False,
    "family_history_diabetes": True,
    "diagnosed_diabetes": False,
    "diagnosed_hypertension": False,
}
"""A made-up resident for the MLflow input example and the API docs; not a real person."""
