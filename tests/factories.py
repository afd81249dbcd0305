"""Builders of test residents: ``make_resident(**overrides)`` and friends."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.records.reading import resident_columns, validate_records

BASE_RESIDENT: dict[str, Any] = {
    "resident_id": "r-0001",
    "team_id": "team-a",
    "sex": "F",
    "age_years": 45.0,
    "grid_id": "grid-1",
    "exam_date": "2026-05-01",
    "height_cm": 160.0,
    "weight_kg": 55.0,
    "waist_cm": 72.0,
    "sbp_mmhg": 112.0,
    "dbp_mmhg": 72.0,
    "bp_date": "2026-05-01",
    "fpg_mmol_l": 5.0,
    "hba1c_pct": 5.2,
    "glucose_date": "2026-05-01",
    "smoking": "never",
    "physically_active": True,
    "family_history_diabetes": False,
    "diagnosed_diabetes": False,
    "diagnosed_hypertension": False,
    "on_glucose_lowering": False,
    "on_antihypertensive": False,
}
AS_OF = "2026-07-01"


def make_resident(**overrides: Any) -> dict[str, Any]:
    """A healthy 45-year-old woman examined two months before :data:`AS_OF`, with overrides applied
    (``None`` removes a value)."""
    record = dict(BASE_RESIDENT)
    record.update(overrides)
    return {k: v for k, v in record.items() if v is not None}


def make_residents(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Validated frame of the given records (each through ``make_resident``), ids made unique."""
    records = [make_resident(**{"resident_id": f"r-{i:04d}", **row}) for i, row in enumerate(rows)]
    checked = validate_records(records)
    assert checked.rejected.empty, checked.rejected["errors"].tolist()
    return checked.residents


def columns_of(**overrides: Any) -> dict[str, np.ndarray]:
    """Rule-input columns of one resident."""
    return resident_columns(make_residents([overrides]))


CSV_HEADER = (
    "resident_id,team_id,sex,age_years,height_cm,weight_kg,bmi_kg_m2,sbp_mmhg,dbp_mmhg,smoking,"
    "physically_active,exam_date\n"
)


def write_csv(tmp_path: Path, body: str, header: str = CSV_HEADER) -> Path:
    """A CSV of records in the given header's columns (``body``: the data lines)."""
    path = tmp_path / "records.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def probabilities_of(p_chronic: float = 0.1, p_high_risk: float = 0.1, n: int = 1) -> dict[str, np.ndarray]:
    """The same model probabilities for both diseases, for rule tests that give them instead of a model."""
    row = [1.0 - p_chronic - p_high_risk, p_high_risk, p_chronic]
    return {disease: np.array([row] * n) for disease in ("diabetes", "hypertension")}


def assess_one(config: Any, *, p_chronic: float = 0.1, p_high_risk: float = 0.1, as_of: str = AS_OF, **overrides: Any):  # type: ignore[no-untyped-def]
    """The rules of SPEC 3-6 for one resident (``make_resident(**overrides)``), given model probabilities."""
    from riskmodel.scoring import assess_rules

    return assess_rules(columns_of(**overrides), probabilities_of(p_chronic, p_high_risk), as_of=as_of, config=config)
