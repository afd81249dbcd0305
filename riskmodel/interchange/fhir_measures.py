"""The indicators of SPEC 11 as FHIR R4: each defined once as a ``Measure`` (generated from
:data:`riskmodel.indicators.definitions.INDICATORS`, nothing retyped), and a unit's figures as a ``MeasureReport``
per indicator, one group per disease with its numerator, denominator and score (SPEC 14.3).

A rate is a ``proportion`` measure (numerator and denominator populations, score = the rate); a plain count is a
``cohort`` measure (its initial population, score = the count). Population counts are integers in FHIR: an
estimate (``estimated_patients``, the denominator of ``management_rate``) is written rounded, with its exact
value in the extension ``<EXTENSION_BASE>exact_count`` (SPEC 11: estimates are not rounded).

References
----------
HL7 FHIR R4 (4.0.1): Measure, MeasureReport; the measure-scoring and measure-population code systems
(``terminology.hl7.org/CodeSystem/measure-scoring``, ``.../measure-population``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from riskmodel.indicators.definitions import BY_CODE, INDICATORS, Indicator
from riskmodel.interchange.fhir_codes import DISEASE_CODES, SNOMED
from riskmodel.interchange.fhir_out import CANONICAL_BASE, DISEASE_DISPLAY, resource_id
from riskmodel.interchange.settings import EXTENSION_BASE
from riskmodel.rules.actions import DISEASE_ORDER

SCORING = "http://terminology.hl7.org/CodeSystem/measure-scoring"
POPULATION = "http://terminology.hl7.org/CodeSystem/measure-population"
UNIT_SYSTEM = CANONICAL_BASE + "unit/"
"""Identifier systems of the units a report is about: ``<UNIT_SYSTEM>team``, ``grid``, ``county``."""


def measure_id(code: str) -> str:
    """The Measure's id: the indicator code with ``-`` for ``_`` (FHIR ids allow no underscore)."""
    return code.replace("_", "-")


def measure_url(code: str) -> str:
    return f"{CANONICAL_BASE}Measure/{measure_id(code)}"


def _populations(indicator: Indicator) -> list[tuple[str, str]]:
    if indicator.rate:
        return [("numerator", f"{indicator.en}: numerator"), ("denominator", f"{indicator.en}: denominator")]
    return [("initial-population", f"{indicator.en}: count")]


def _disease_concept(disease: str) -> dict[str, Any]:
    return {"coding": [{"system": SNOMED, "code": DISEASE_CODES[disease][1], "display": DISEASE_DISPLAY[disease]}]}


def measure(indicator: Indicator) -> dict[str, Any]:
    """The ``Measure`` of one indicator: a group per disease."""
    name = "".join(part.capitalize() for part in indicator.code.split("_"))
    return {
        "resourceType": "Measure",
        "id": measure_id(indicator.code),
        "url": measure_url(indicator.code),
        "version": "1",
        "name": name if name[0].isalpha() else f"M{name}",
        "title": indicator.en,
        "subtitle": indicator.zh,
        "status": "active",
        "experimental": False,
        "description": f"{indicator.zh} ({indicator.en}), per team, grid and county as of a date (SPEC 11).",
        "relatedArtifact": [{"type": "citation", "citation": indicator.reference}],
        "scoring": {"coding": [{"system": SCORING, "code": "proportion" if indicator.rate else "cohort"}]},
        "group": [
            {
                "code": _disease_concept(disease),
                "description": f"{indicator.en}, {disease}",
                "population": [
                    {
                        "code": {"coding": [{"system": POPULATION, "code": code}]},
                        "description": text,
                        "criteria": {"language": "text/plain", "expression": f"{indicator.code}:{disease}:{code}"},
                    }
                    for code, text in _populations(indicator)
                ],
            }
            for disease in DISEASE_ORDER
        ],
    }


MEASURES: dict[str, dict[str, Any]] = {measure_id(i.code): measure(i) for i in INDICATORS}
"""Every Measure the package ships, by id."""


def _population(code: str, value: float | None) -> dict[str, Any]:
    out: dict[str, Any] = {"code": {"coding": [{"system": POPULATION, "code": code}]}}
    if value is None:
        return out
    out["count"] = int(round(value))
    if value != int(round(value)):
        out["extension"] = [{"url": EXTENSION_BASE + "exact_count", "valueDecimal": value}]
    return out


def measure_report(
    level: str, unit_id: str, indicator: str, by_disease: Mapping[str, Mapping[str, Any]], *, as_of: dt.date
) -> dict[str, Any]:
    """One unit's figures of one indicator as of a date (``by_disease``: the indicators route's items)."""
    definition = BY_CODE[indicator]
    groups = []
    for disease in DISEASE_ORDER:
        if disease not in by_disease:
            continue
        item = by_disease[disease]
        group: dict[str, Any] = {"code": _disease_concept(disease)}
        if definition.rate:
            group["population"] = [
                _population("numerator", item["numerator"]),
                _population("denominator", item["denominator"]),
            ]
            score = item["rate"]
        else:
            group["population"] = [_population("initial-population", item["numerator"])]
            score = item["numerator"]
        if score is not None:
            group["measureScore"] = {"value": score}
        if item.get("target") is not None:
            group["extension"] = [{"url": EXTENSION_BASE + "target", "valueDecimal": item["target"]}]
        groups.append(group)
    return {
        "resourceType": "MeasureReport",
        "id": resource_id("MeasureReport", level, unit_id, indicator, str(as_of)),
        "status": "complete",
        "type": "summary",
        "measure": measure_url(indicator),
        "subject": {"identifier": {"system": UNIT_SYSTEM + level, "value": unit_id}},
        "date": as_of.isoformat(),
        "period": {"start": (as_of - dt.timedelta(days=364)).isoformat(), "end": as_of.isoformat()},
        "group": groups,
    }


def measure_reports(content: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The indicators route's content (:func:`riskmodel.indicators.report.unit_indicators`) as MeasureReports:
    one per unit and indicator, in the order of the definitions."""
    as_of = dt.date.fromisoformat(str(content["as_of"]))
    order = {i.code: k for k, i in enumerate(INDICATORS)}
    out = []
    for unit in content["units"]:
        by_indicator: dict[str, dict[str, Mapping[str, Any]]] = {}
        for item in unit["indicators"]:
            by_indicator.setdefault(item["indicator"], {})[item["disease"]] = item
        for indicator in sorted(by_indicator, key=order.__getitem__):
            out.append(measure_report(unit["level"], unit["unit_id"], indicator, by_indicator[indicator], as_of=as_of))
    return out
