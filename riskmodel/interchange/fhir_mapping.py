"""The FHIR R4 mapping of SPEC 14.2, one resource at a time, in plain Python: the one place its rules live.

Each resource the import reads (a Patient, an Observation, a Condition, a medicine, an Encounter, a referral) is
mapped here to a typed record (:mod:`riskmodel.interchange.fhir_records`), or skipped (a status riskmodel does not
use, :class:`Skipped`), or rejected with its path and reason (:class:`Refused`); the code tables and unit
conversions are those of :mod:`riskmodel.interchange.fhir_codes`. Every path uses this module, through
:class:`riskmodel.interchange.fhir_in.MappedResources`: a Bundle file, a request's Bundle (SPEC 14.3) and each
bucket of a bulk NDJSON import (:mod:`riskmodel.interchange.fhir_bulk`); :mod:`riskmodel.interchange.fhir_assembly`
puts the records together as residents and events. A resource's elements are read as DuckDB's ``->>`` reads
JSON (:func:`text`), so that a value of an unexpected JSON type is a reason, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from riskmodel.interchange.fhir_codes import (
    ATC,
    ATC_TREATMENT,
    BP_COMPONENTS,
    BP_PANEL,
    ENCOUNTER_CLASSES,
    ICD10,
    ICD10_DISEASES,
    LOINC,
    OBSERVATION_CODES,
    OBSERVATION_USED_STATUSES,
    SMOKING_ANSWERS,
    SMOKING_STATUS,
    SNOMED,
    SNOMED_DISEASES,
    litre_spellings,
)
from riskmodel.interchange.fhir_export import EVENT_EXTENSIONS, PATIENT_EXTENSIONS
from riskmodel.interchange.fhir_links import ENCOUNTER_LINK
from riskmodel.interchange.fhir_records import Diagnosis, Medicine, Referral, Result, Visit
from riskmodel.interchange.settings import EXTENSION_BASE, FhirSettings
from riskmodel.records.schema import COLUMNS_BY_NAME, EVENT_COLUMNS_BY_NAME

READ_TYPES = (
    "Patient",
    "Observation",
    "Condition",
    "MedicationStatement",
    "MedicationRequest",
    "Encounter",
    "ServiceRequest",
)
KIND_ORDER = {kind: k for k, kind in enumerate(READ_TYPES)}
"""Rejected resources are listed by type in this order (the load's own first), then in the order they came."""
MEDICINE_STATUSES_LINKED = ("completed", "not-taken")
"""A medicine linked to a follow-up or a diagnosis is used in these statuses too (treatment at that event)."""
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_UNIT_FACTORS: dict[tuple[str | None, str | None], tuple[float, float]] = {
    (code, spelling): factor
    for code, m in OBSERVATION_CODES.items()
    for unit, factor in m.units.items()
    for spelling in litre_spellings(unit)
}
"""Each accepted (LOINC, UCUM unit) and its (scale, offset); a unit per litre in either of UCUM's litre codes."""
_ACCEPTED_UNITS = {code: ", ".join(m.units) for code, m in OBSERVATION_CODES.items()}
_PATIENT_URLS = {EXTENSION_BASE + name: name for name in PATIENT_EXTENSIONS}
_EVENT_URLS = {EXTENSION_BASE + name: name for name in EVENT_EXTENSIONS}
_EXTENSION_VALUES = ("valueCode", "valueString", "valueDate", "valueBoolean", "valueInteger", "valueDateTime")


# ------------------------------------------------------------------------------------ reading JSON elements


def text(value: Any) -> str | None:
    """An element as text, as DuckDB's ``->>`` gives it: a string as it is, anything else as its JSON."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else None


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else None


def _each(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _codings(concepts: Any) -> list[tuple[str | None, str | None]]:
    """(system, code) of each coding of a CodeableConcept, or of a list of them, in order."""
    pairs = []
    for concept in concepts if isinstance(concepts, list) else [concepts]:
        for coding in _each(_get(concept, "coding")):
            pairs.append((text(_get(coding, "system")), text(_get(coding, "code"))))
    return pairs


def _reference_id(reference: str | None, kind: str) -> str | None:
    """The id of a ``<kind>/<id>`` reference (relative or absolute), else ``None``."""
    if reference is None:
        return None
    pattern = _REFERENCES.get(kind)
    if pattern is None:  # compiled once a type (re's own cache costs a lookup a call: 2 % of a bulk import)
        pattern = _REFERENCES[kind] = re.compile(rf"^(?:.*/)?{kind}/([^/]+)$")
    found = pattern.match(reference)
    return found.group(1) if found else None


def subject_of(resource: dict[str, Any]) -> str | None:
    """The Patient id a resource's ``subject`` names, else ``None``."""
    return _reference_id(text(_get(resource.get("subject"), "reference")), "Patient")


_REFERENCES: dict[str, re.Pattern[str]] = {}


def day(value: str | None) -> str | None:
    """FHIR date/dateTime → YYYY-MM-DD (the day as written, before any zone); a partial date is ``None``."""
    if value is None:
        return None
    head = value[:10]
    return head if _DAY.fullmatch(head) else None


def _disease(codings: list[tuple[str | None, str | None]]) -> str | None:
    """The disease named by the first ICD-10 or SNOMED CT coding that names one, else ``None``."""
    for system, code in codings:
        found = None
        if system in ICD10 and code:
            found = ICD10_DISEASES.get(code.split(".")[0].upper())
        elif system == SNOMED:
            found = SNOMED_DISEASES.get(str(code))
        if found:
            return found
    return None


def _extensions(resource: dict[str, Any], urls: dict[str, str]) -> dict[str, str]:
    """Our extensions' values as text, by column name (the last one with a value wins)."""
    out: dict[str, str] = {}
    for k, extension in enumerate(_each(resource.get("extension"))):
        name = urls.get(text(_get(extension, "url")) or "")
        if name is None:
            continue
        unread = [key for key in extension if key.startswith("value") and key not in _EXTENSION_VALUES]
        if unread:  # a value riskmodel would drop without a word: refused, never ignored
            raise Refused(
                f"{resource.get('resourceType')}.extension[{k}].{unread[0]}",
                f"{name}: {unread[0]} is not read (use {', '.join(_EXTENSION_VALUES)})",
            )
        value = next((v for key in _EXTENSION_VALUES if (v := text(_get(extension, key))) is not None), None)
        if value is not None and not value.strip():  # FHIR allows a blank string; it is no value of a column
            raise Refused(f"{resource.get('resourceType')}.extension[{k}]", f"{name}: a blank value")
        if value is not None:
            out[name] = value
    return out


def _number(value: Any) -> float:
    """A JSON value as a number (NaN where it is none)."""
    if isinstance(value, bool) or value is None:
        return math.nan
    if isinstance(value, float):
        return value
    if isinstance(value, int):  # a JSON integer past a float's range is out of any range, not a traceback
        return float(value) if abs(value) < 2**1023 else math.inf if value > 0 else -math.inf
    if isinstance(value, str) and "_" not in value:
        try:
            return float(value)
        except ValueError:
            return math.nan
    return math.nan


def _round4(value: float) -> float:
    """``value`` to 4 decimals as numpy (and pandas) round it: times 10^4, to the nearest even, divided back."""
    if not math.isfinite(value) or abs(value) >= 2**49:
        return float(np.round(value, 4))
    return round(value * 10_000.0) / 10_000.0


def _range(column: str) -> tuple[float, float]:
    spec = EVENT_COLUMNS_BY_NAME.get(column) or COLUMNS_BY_NAME[column]
    return float(spec.low), float(spec.high)  # type: ignore[arg-type]


class Skipped(Exception):
    """A resource in a status riskmodel does not use: counted as skipped."""


class Refused(Exception):
    """A resource the mapping rejects: (path, reason)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(path)
        self.path, self.reason = path, reason


# ---------------------------------------------------------------------------------------- the rules by type


def patient(resource: dict[str, Any], *, as_of: dt.date, settings: FhirSettings) -> dict[str, Any]:
    """A Patient as a resident row (SPEC 2.1 columns as text, age in years at the as-of date)."""
    ident = text(resource.get("id"))
    if ident is None:
        raise Refused("Patient.id", "missing")
    gender = text(resource.get("gender"))
    if gender not in ("male", "female"):
        raise Refused("Patient.gender", "not male or female (riskmodel needs the sex, SPEC 2.1)")
    birth = day(text(resource.get("birthDate")))
    if birth is None:
        raise Refused("Patient.birthDate", "missing or not a full date (YYYY-MM-DD)")
    gp = text(_get(_first(resource.get("generalPractitioner")), "reference"))
    team = re.match(r"^(?:.*/)?(?:CareTeam|Organization)/([^/]+)$", gp) if gp is not None else None
    if team is None:
        raise Refused("Patient.generalPractitioner", "no CareTeam or Organization reference (the family-doctor team)")
    try:
        born = dt.date.fromisoformat(birth)
    except ValueError:
        raise Refused("Patient.birthDate", "not a calendar date") from None
    years = as_of.year - born.year - ((born.month * 100 + born.day) > (as_of.month * 100 + as_of.day))
    return {
        "resident_id": ident,
        "team_id": team.group(1),
        "sex": "M" if gender == "male" else "F",
        "age_years": float(years),
        "grid_id": _grid(resource, settings),
        **_extensions(resource, _PATIENT_URLS),
    }


def _grid(resource: dict[str, Any], settings: FhirSettings) -> str | None:
    for extension in _each(resource.get("extension")):
        if text(_get(extension, "url")) == settings.grid_extension_url:
            value = text(_get(extension, "valueString"))
            value = value if value is not None else text(_get(extension, "valueCode"))
            if value is not None:
                return value
            break
    if settings.grid_address_part:
        return text(_get(_first(resource.get("address")), settings.grid_address_part))
    return None


@dataclass(frozen=True, slots=True)
class _Part:
    """The Observation's own value (the head) or one of its components."""

    path: str
    loinc: str | None
    value: Any
    unit: str | None
    quantity: bool  # a value of a measure (not a panel, not a smoking answer)


def _loinc(concept: Any) -> str | None:
    return next((code for system, code in _codings(concept) if system == LOINC and code is not None), None)


def _parts(resource: dict[str, Any], loinc: str | None) -> tuple[list[_Part], bool]:
    components = _each(resource.get("component"))
    quantity = _get(resource, "valueQuantity")
    head_is_quantity = loinc not in (BP_PANEL, SMOKING_STATUS) and not components
    parts = [
        _Part(
            "Observation.valueQuantity",
            loinc,
            _get(quantity, "value"),
            text(_get(quantity, "code")) or text(_get(quantity, "unit")),
            head_is_quantity,
        )
    ]
    for k, component in enumerate(components):
        quantity = _get(component, "valueQuantity")
        unit = text(_get(quantity, "code"))
        parts.append(
            _Part(
                f"Observation.component[{k}].valueQuantity",
                _loinc(_get(component, "code")),
                _get(quantity, "value"),
                unit if unit is not None else text(_get(quantity, "unit")),
                True,
            )
        )
    return parts, bool(components)


def observation(resource: dict[str, Any]) -> list[Result]:
    """An Observation's results: each value of a LOINC code riskmodel reads, in its SPEC 2 column and unit."""
    if text(resource.get("status")) not in OBSERVATION_USED_STATUSES:
        raise Skipped
    loinc = _loinc(resource.get("code"))
    parts, has_components = _parts(resource, loinc)
    measures = [OBSERVATION_CODES.get(p.loinc) if p.quantity and p.loinc is not None else None for p in parts]
    # The first problem wins (in this order of checks, then of parts).
    for part, measure in zip(parts, measures, strict=True):
        if (part.quantity and measure is None) or (part is parts[0] and has_components and loinc != BP_PANEL):
            raise Refused("Observation.code", f"LOINC code {_code(part)} is not one riskmodel reads")
    if loinc == BP_PANEL:
        _check_panel(parts)
    values = [_number(p.value) for p in parts]
    for part, measure, value in zip(parts, measures, values, strict=True):
        if measure is not None and math.isnan(value):
            raise Refused(part.path + ".value", "missing or not a number")
    factors = [
        _UNIT_FACTORS.get((p.loinc, p.unit)) if m is not None else None for p, m in zip(parts, measures, strict=True)
    ]
    for part, measure, factor in zip(parts, measures, factors, strict=True):
        if measure is not None and factor is None:
            raise Refused(
                part.path + ".code",
                f"UCUM unit {part.unit if part.unit is not None else '(none)'} not accepted for LOINC "
                f"{_code(part)} (accepted: {_ACCEPTED_UNITS.get(part.loinc or '', '')})",
            )
    converted = [_round4(v * f[0] + f[1]) if f is not None else math.nan for v, f in zip(values, factors, strict=True)]
    for part, measure, value in zip(parts, measures, converted, strict=True):
        if measure is not None:
            low, high = _range(measure.column)
            if value < low or value > high:
                raise Refused(part.path + ".value", f"out of range {low}-{high} after conversion")
    answer = "?"
    if loinc == SMOKING_STATUS:
        codes = [code for _, code in _codings(_get(resource, "valueCodeableConcept"))]
        found = next((str(c) for c in codes if str(c) in SMOKING_ANSWERS), None)
        if found is None:
            raise Refused("Observation.valueCodeableConcept", "not a smoking-status answer riskmodel reads")
        answer = SMOKING_ANSWERS[found]  # type: ignore[assignment]
    effective = text(resource.get("effectiveDateTime"))
    if effective is None:
        effective = text(_get(resource.get("effectivePeriod"), "start"))
    if effective is None:
        effective = text(resource.get("effectiveInstant"))
    date = day(effective)
    if date is None:
        raise Refused("Observation.effective[x]", "missing or not a full date")
    resident = _reference_id(text(_get(resource.get("subject"), "reference")), "Patient")
    if resident is None:
        raise Refused("Observation.subject", "not a Patient reference")
    ident = text(resource.get("id"))
    encounter = _reference_id(text(_get(resource.get("encounter"), "reference")), "Encounter")
    results = [
        Result(resident, date, encounter, measure.column, value, ident, at=effective)
        for measure, value in zip(measures, converted, strict=True)
        if measure is not None
    ]
    if loinc == SMOKING_STATUS:
        results.append(Result(resident, date, encounter, "smoking", math.nan, ident, answer, at=effective))
    return results


def _check_panel(parts: list[_Part]) -> None:
    """A blood-pressure panel carries both readings (:data:`BP_COMPONENTS`): one without either is refused, never
    half a BP (SPEC 2 reads a BP as a pair, systolic over diastolic)."""
    present = {part.loinc for part in parts[1:]}
    missing = [f"{name} ({code})" for code, name in BP_COMPONENTS.items() if code not in present]
    if missing:
        needed = " and ".join(f"a {name} ({code})" for code, name in BP_COMPONENTS.items())
        raise Refused(
            "Observation.component",
            f"a blood-pressure panel ({BP_PANEL}) needs {needed} component: no {' and no '.join(missing)}",
        )


def _code(part: _Part) -> str:
    return part.loinc if part.loinc is not None else "(none)"


def condition(resource: dict[str, Any]) -> Diagnosis:
    """An active Condition of hypertension or type 2 diabetes."""
    clinical = [code for _, code in _codings(_get(resource, "clinicalStatus"))]
    if "active" not in clinical:
        raise Skipped
    disease = _disease(_codings(resource.get("code")))
    if disease is None:
        raise Refused("Condition.code", "not an ICD-10 I10-I15 / E11 or SNOMED CT 38341003 / 44054006 code")
    resident = _reference_id(text(_get(resource.get("subject"), "reference")), "Patient")
    if resident is None:
        raise Refused("Condition.subject", "not a Patient reference")
    written = text(resource.get("onsetDateTime"))
    if written is None:
        written = text(resource.get("recordedDate"))
    date = day(written)
    if written is not None and date is None:
        raise Refused("Condition.onset[x]", "not a full date")
    return Diagnosis(text(resource.get("id")), resident, disease, date)


def medicine(resource: dict[str, Any]) -> Medicine:
    """A MedicationStatement or MedicationRequest: active (current treatment), or linked to a follow-up or a
    diagnosis (treatment at that event, ``not-taken`` saying none)."""
    kind = resource.get("resourceType")
    status = text(resource.get("status"))
    element = ENCOUNTER_LINK.get(text(kind) or "", "context")  # a MedicationRequest's is its encounter (FHIR R4)
    encounter = _reference_id(text(_get(resource.get(element), "reference")), "Encounter")
    condition_id = _reference_id(text(_get(_first(resource.get("reasonReference")), "reference")), "Condition")
    linked = encounter is not None or condition_id is not None
    if not (status == "active" or (linked and status in MEDICINE_STATUSES_LINKED)):
        raise Skipped
    atc = next(
        (code for system, code in _codings(resource.get("medicationCodeableConcept")) if system == ATC and code),
        None,
    )
    treatment = ATC_TREATMENT.get(atc[:3]) if atc is not None else None
    if treatment is None:
        raise Refused(f"{kind}.medicationCodeableConcept", "no ATC code in C02, C03, C07, C08, C09, C10 or A10")
    resident = _reference_id(text(_get(resource.get("subject"), "reference")), "Patient")
    if resident is None:
        raise Refused(f"{kind}.subject", "not a Patient reference")
    return Medicine(resident, treatment, status, encounter, condition_id)


def encounter(resource: dict[str, Any]) -> Visit:
    """An Encounter for a disease: a follow-up (class AMB, HH, VR), or a referral's arrival (``basedOn`` it)."""
    disease = _disease(_codings(resource.get("reasonCode")))
    if disease is None:
        raise Skipped
    referral = _reference_id(text(_get(_first(resource.get("basedOn")), "reference")), "ServiceRequest")
    klass = text(_get(resource.get("class"), "code"))
    mode = ENCOUNTER_CLASSES.get(klass or "")
    if mode == "phone" and "online" in [str(code) for _, code in _codings(resource.get("type"))]:
        mode = "online"
    if referral is None and mode is None:
        raise Refused("Encounter.class", f"class {klass if klass is not None else '(none)'} is not AMB, HH or VR")
    resident = _reference_id(text(_get(resource.get("subject"), "reference")), "Patient")
    if resident is None:
        raise Refused("Encounter.subject", "not a Patient reference")
    date = day(text(_get(resource.get("period"), "start")))
    if date is None:
        raise Refused("Encounter.period.start", "missing or not a full date")
    return Visit(text(resource.get("id")), resident, date, disease, mode, referral, _extensions(resource, _EVENT_URLS))


def referral(resource: dict[str, Any]) -> Referral:
    """A ServiceRequest for a disease: sent on ``authoredOn``; completed, returned at the occurrence's end."""
    status = text(resource.get("status"))
    if status not in ("active", "completed"):
        raise Skipped
    disease = _disease(_codings(resource.get("reasonCode")))
    if disease is None:
        raise Refused("ServiceRequest.reasonCode", "no ICD-10 or SNOMED CT code for diabetes or hypertension")
    resident = _reference_id(text(_get(resource.get("subject"), "reference")), "Patient")
    if resident is None:
        raise Refused("ServiceRequest.subject", "not a Patient reference")
    date = day(text(resource.get("authoredOn")))
    if date is None:
        raise Refused("ServiceRequest.authoredOn", "missing or not a full date")
    returned = text(_get(resource.get("occurrencePeriod"), "end"))
    if returned is None:
        returned = text(resource.get("occurrenceDateTime"))
    returned_date = day(returned)
    if status == "completed" and returned_date is None:
        raise Refused("ServiceRequest.occurrencePeriod.end", "a completed referral without its return date")
    return Referral(text(resource.get("id")), resident, disease, date, status, returned_date)
