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


# ------------------------------------------------------------------------------------------ FHIR R4 resources

_LOINC, _UCUM = "http://loinc.org", "http://unitsofmeasure.org"
_ICD10, _ATC = "http://hl7.org/fhir/sid/icd-10", "http://www.whocc.no/atc"
_ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
_ACTIVE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]}


def _quantity(code: str, value: float, unit: str) -> dict[str, Any]:
    return {"code": {"coding": [{"system": _LOINC, "code": code}]},
            "valueQuantity": {"value": value, "unit": unit, "system": _UCUM, "code": unit}}  # fmt: skip


def fhir_resources_of(subject: str) -> list[dict[str, Any]]:
    """One resource of every type and form SPEC 14.2 reads, each of the Patient ``subject`` and each one the
    mapping uses when that Patient is in the input (dated before :data:`AS_OF`, values in range): results that make
    an event (fasting glucose, a BP panel, a weight at a follow-up) and results that only fill the resident's row
    (height, smoking status); a dated and an undated diagnosis; a current MedicationStatement and MedicationRequest
    and one stated at a follow-up; a follow-up and a referral's arrival (Encounter); a completed referral."""
    of = {"subject": {"reference": f"Patient/{subject}"}}
    result = {"resourceType": "Observation", "status": "final", "effectiveDateTime": "2026-06-01", **of}
    diagnosis = {"resourceType": "Condition", "clinicalStatus": _ACTIVE, **of,
                 "code": {"coding": [{"system": _ICD10, "code": "I10"}]}}  # fmt: skip
    medicine = {"resourceType": "MedicationStatement", "status": "active", **of,
                "medicationCodeableConcept": {"coding": [{"system": _ATC, "code": "C09AA02"}]}}  # fmt: skip
    reason = [{"coding": [{"system": _ICD10, "code": "I10"}]}]
    visit = {"resourceType": "Encounter", "status": "finished", "class": {"system": _ACT, "code": "AMB"},
             "period": {"start": "2026-05-01"}, "reasonCode": reason, **of}  # fmt: skip
    return [
        {**result, "id": f"{subject}-fpg", **_quantity("14771-0", 6.1, "mmol/L")},
        {**result, "id": f"{subject}-height", **_quantity("8302-2", 160.0, "cm")},
        {**result, "id": f"{subject}-smoking", "code": {"coding": [{"system": _LOINC, "code": "72166-2"}]},
         "valueCodeableConcept": {"coding": [{"system": _LOINC, "code": "LA18978-9"}]}},
        {**result, "id": f"{subject}-bp", "code": {"coding": [{"system": _LOINC, "code": "85354-9"}]},
         "component": [_quantity("8480-6", 150.0, "mm[Hg]"), _quantity("8462-4", 95.0, "mm[Hg]")]},
        {**result, "id": f"{subject}-weight", **_quantity("29463-7", 60.0, "kg"),
         "encounter": {"reference": f"Encounter/{subject}-visit"}},
        {**diagnosis, "id": f"{subject}-dx", "onsetDateTime": "2020-01-01"},
        {**diagnosis, "id": f"{subject}-dx-undated"},
        {**medicine, "id": f"{subject}-statement"},
        {**medicine, "resourceType": "MedicationRequest", "id": f"{subject}-request", "intent": "order"},
        {**medicine, "id": f"{subject}-at-visit", "status": "completed",
         "context": {"reference": f"Encounter/{subject}-visit"}},
        {**visit, "id": f"{subject}-visit"},
        {**visit, "id": f"{subject}-arrival", "basedOn": [{"reference": f"ServiceRequest/{subject}-referral"}]},
        {"resourceType": "ServiceRequest", "id": f"{subject}-referral", "status": "completed", "intent": "order",
         "authoredOn": "2026-04-01", "occurrencePeriod": {"start": "2026-04-01", "end": "2026-04-20"},
         "reasonCode": reason, **of},
    ]  # fmt: skip
