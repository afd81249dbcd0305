"""Residents and events (SPEC 2) written as FHIR R4 resources: what :mod:`riskmodel.interchange.fhir_in` reads back.

The synthetic generator uses it so that the FHIR path is tested without real data (SPEC 14.4): a resident becomes
a ``Patient``; results become ``Observation``s (LOINC, UCUM); a follow-up an ``Encounter`` whose reason names the
disease (its results reference it; the treatment at it is a ``MedicationStatement`` in its context); a diagnosis a
``Condition``; a referral a ``ServiceRequest`` (its arrival an ``Encounter`` based on it); the row's treatment flags
active ``MedicationStatement``s. Facts of SPEC 2 that FHIR has no element for travel as extensions named
``EXTENSION_BASE + <column>`` (the record's booleans, the forms' follow-up class, adherence, next date, ...).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from riskmodel.interchange.fhir_codes import (
    ACT_CODE,
    ATC,
    BP_PANEL,
    DISEASE_ATC,
    DISEASE_CODES,
    ICD10,
    LOINC,
    MODE_CLASSES,
    SMOKING_CODES,
    SMOKING_STATUS,
    UCUM,
)
from riskmodel.interchange.settings import EXTENSION_BASE, FhirSettings

PATIENT_EXTENSIONS = (
    "physically_active",
    "alcohol_excess",
    "high_salt_diet",
    "family_history_diabetes",
    "family_history_hypertension",
    "gdm_history",
    "ascvd_history",
    "pregnant",
    "htn_registered_date",
    "dm_registered_date",
    "last_followup_date",
    "uncontrolled_visits",
)
"""Resident columns (SPEC 2.1) with no FHIR element of their own, carried on the Patient as extensions."""
EVENT_EXTENSIONS = (
    "adverse_reaction",
    "new_complication",
    "emergency_signs",
    "symptoms",
    "pregnant",
    "followup_class",
    "adherence",
    "next_followup_date",
)
"""Event columns (SPEC 2.2, 14.4) carried on a follow-up Encounter as extensions."""
FOLLOWUP_MODE_SYSTEM = EXTENSION_BASE.replace("StructureDefinition", "CodeSystem") + "followup-mode"
REFERRAL_CODE = {"system": "http://snomed.info/sct", "code": "3457005", "display": "Patient referral"}
RESOURCE_TYPES = (
    "Patient",
    "Observation",
    "Condition",
    "MedicationStatement",
    "Encounter",
    "ServiceRequest",
)

WRITTEN_CODES = {
    "sbp_mmhg": ("8480-6", "mm[Hg]"),
    "dbp_mmhg": ("8462-4", "mm[Hg]"),
    "fpg_mmol_l": ("14771-0", "mmol/L"),
    "ogtt_2h_mmol_l": ("14995-5", "mmol/L"),
    "random_glucose_mmol_l": ("15074-8", "mmol/L"),
    "hba1c_pct": ("4548-4", "%"),
    "weight_kg": ("29463-7", "kg"),
    "waist_cm": ("8280-0", "cm"),
    "height_cm": ("8302-2", "cm"),
    "bmi_kg_m2": ("39156-5", "kg/m2"),
    "tc_mmol_l": ("14647-2", "mmol/L"),
    "tg_mmol_l": ("14927-8", "mmol/L"),
    "hdl_mmol_l": ("14646-4", "mmol/L"),
    "ldl_mmol_l": ("22748-8", "mmol/L"),
}
"""The LOINC code and UCUM unit each measure is written with (mmol/L for glucose and lipids); each code is one the
import reads as that same column (tested)."""
_ROW_MEASURES = {
    "sbp_mmhg": "bp_date",
    "fpg_mmol_l": "glucose_date",
    "ogtt_2h_mmol_l": "glucose_date",
    "hba1c_pct": "glucose_date",
    "weight_kg": "exam_date",
    "waist_cm": "exam_date",
    "height_cm": "exam_date",
    "bmi_kg_m2": "exam_date",
    "tc_mmol_l": "exam_date",
    "tg_mmol_l": "exam_date",
    "hdl_mmol_l": "exam_date",
    "ldl_mmol_l": "exam_date",
}
EVENT_MEASURES = ("fpg_mmol_l", "ogtt_2h_mmol_l", "random_glucose_mmol_l", "hba1c_pct", "weight_kg", "waist_cm")


def _present(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return False
    return not (isinstance(value, float) and np.isnan(value))


def _day(value: Any) -> str:
    return pd.Timestamp(value).date().isoformat()


def _ref(kind: str, ident: str) -> dict[str, str]:
    return {"reference": f"{kind}/{ident}"}


def _extension(name: str, value: Any) -> dict[str, Any]:
    url = EXTENSION_BASE + name
    if isinstance(value, bool | np.bool_):
        return {"url": url, "valueBoolean": bool(value)}
    if name.endswith("_date"):
        return {"url": url, "valueDate": _day(value)}
    if name == "uncontrolled_visits":
        return {"url": url, "valueInteger": int(value)}
    return {"url": url, "valueCode": str(value)}


def _quantity(column: str, value: float) -> dict[str, Any]:
    code, unit = WRITTEN_CODES[column]
    return {"value": round(float(value), 4), "unit": unit, "system": UCUM, "code": unit}


def _disease_concept(disease: str) -> dict[str, Any]:
    icd, snomed = DISEASE_CODES[disease]
    return {"coding": [{"system": ICD10[0], "code": icd}, {"system": "http://snomed.info/sct", "code": snomed}]}


def _observation(ident: str, rid: str, day: str, column: str, value: float, encounter: str | None) -> dict[str, Any]:
    code, _ = WRITTEN_CODES[column]
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": _ref("Patient", rid),
        "effectiveDateTime": day,
        "valueQuantity": _quantity(column, value),
    }
    if encounter:
        resource["encounter"] = _ref("Encounter", encounter)
    return resource


def _bp_panel(ident: str, rid: str, day: str, sbp: float, dbp: float, encounter: str | None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": BP_PANEL}]},
        "subject": _ref("Patient", rid),
        "effectiveDateTime": day,
        "component": [
            {"code": {"coding": [{"system": LOINC, "code": "8480-6"}]}, "valueQuantity": _quantity("sbp_mmhg", sbp)},
            {"code": {"coding": [{"system": LOINC, "code": "8462-4"}]}, "valueQuantity": _quantity("dbp_mmhg", dbp)},
        ],
    }
    if encounter:
        resource["encounter"] = _ref("Encounter", encounter)
    return resource


def _measures(event: Mapping[str, Any], rid: str, day: str, prefix: str, encounter: str | None) -> Iterator[dict]:
    if _present(event.get("sbp_mmhg")) and _present(event.get("dbp_mmhg")):
        yield _bp_panel(f"{prefix}-bp", rid, day, event["sbp_mmhg"], event["dbp_mmhg"], encounter)
    for column in EVENT_MEASURES:
        if _present(event.get(column)):
            yield _observation(f"{prefix}-{column.split('_')[0]}", rid, day, column, event[column], encounter)


def _medication(ident: str, rid: str, disease: str, taken: bool, day: str | None, **links: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "id": ident,
        "status": "completed" if taken else "not-taken",
        "medicationCodeableConcept": {"coding": [{"system": ATC, "code": DISEASE_ATC[disease]}]},
        "subject": _ref("Patient", rid),
        **links,
    }
    if day:
        resource["effectiveDateTime"] = day
    return resource


def patient_resources(resident: Mapping[str, Any], as_of: dt.date, settings: FhirSettings) -> Iterator[dict]:
    """The Patient and the row's own facts (results without an event on their day, diagnoses, treatment)."""
    rid = str(resident["resident_id"])
    age = float(resident["age_years"])
    years = int(age)
    try:
        born = as_of.replace(year=as_of.year - years)
    except ValueError:  # 29 February
        born = as_of.replace(year=as_of.year - years, day=28)
    born -= dt.timedelta(days=round((age - years) * 365.25))
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": rid,
        "gender": "male" if resident["sex"] == "M" else "female",
        "birthDate": born.isoformat(),
        "generalPractitioner": [_ref("CareTeam", str(resident["team_id"]))],
    }
    extensions = [_extension(n, resident[n]) for n in PATIENT_EXTENSIONS if _present(resident.get(n))]
    if _present(resident.get("grid_id")):
        extensions.insert(0, {"url": settings.grid_extension_url, "valueString": str(resident["grid_id"])})
    if extensions:
        patient["extension"] = extensions
    yield patient
    for column, date_column in _ROW_MEASURES.items():
        value = resident.get(column)
        when = resident.get(date_column)
        if not _present(value):
            continue
        day = _day(when) if _present(when) else as_of.isoformat()
        if column == "sbp_mmhg":
            if _present(resident.get("dbp_mmhg")):
                yield _bp_panel(f"{rid}-row-bp", rid, day, cast(float, value), resident["dbp_mmhg"], None)
            continue
        yield _observation(f"{rid}-row-{column.split('_')[0]}", rid, day, column, cast(float, value), None)
    if _present(resident.get("smoking")):
        yield {
            "resourceType": "Observation",
            "id": f"{rid}-row-smoking",
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": SMOKING_STATUS}]},
            "subject": _ref("Patient", rid),
            "effectiveDateTime": _day(resident["exam_date"])
            if _present(resident.get("exam_date"))
            else as_of.isoformat(),
            "valueCodeableConcept": {"coding": [{"system": LOINC, "code": SMOKING_CODES[resident["smoking"]]}]},
        }
    for disease, flag in (("diabetes", "diagnosed_diabetes"), ("hypertension", "diagnosed_hypertension")):
        if resident.get(flag) is True:  # the record's diagnosis: an undated Condition (no event of its own)
            yield {
                "resourceType": "Condition",
                "id": f"{rid}-row-{disease}",
                "clinicalStatus": {
                    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
                },
                "code": _disease_concept(disease),
                "subject": _ref("Patient", rid),
            }
    for flag, code in (("on_antihypertensive", "C09"), ("on_glucose_lowering", "A10"), ("on_lipid_lowering", "C10")):
        if resident.get(flag) is True:
            yield {
                "resourceType": "MedicationStatement",
                "id": f"{rid}-row-{code}",
                "status": "active",
                "medicationCodeableConcept": {"coding": [{"system": ATC, "code": code}]},
                "subject": _ref("Patient", rid),
            }


