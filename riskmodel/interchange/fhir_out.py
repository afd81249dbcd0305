"""FHIR R4 out (SPEC 14.3): assessments as ``RiskAssessment`` and ``Task`` resources, rejected input as an
``OperationOutcome``, and the code systems the package publishes for tiers, tier sources and actions.

The resources are built from the JSON-ready assessments of ``POST /v1/assessments`` (one dict per resident, made by
the same function), so the two answers cannot drift apart: this module only re-shapes them.

References
----------
HL7 FHIR R4 (4.0.1): RiskAssessment, Task, Bundle, OperationOutcome, CodeSystem; the v3 ActPriority codes
(``stat``, ``asap``, ``routine``) of ``Task.priority`` (request-priority value set).
SNOMED CT: 44054006 Diabetes mellitus type 2; 38341003 Hypertensive disorder.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from riskmodel.interchange.fhir_codes import DISEASE_CODES, SNOMED
from riskmodel.interchange.fhir_records import Result
from riskmodel.interchange.settings import EXTENSION_BASE
from riskmodel.rules.actions import DISEASE_ORDER
from riskmodel.worklist.labels import ACTION_LABELS, DISEASE_LABELS, SOURCE_LABELS, TIER_LABELS, Lang, label

CANONICAL_BASE = EXTENSION_BASE.removesuffix("StructureDefinition/")
"""``https://riskmodel.org/fhir/``: the base of every canonical URL the package publishes."""
CODE_SYSTEMS: dict[str, tuple[str, str, dict[str, tuple[str, str]]]] = {
    "tier": ("RiskTier", "riskmodel tiers (健康人群 / 高危人群 / 慢病患者)", TIER_LABELS),
    "tier-source": ("RiskTierSource", "where a riskmodel tier came from", SOURCE_LABELS),
    "action": ("RiskAction", "riskmodel work-list actions", ACTION_LABELS),
}
"""Published code systems: id → (name, title, the label table their concepts come from)."""
DISEASE_DISPLAY = {"diabetes": "Diabetes mellitus type 2", "hypertension": "Hypertensive disorder"}
"""SNOMED CT preferred terms of the two outcomes (:data:`riskmodel.interchange.fhir_codes.DISEASE_CODES`)."""
BAND_PRIORITY = {1: "stat", 2: "asap", 3: "routine", 4: "routine"}
"""``Task.priority`` by work-list band (SPEC 6): band 1 refer now, band 2 within 14 days, bands 3-4 routine."""
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, CANONICAL_BASE)


def system_url(code_system: str) -> str:
    return f"{CANONICAL_BASE}CodeSystem/{code_system}"


def code_system(code_system_id: str) -> dict[str, Any]:
    """A published ``CodeSystem`` (English display, Chinese designation), generated from its label table."""
    name, title, table = CODE_SYSTEMS[code_system_id]
    return {
        "resourceType": "CodeSystem",
        "id": code_system_id,
        "url": system_url(code_system_id),
        "version": "1",
        "name": name,
        "title": title,
        "status": "active",
        "experimental": False,
        "caseSensitive": True,
        "content": "complete",
        "count": len(table),
        "concept": [
            {"code": code, "display": en, "designation": [{"language": "zh", "value": zh}]}
            for code, (en, zh) in table.items()
        ],
    }


def _coding(code_system_id: str, code: str, lang: Lang) -> dict[str, Any]:
    table = CODE_SYSTEMS[code_system_id][2]
    return {"system": system_url(code_system_id), "code": code, "display": label(table, code, lang)}


def resource_id(*parts: str) -> str:
    """A stable id (a UUID, valid as a FHIR id and as ``urn:uuid:``) for a resource made from these parts."""
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join(parts)))


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    """A Bundle entry: a definition under its canonical URL, anything else under ``urn:uuid:<id>``."""
    return {"fullUrl": resource.get("url") or f"urn:uuid:{resource['id']}", "resource": resource}


def bundle(resources: Iterable[dict[str, Any]], *, kind: str = "collection") -> dict[str, Any]:
    entries = [_entry(r) for r in resources]
    out: dict[str, Any] = {"resourceType": "Bundle", "type": kind}
    if kind == "searchset":
        out["total"] = len(entries)
    out["entry"] = entries
    return out


def _flag(name: str, value: bool) -> dict[str, Any]:
    return {"url": EXTENSION_BASE + name, "valueBoolean": value}


def risk_assessment(
    item: Mapping[str, Any],
    disease: str,
    *,
    as_of: dt.date,
    lang: Lang,
    basis: Sequence[str] = (),
    reasons: Sequence[str] = (),
) -> dict[str, Any]:
    """One resident's assessment of one disease (``item`` as ``POST /v1/assessments`` returns it)."""
    rid = str(item["resident_id"])
    result = item[disease]
    prediction: dict[str, Any] = {
        "outcome": {
            "coding": [{"system": SNOMED, "code": DISEASE_CODES[disease][1], "display": DISEASE_DISPLAY[disease]}],
            "text": label(DISEASE_LABELS, disease, lang),
        },
        "qualitativeRisk": {"coding": [_coding("tier", result["tier"], lang)], "text": result["tier_label"]},
    }
    if result["tier_source"] != "record":  # an undiagnosed resident: the model's calibrated P(chronic)
        prediction["probabilityDecimal"] = result["p_chronic"]
    resource: dict[str, Any] = {
        "resourceType": "RiskAssessment",
        "id": resource_id("RiskAssessment", rid, disease, str(as_of)),
        "extension": [
            _flag("confirmed", result["confirmed"]),
            _flag("stale", result["stale"]),
            _flag("guideline_high_risk", result["guideline_high_risk"]),
            {"url": EXTENSION_BASE + "model_version", "valueString": str(item["model_version"])},
        ],
        "status": "final",
        "method": {"coding": [_coding("tier-source", result["tier_source"], lang)]},
        "subject": {"reference": f"Patient/{rid}"},
        "occurrenceDateTime": as_of.isoformat(),
        "prediction": [prediction],
    }
    findings = [{"text": finding["text"]} for finding in result["findings"]]
    if findings:
        resource["reasonCode"] = findings
    if basis:
        resource["basis"] = [{"reference": f"Observation/{ident}"} for ident in basis]
    if reasons:
        resource["note"] = [{"text": reason} for reason in reasons]
    return resource


