"""SPEC 14.3 resources without a server: Measures generated from the indicator definitions, MeasureReports (exact
estimates kept), code systems, Task priority by band, OperationOutcome; each validates with fhir.resources R4B."""

from __future__ import annotations

import datetime as dt

import pytest
from fhir.resources.R4B import get_fhir_model_class

from riskmodel.indicators.definitions import INDICATORS
from riskmodel.interchange.fhir_measures import MEASURES, measure_report, measure_url
from riskmodel.interchange.fhir_out import CODE_SYSTEMS, bundle, code_system, operation_outcome, task
from riskmodel.worklist.labels import ACTION_LABELS, TIER_LABELS

AS_OF = dt.date(2026, 7, 1)


def _valid(resource: dict) -> None:
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def test_each_indicator_is_one_valid_measure():
    assert len(MEASURES) == len(INDICATORS)
    for indicator in INDICATORS:
        resource = MEASURES[indicator.code.replace("_", "-")]
        _valid(resource)
        assert resource["url"] == measure_url(indicator.code) and resource["subtitle"] == indicator.zh
        scoring = resource["scoring"]["coding"][0]["code"]
        assert scoring == ("proportion" if indicator.rate else "cohort")
        codes = {p["code"]["coding"][0]["code"] for g in resource["group"] for p in g["population"]}
        assert codes == ({"numerator", "denominator"} if indicator.rate else {"initial-population"})
    _valid(bundle(MEASURES.values(), kind="searchset"))


def test_a_report_keeps_an_estimated_denominator_exact_and_leaves_out_a_rate_without_denominator():
    items = {
        "diabetes": {"numerator": 3.0, "denominator": 12.4, "rate": 3 / 12.4, "target": 0.6},
        "hypertension": {"numerator": 0.0, "denominator": 0.0, "rate": None, "target": None},
    }
    report = measure_report("team", "T1", "management_rate", items, as_of=AS_OF)
    _valid(report)
    dm, htn = report["group"]
    assert [p["count"] for p in dm["population"]] == [3, 12]
    assert dm["population"][1]["extension"][0]["valueDecimal"] == 12.4 and "extension" not in dm["population"][0]
    assert dm["measureScore"]["value"] == 3 / 12.4 and "measureScore" not in htn
    assert report["period"] == {"start": "2025-07-02", "end": "2026-07-01"}  # the 365 days up to the date


def test_a_count_indicator_reports_its_count_as_the_score():
    report = measure_report("county", "*", "managed", {"diabetes": {"numerator": 41.0}}, as_of=AS_OF)
    _valid(report)
    group = report["group"][0]
    assert group["population"][0]["count"] == 41 and group["measureScore"]["value"] == 41.0


@pytest.mark.parametrize(("code_system_id", "table"), [("tier", TIER_LABELS), ("action", ACTION_LABELS)])
def test_code_systems_list_every_label_in_both_languages(code_system_id, table):
    resource = code_system(code_system_id)
    _valid(resource)
    assert [c["code"] for c in resource["concept"]] == list(table)
    assert [c["designation"][0]["value"] for c in resource["concept"]] == [zh for _, zh in table.values()]
    assert set(CODE_SYSTEMS) == {"tier", "tier-source", "action"}


@pytest.mark.parametrize(("band", "priority"), [(1, "stat"), (2, "asap"), (3, "routine"), (4, "routine")])
def test_task_priority_by_band(band, priority):
    action = {"disease": "hypertension", "action": "recheck", "label": "复查", "band": band,
              "due_date": "2026-07-15", "overdue_days": 0, "tests": "BP"}  # fmt: skip
    resource = task({"resident_id": "R1"}, action, as_of=AS_OF, lang="zh")
    _valid(resource)
    assert resource["priority"] == priority and resource["restriction"]["period"]["end"] == "2026-07-15"
    assert (resource["status"], resource["intent"], resource["for"]) == (
        "requested",
        "plan",
        {"reference": "Patient/R1"},
    )


def test_operation_outcome_names_type_id_path_and_reason():
    resource = operation_outcome(
        [{"resource_type": "Observation", "resource_id": "o1", "path": "Observation.code", "reason": "unknown"}]
    )
    _valid(resource)
    issue = resource["issue"][0]
    assert (issue["diagnostics"], issue["expression"], issue["details"]["text"]) == (
        "Observation/o1",
        ["Observation.code"],
        "unknown",
    )