def event_resources(event: Mapping[str, Any], open_referrals: dict[tuple[str, str], str]) -> Iterator[dict]:
    """One event of SPEC 2.2 as FHIR resources. ``open_referrals`` maps (resident, disease) to the newest sent
    referral's id, so that an arrival is based on it (events in date order)."""
    rid, eid, kind = str(event["resident_id"]), str(event["event_id"]), event["kind"]
    day = _day(event["event_date"])
    disease = event.get("disease") if _present(event.get("disease")) else None
    if kind == "followup":
        mode = event.get("mode") if _present(event.get("mode")) else "clinic"
        encounter: dict[str, Any] = {
            "resourceType": "Encounter",
            "id": eid,
            "status": "finished",
            "class": {"system": ACT_CODE, "code": MODE_CLASSES[str(mode)]},
            "subject": _ref("Patient", rid),
            "period": {"start": day},
            "reasonCode": [_disease_concept(disease)] if disease else [],
        }
        if mode == "online":
            encounter["type"] = [{"coding": [{"system": FOLLOWUP_MODE_SYSTEM, "code": "online"}]}]
        extensions = [_extension(n, event[n]) for n in EVENT_EXTENSIONS if _present(event.get(n))]
        if extensions:
            encounter["extension"] = extensions
        yield encounter
        yield from _measures(event, rid, day, eid, eid)
        if disease and _present(event.get("on_treatment")):
            yield _medication(
                f"{eid}-tx", rid, disease, bool(event["on_treatment"]), day, context=_ref("Encounter", eid)
            )
        return
    if kind == "diagnosis" and disease:
        yield {
            "resourceType": "Condition",
            "id": eid,
            "clinicalStatus": {
                "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
            },
            "code": _disease_concept(disease),
            "subject": _ref("Patient", rid),
            "onsetDateTime": day,
            "recordedDate": day,
        }
        if _present(event.get("on_treatment")):
            taken = bool(event["on_treatment"])
            yield _medication(f"{eid}-tx", rid, disease, taken, day, reasonReference=[_ref("Condition", eid)])
        yield from _measures(event, rid, day, eid, None)
        return
    if kind == "referral" and disease:
        status = event.get("referral_status")
        if status == "arrived":
            yield {
                "resourceType": "Encounter",
                "id": eid,
                "status": "finished",
                "class": {"system": ACT_CODE, "code": "AMB"},
                "subject": _ref("Patient", rid),
                "period": {"start": day},
                "reasonCode": [_disease_concept(disease)],
                "basedOn": [_ref("ServiceRequest", open_referrals.get((rid, disease), f"{eid}-referral"))],
            }
            return
        request = {
            "resourceType": "ServiceRequest",
            "id": eid,
            "status": "completed" if status == "returned" else "active",
            "intent": "order",
            "code": {"coding": [REFERRAL_CODE]},
            "reasonCode": [_disease_concept(disease)],
            "subject": _ref("Patient", rid),
            "authoredOn": day,
        }
        if status == "returned":
            request["occurrencePeriod"] = {"start": day, "end": day}
        else:
            open_referrals[(rid, disease)] = eid
        yield request
        return
    yield from _measures(event, rid, day, eid, None)