def task(item: Mapping[str, Any], action: Mapping[str, Any], *, as_of: dt.date, lang: Lang) -> dict[str, Any]:
    """One due action (an entry of ``actions`` in the JSON assessment) as a planned ``Task``."""
    rid = str(item["resident_id"])
    disease = action["disease"]
    resource: dict[str, Any] = {
        "resourceType": "Task",
        "id": resource_id("Task", rid, disease, action["action"], str(as_of)),
        "extension": [
            {"url": EXTENSION_BASE + "band", "valueInteger": int(action["band"])},
            {"url": EXTENSION_BASE + "overdue_days", "valueInteger": int(action["overdue_days"])},
        ],
        "status": "requested",
        "intent": "plan",
        "priority": BAND_PRIORITY[int(action["band"])],
        "code": {"coding": [_coding("action", action["action"], lang)], "text": action["label"]},
        "description": action["label"],
        "for": {"reference": f"Patient/{rid}"},
        "authoredOn": as_of.isoformat(),
        "restriction": {"period": {"end": action["due_date"]}},
        "reasonReference": {"reference": f"urn:uuid:{resource_id('RiskAssessment', rid, disease, str(as_of))}"},
    }
    if action.get("tests"):
        resource["input"] = [
            {"type": {"text": "tests"}, "valueString": test} for test in str(action["tests"]).split(", ")
        ]
    return resource


def assessment_resources(
    items: Iterable[Mapping[str, Any]],
    *,
    as_of: dt.date,
    lang: Lang,
    basis: Mapping[tuple[str, str], Sequence[str]] | None = None,
) -> list[dict[str, Any]]:
    """Per resident: a ``RiskAssessment`` per disease, then a ``Task`` per due action, most urgent first.

    The resident's reasons (SPEC 6) go on the assessment of the disease of their most urgent action (diabetes
    when nothing is due); ``basis`` maps (resident, disease) to the ids of the Observations used.
    """
    basis = basis or {}
    out = []
    for item in items:
        rid = str(item["resident_id"])
        reasoned = item.get("action_disease") or DISEASE_ORDER[0]
        for disease in DISEASE_ORDER:
            out.append(
                risk_assessment(
                    item,
                    disease,
                    as_of=as_of,
                    lang=lang,
                    basis=basis.get((rid, disease), ()),
                    reasons=item.get("reasons", ()) if disease == reasoned else (),
                )
            )
        out.extend(task(item, action, as_of=as_of, lang=lang) for action in item["actions"])
    return out


BASIS_MEASURES: dict[str, tuple[str, ...]] = {
    "diabetes": ("fpg_mmol_l", "ogtt_2h_mmol_l", "random_glucose_mmol_l", "hba1c_pct"),
    "hypertension": ("sbp_mmhg", "dbp_mmhg"),
}
"""The measures whose newest result an assessment of each disease reads (SPEC 4: glycaemia, blood pressure)."""
_BASIS_DISEASE = {column: disease for disease, columns in BASIS_MEASURES.items() for column in columns}


def basis_observations(observations: Iterable[Result] | None, as_of: dt.date) -> dict[tuple[str, str], list[str]]:
    """Per (resident, disease): the Observations of the newest result of each of the disease's measures on or
    before the as-of date (the results the rules read; SPEC 2.2 "an event wins a tie", all of that day)."""
    day = as_of.isoformat()
    used = [r for r in observations or () if r.column in _BASIS_DISEASE and r.date <= day]
    newest: dict[tuple[str, str], str] = {}
    for result in used:
        key = (result.resident_id, result.column)
        if result.date > newest.get(key, ""):
            newest[key] = result.date
    ids: dict[tuple[str, str], set[str]] = {}
    for result in used:
        if result.date == newest[(result.resident_id, result.column)]:
            ids.setdefault((result.resident_id, _BASIS_DISEASE[result.column]), set()).add(str(result.id))
    return {key: sorted(found) for key, found in ids.items()}


def operation_outcome(issues: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Rejected input as an ``OperationOutcome``: one issue per rejected resource (type, id, path, reason)."""
    out = []
    for issue in issues:
        kind, ident = issue.get("resource_type"), issue.get("resource_id")
        entry: dict[str, Any] = {
            "severity": "error",
            "code": issue.get("code", "invalid"),
            "details": {"text": str(issue["reason"])},
        }
        if kind or ident:
            entry["diagnostics"] = f"{kind or '(unknown type)'}/{ident if _present(ident) else '(no id)'}"
        if issue.get("path"):
            entry["expression"] = [str(issue["path"])]
        out.append(entry)
    return {"resourceType": "OperationOutcome", "issue": out}


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and value != value)