def population_resources(
    residents: pd.DataFrame, events: pd.DataFrame | None, as_of: dt.date, settings: FhirSettings
) -> Iterator[dict]:
    """Every resource of the residents and their events (events in date order per resident)."""
    rows = residents.reset_index(drop=True).to_dict("records")
    for resident in rows:
        yield from patient_resources(resident, as_of, settings)
    if events is None or events.empty:
        return
    ordered = events.sort_values(["resident_id", "event_date"], kind="stable")
    open_referrals: dict[tuple[str, str], str] = {}
    for event in ordered.to_dict("records"):
        yield from event_resources(event, open_referrals)


def write_ndjson(resources: Iterator[dict], folder: Path) -> list[Path]:
    """Bulk Data style: one file per resource type (``<Type>.ndjson``), one resource a line."""
    folder.mkdir(parents=True, exist_ok=True)
    handles: dict[str, Any] = {}
    try:
        for resource in resources:
            kind = resource["resourceType"]
            if kind not in handles:
                handles[kind] = open(folder / f"{kind}.ndjson", "w", encoding="utf-8")  # noqa: SIM115
            handles[kind].write(json.dumps(resource, ensure_ascii=False, separators=(",", ":")) + "\n")
    finally:
        for handle in handles.values():
            handle.close()
    return [folder / f"{kind}.ndjson" for kind in handles]


def write_bundle(resources: Iterator[dict], path: Path) -> Path:
    """A ``collection`` Bundle of every resource, as one JSON file."""
    entries = [{"fullUrl": f"{r['resourceType']}/{r['id']}", "resource": r} for r in resources]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    return path
