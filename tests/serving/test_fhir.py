"""FHIR R4 out (SPEC 14.3): POST /v1/fhir/assessments equals POST /v1/assessments on the same residents; every
resource the API returns validates with fhir.resources (R4B); MeasureReports equal the JSON indicators; the request
path maps, types and rejects a Bundle as the file import does."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from fhir.resources.R4B import get_fhir_model_class

from riskmodel.indicators.definitions import INDICATORS
from riskmodel.interchange import population_resources, read_fhir
from riskmodel.interchange.fhir_in import as_import, map_bundle
from riskmodel.interchange.importing import checked_import
from riskmodel.interchange.settings import FhirSettings
from riskmodel.records.events import events_table
from riskmodel.records.reading import columns_from_values, resident_columns
from riskmodel.synth.population import events_path, write_population
from serving.auth import Caller
from serving.routes.fhir import Rejected, assess_bundle, read_bundle, without_values
from tests.serving.conftest import ALL_KEY, TEAM_KEY

ALL = {"X-API-Key": ALL_KEY}
TEAM = {"X-API-Key": TEAM_KEY}
FHIR = {**ALL, "Content-Type": "application/fhir+json"}
AS_OF = dt.date(2026, 7, 1)
UCUM = "http://unitsofmeasure.org"
TIER = "https://riskmodel.org/fhir/CodeSystem/tier"
ACTION = "https://riskmodel.org/fhir/CodeSystem/action"
OUTCOMES = {"44054006": "diabetes", "38341003": "hypertension"}
BASIS_CODES = {
    "hypertension": {"85354-9", "8480-6", "8462-4"},
    "diabetes": {"14771-0", "14995-5", "15074-8", "4548-4", "1558-6", "1518-0", "2339-0"},
}


def _valid(resource: dict[str, Any]) -> None:
    """Validates with the FHIR R4 models (raises on the first problem)."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in row.items():
        if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
            continue
        out[key] = value.date().isoformat() if isinstance(value, pd.Timestamp) else value
        if isinstance(out[key], dt.date):
            out[key] = out[key].isoformat()
    return out


@pytest.fixture(scope="module")
def histories(tmp_path_factory) -> tuple[pd.DataFrame, pd.DataFrame]:
    path = write_population(
        Path(tmp_path_factory.mktemp("fhir")) / "r.parquet", 50, teams=1, seed=11, as_of=AS_OF, history_years=3
    )
    return pq.read_table(path).to_pandas(), pq.read_table(events_path(path)).to_pandas()


def _bundle(residents: pd.DataFrame, events: pd.DataFrame | None) -> dict[str, Any]:
    resources = population_resources(residents, events, AS_OF, FhirSettings())
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def _records(residents: pd.DataFrame, events: pd.DataFrame) -> list[dict[str, Any]]:
    nested = {rid: [_clean(e) for e in group.drop(columns="resident_id").to_dict("records")]
              for rid, group in events.groupby("resident_id")}  # fmt: skip
    return [{**_clean(r), "events": nested.get(r["resident_id"], [])} for r in residents.to_dict("records")]


def _by_patient(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        subject = (resource.get("subject") or resource.get("for"))["reference"].removeprefix("Patient/")
        mine = out.setdefault(subject, {"assessments": {}, "tasks": []})
        if resource["resourceType"] == "RiskAssessment":
            disease = OUTCOMES[resource["prediction"][0]["outcome"]["coding"][0]["code"]]
            mine["assessments"][disease] = resource
        else:
            mine["tasks"].append(resource)
    return out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_bundle_route_answers_what_the_json_route_answers(client, histories, lang):
    residents, events = histories
    query = f"as_of={AS_OF}&lang={lang}"
    answers: dict[str, dict[str, Any]] = {}
    items: list[dict[str, Any]] = []
    for start in range(0, len(residents), 10):  # 10 residents a request: the test app takes bodies up to 400 kB
        chunk = residents.iloc[start : start + 10]
        mine = events[events["resident_id"].isin(chunk["resident_id"])]
        fhir = client.post(f"/v1/fhir/assessments?{query}", content=json.dumps(_bundle(chunk, mine)), headers=FHIR)
        assert fhir.status_code == 200, fhir.text[:2000]
        assert fhir.headers["content-type"].startswith("application/fhir+json")
        answers.update(_by_patient(fhir.json()))
        plain = client.post(f"/v1/assessments?{query}&explain=true", json={"records": _records(chunk, mine)},
                            headers=ALL)  # fmt: skip
        assert plain.status_code == 200, plain.text[:2000]
        items += plain.json()["assessments"]
    assert sorted(answers) == sorted(item["resident_id"] for item in items) and len(items) == 50
    seen_probability = seen_tasks = 0
    for item in items:
        mine = answers[item["resident_id"]]
        for disease in ("diabetes", "hypertension"):
            expected, resource = item[disease], mine["assessments"][disease]
            prediction = resource["prediction"][0]
            coding = prediction["qualitativeRisk"]["coding"][0]
            assert (coding["system"], coding["code"], coding["display"]) == (TIER, expected["tier"],
                                                                             expected["tier_label"])  # fmt: skip
            assert resource["occurrenceDateTime"] == str(AS_OF)
            assert resource["method"]["coding"][0]["code"] == expected["tier_source"]
            if expected["tier_source"] == "record":
                assert "probabilityDecimal" not in prediction
            else:
                assert math.isclose(prediction["probabilityDecimal"], expected["p_chronic"], abs_tol=1e-6)
                seen_probability += 1
            notes = [note["text"] for note in resource.get("note", [])]
            reasoned = (item["action_disease"] or "diabetes") == disease
            assert notes == (item["reasons"] if reasoned else [])
            assert [c["text"] for c in resource.get("reasonCode", [])] == [f["text"] for f in expected["findings"]]
        tasks = {(t["code"]["coding"][0]["code"], t["restriction"]["period"]["end"], t["priority"], t["description"])
                 for t in mine["tasks"]}  # fmt: skip
        priority = {1: "stat", 2: "asap", 3: "routine", 4: "routine"}
        assert tasks == {(a["action"], a["due_date"], priority[a["band"]], a["label"]) for a in item["actions"]}
        assert all(t["code"]["coding"][0]["system"] == ACTION and t["status"] == "requested" for t in mine["tasks"])
        seen_tasks += len(tasks)
    assert seen_probability and seen_tasks  # the comparison covered model tiers and due actions


def test_basis_references_the_observations_of_the_newest_results(client, histories):
    residents, events = histories
    residents = residents.head(10)
    bundle = _bundle(residents, events[events["resident_id"].isin(residents["resident_id"])])
    kinds = {
        r["resource"]["id"]: r["resource"] for r in bundle["entry"] if r["resource"]["resourceType"] == "Observation"
    }
    answer = client.post(f"/v1/fhir/assessments?as_of={AS_OF}", content=json.dumps(bundle), headers=FHIR)
    assert answer.status_code == 200, answer.text[:2000]
    answer = answer.json()
    referenced = 0
    for entry in answer["entry"]:
        resource = entry["resource"]
        for basis in resource.get("basis", []):
            observation = kinds[basis["reference"].removeprefix("Observation/")]
            assert observation["subject"] == resource["subject"]
            assert observation["effectiveDateTime"] <= str(AS_OF)
            codes = {observation["code"]["coding"][0]["code"]}
            disease = OUTCOMES[resource["prediction"][0]["outcome"]["coding"][0]["code"]]
            assert codes <= BASIS_CODES[disease]
            referenced += 1
    assert referenced


def test_everything_returned_validates_as_fhir_r4(client, histories):
    residents, events = histories
    answer = client.post(
        f"/v1/fhir/assessments?as_of={AS_OF}",
        content=json.dumps(
            _bundle(residents.head(10), events[events["resident_id"].isin(residents["resident_id"].head(10))])
        ),
        headers=FHIR,
    )
    assert answer.status_code == 200, answer.text[:2000]
    returned = [answer.json()]
    returned += [entry["resource"] for entry in answer.json()["entry"]]
    assert {"RiskAssessment", "Task"} <= {r["resourceType"] for r in returned}
    measures = client.get("/v1/fhir/Measure", headers=ALL).json()
    returned += [measures, *(e["resource"] for e in measures["entry"])]
    returned += [client.get("/v1/fhir/CodeSystem/" + c, headers=ALL).json() for c in ("tier", "tier-source", "action")]
    reports = client.get("/v1/fhir/MeasureReport?level=team&id=T00001", headers=ALL).json()
    returned += [reports, *(e["resource"] for e in reports["entry"])]
    bad = client.post("/v1/fhir/assessments", content=b"{not json", headers=FHIR)
    returned.append(bad.json())
    assert {"Bundle", "Measure", "CodeSystem", "MeasureReport", "OperationOutcome"} <= {r["resourceType"] for r in
                                                                                         returned}  # fmt: skip
    for resource in returned:
        _valid(resource)


PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1960-03-01",
           "generalPractitioner": [{"reference": "CareTeam/T00001"}]}  # fmt: skip


def _observation(code: str, value: float, unit: str, ident: str = "o1") -> dict[str, Any]:
    return {"resourceType": "Observation", "id": ident, "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2026-06-01",
            "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit}}  # fmt: skip


def _post(client, *resources: dict[str, Any], headers=FHIR):  # type: ignore[no-untyped-def]
    body = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
    return client.post(f"/v1/fhir/assessments?as_of={AS_OF}", content=json.dumps(body), headers=headers)


def test_one_patient_is_assessed_with_a_fasting_glucose_in_mg_dl(client):
    answer = _post(client, PATIENT, _observation("1558-6", 140.0, "mg/dL"), headers={**TEAM, "Content-Type":
                   "application/json"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    dm = [e["resource"] for e in answer.json()["entry"] if e["resource"]["resourceType"] == "RiskAssessment"][0]
    assert dm["prediction"][0]["qualitativeRisk"]["coding"][0]["code"] in ("high_risk", "chronic")  # 7.8 mmol/L
    assert dm["basis"] == [{"reference": "Observation/o1"}]


@pytest.mark.parametrize(
    ("resource", "diagnostics", "expression"),
    [
        (_observation("99999-9", 7.0, "mmol/L"), "Observation/o1", "Observation.code"),
        (_observation("14771-0", 7.0, "mg"), "Observation/o1", "Observation.valueQuantity.code"),
        (_observation("14771-0", 700.0, "mmol/L"), "Observation/o1", "Observation.valueQuantity.value"),
        ({**PATIENT, "id": "p2", "gender": "unknown"}, "Patient/p2", "Patient.gender"),
    ],
)
def test_a_rejected_resource_is_a_422_operation_outcome(client, resource, diagnostics, expression):
    answer = _post(client, PATIENT, resource)
    assert answer.status_code == 422, answer.text
    outcome = answer.json()
    _valid(outcome)
    assert outcome["resourceType"] == "OperationOutcome"
    issue = outcome["issue"][0]
    assert issue["diagnostics"] == diagnostics and issue["expression"] == [expression] and issue["details"]["text"]


@pytest.mark.parametrize(
    ("body", "expression"),
    [
        (b"{not json", "body"),
        (b'{"resourceType": "Patient", "id": "p1"}', "Bundle"),
        (b'{"resourceType": "Bundle", "type": "collection", "entry": []}', "Bundle.entry"),
        (b'{"resourceType": "Bundle", "type": "collection", "entry": {"a": 1}}', "Bundle.entry"),
        (b'{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": null}, 3]}', "Bundle.entry"),
    ],
)
def test_a_body_that_is_not_a_bundle_of_patients_is_a_422(client, body, expression):
    answer = client.post("/v1/fhir/assessments", content=body, headers=FHIR)
    assert answer.status_code == 422 and answer.json()["issue"][0]["expression"] == [expression]


def test_a_bundle_of_1000_patients_is_assessed_and_1001_is_a_422(client):
    many = [{**PATIENT, "id": f"p{k}"} for k in range(1001)]
    refused = _post(client, *many)
    assert refused.status_code == 422 and "1,001 Patients" in refused.json()["issue"][0]["details"]["text"]
    answer = _post(client, *many[:1000])
    assert answer.status_code == 200, answer.text[:500]
    assert sum(e["resource"]["resourceType"] == "RiskAssessment" for e in answer.json()["entry"]) == 2000


def test_another_content_type_is_415(client):
    answer = client.post(
        "/v1/fhir/assessments", content=b"<Bundle/>", headers={**ALL, "Content-Type": "application/xml"}
    )
    assert answer.status_code == 415 and answer.json()["resourceType"] == "OperationOutcome"


def test_a_patient_of_a_team_the_key_may_not_read_is_404(client):
    other = {**PATIENT, "generalPractitioner": [{"reference": "CareTeam/T00002"}]}
    assert _post(client, other, headers={**TEAM, "Content-Type": "application/fhir+json"}).status_code == 404
    assert _post(client, PATIENT, headers={**TEAM, "Content-Type": "application/fhir+json"}).status_code == 200
    assert _post(client, PATIENT, headers={"Content-Type": "application/fhir+json"}).status_code == 401


def _json_indicators(client, level: str, unit: str | None) -> tuple[str, dict[tuple[str, str], dict[str, Any]]]:
    path = f"/v1/teams/{unit}/indicators?months=1" if level == "team" else f"/v1/indicators?level={level}"
    content = client.get(path, headers=ALL).json()
    chosen = [u for u in content["units"] if level == "county" or u["unit_id"] == unit]
    return chosen[0]["unit_id"], {(i["indicator"], i["disease"]): i for i in chosen[0]["indicators"]}


@pytest.mark.parametrize(("level", "unit"), [("team", "T00001"), ("county", None)])
def test_measure_reports_equal_the_json_indicators(client, level, unit):
    query = f"level={level}" + (f"&id={unit}" if unit else "")
    answer = client.get(f"/v1/fhir/MeasureReport?{query}", headers=ALL)
    assert answer.status_code == 200, answer.text
    unit, expected = _json_indicators(client, level, unit)
    reports = [e["resource"] for e in answer.json()["entry"]]
    assert len(reports) == len({indicator for indicator, _ in expected})
    compared = 0
    for report in reports:
        code = report["measure"].rsplit("/", 1)[1].replace("-", "_")
        assert report["subject"]["identifier"]["value"] == unit
        for group in report["group"]:
            item = expected[(code, OUTCOMES[group["code"]["coding"][0]["code"]])]
            counts = {}
            for population in group["population"]:
                exact = population.get("extension", [{}])[0].get("valueDecimal", population.get("count"))
                counts[population["code"]["coding"][0]["code"]] = exact
            if item["is_rate"]:
                assert counts == {"numerator": item["numerator"], "denominator": item["denominator"]}
                score = item["rate"]
            else:
                assert counts == {"initial-population": item["numerator"]}
                score = item["numerator"]
            assert group.get("measureScore", {}).get("value") == score
            compared += 1
    assert compared >= 2 * 14


def test_measure_reports_are_scoped_by_the_key(client):
    assert client.get("/v1/fhir/MeasureReport?level=team&id=T00002", headers=TEAM).status_code == 404
    assert client.get("/v1/fhir/MeasureReport?level=county", headers=TEAM).status_code == 404
    mine = client.get("/v1/fhir/MeasureReport?level=team", headers=TEAM).json()
    assert {e["resource"]["subject"]["identifier"]["value"] for e in mine["entry"]} == {"T00001"}


def test_each_indicator_is_one_measure_with_its_canonical_url(client):
    every = client.get("/v1/fhir/Measure", headers=ALL).json()
    urls = {e["resource"]["url"] for e in every["entry"]}
    assert urls == {f"https://riskmodel.org/fhir/Measure/{i.code.replace('_', '-')}" for i in INDICATORS}
    one = client.get("/v1/fhir/Measure/control-rate", headers=ALL).json()
    assert one["url"].endswith("/control-rate") and one["subtitle"] == "控制率"
    assert client.get("/v1/fhir/Measure/nothing", headers=ALL).status_code == 404
    tiers = client.get("/v1/fhir/CodeSystem/tier", headers=ALL).json()
    assert [c["code"] for c in tiers["concept"]] == ["healthy", "high_risk", "chronic"]
    assert client.get("/v1/fhir/CodeSystem/nothing", headers=ALL).status_code == 404


def test_openapi_documents_the_fhir_routes_and_their_errors(client):
    paths = client.get("/openapi.json").json()["paths"]
    post = paths["/v1/fhir/assessments"]["post"]
    assert {"application/fhir+json", "application/json"} <= set(post["requestBody"]["content"])
    for status in ("401", "404", "413", "415", "422", "503"):
        assert "content" in post["responses"][status], status
    assert "application/fhir+json" in post["responses"]["422"]["content"]
    for path in ("/v1/fhir/MeasureReport", "/v1/fhir/Measure", "/v1/fhir/Measure/{measure_id}",
                 "/v1/fhir/CodeSystem/{code_system_id}"):  # fmt: skip
        assert {"401", "404", "422"} <= set(paths[path]["get"]["responses"]), path


# --------------------------------------------------------------------- the request path and the file import


def _observation_of(code: str, value: float, unit: str, ident: str, when: str = "2026-06-01") -> dict[str, Any]:
    return {**_observation(code, value, unit, ident), "effectiveDateTime": when}


def _extension(name: str, **value: Any) -> dict[str, Any]:
    return {"url": f"https://riskmodel.org/fhir/StructureDefinition/{name}", **value}


_FOLLOWUP = {"resourceType": "Encounter", "id": "e1", "status": "finished",
             "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
             "subject": {"reference": "Patient/p1"}, "period": {"start": "2026-05-01"},
             "reasonCode": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "I10"}]}]}  # fmt: skip
EDGE_BUNDLES = {
    # refused by the mapping
    "unknown code": [PATIENT, _observation("99999-9", 7.0, "mmol/L")],
    "bad unit": [PATIENT, _observation("14771-0", 7.0, "mg")],
    "out of range": [PATIENT, _observation("1558-6", 900.0, "mg/dL")],
    "invalid resource": [PATIENT, {**_observation("14771-0", 6.0, "mmol/L"), "subject": "Patient/p1"}],
    "no team": [{**PATIENT, "generalPractitioner": []}],
    # refused by the SPEC 2 validators
    "too young": [{**PATIENT, "birthDate": "2015-01-01"}, _observation("14771-0", 6.0, "mmol/L")],
    "after the as-of date": [PATIENT, _observation_of("14771-0", 6.0, "mmol/L", "o1", "2026-08-01")],
    "not a boolean": [{**PATIENT, "extension": [_extension("physically_active", valueString="on")]}],
    "next follow-up before the visit": [
        PATIENT, {**_FOLLOWUP, "extension": [_extension("next_followup_date", valueDate="2026-04-01")]}],
    "a repeated patient": [PATIENT, PATIENT],
    # accepted, though not in the form the mapping writes (the validators read them)
    "yes as a boolean": [{**PATIENT, "extension": [_extension("physically_active", valueString="yes")]}],
    "a whole number as text": [{**PATIENT, "extension": [_extension("uncontrolled_visits", valueString="2")]}],
    "a follow-up with its readings": [
        PATIENT, _FOLLOWUP, {**_observation_of("8480-6", 150.0, "mm[Hg]", "s1", "2026-05-01"),
                             "encounter": {"reference": "Encounter/e1"}},
        {**_observation_of("8462-4", 95.0, "mm[Hg]", "d1", "2026-05-01"), "encounter": {"reference": "Encounter/e1"}}],
    # a standalone systolic and diastolic (SPEC 14.2): a pair at one time is one reading, a half alone is refused
    "a standalone pair": [PATIENT, _observation_of("8480-6", 150.0, "mm[Hg]", "s1"),
                          _observation_of("8462-4", 95.0, "mm[Hg]", "d1")],
    "a systolic alone": [PATIENT, _observation_of("8480-6", 150.0, "mm[Hg]", "s1")],
    "halves on two days": [PATIENT, _observation_of("8480-6", 150.0, "mm[Hg]", "s1", "2026-05-01"),
                           _observation_of("8462-4", 95.0, "mm[Hg]", "d1")],
    "another Patient's diastolic": [PATIENT, {**PATIENT, "id": "p2"}, _observation_of("8480-6", 150.0, "mm[Hg]", "s1"),
                                    {**_observation_of("8462-4", 95.0, "mm[Hg]", "d1"),
                                     "subject": {"reference": "Patient/p2"}}],
}  # fmt: skip


def _issues(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(r.get("resource_type"), r.get("resource_id"), r["path"], r["reason"]) for r in rows]


def _file_import(tmp_path: Path, document: dict[str, Any]):  # type: ignore[no-untyped-def]
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    imported = read_fhir([path], as_of=AS_OF)
    # the validators move a rejected resident's resources from used to rejected: compare the mapping's counts
    validated = dataclasses.replace(imported, counts=copy.deepcopy(imported.counts))
    return imported, *checked_import(validated, as_of=AS_OF)


def _same_mapping(imported, mapped) -> None:  # type: ignore[no-untyped-def]
    request = as_import(mapped)
    for mine, theirs in ((request.residents, imported.residents), (request.events, imported.events)):
        pd.testing.assert_frame_equal(
            mine.drop(columns="_source", errors="ignore"), theirs.drop(columns="_source", errors="ignore")
        )
    assert request.observations == imported.observations and request.counts == imported.counts


def _same_records(residents: pd.DataFrame, events, checked) -> None:  # type: ignore[no-untyped-def]
    theirs, mine = resident_columns(residents), columns_from_values(checked.residents)
    assert theirs.keys() == mine.keys()
    for name in theirs:
        np.testing.assert_array_equal(mine[name], theirs[name], err_msg=name)
    assert [r["resident_id"] for r in checked.residents] == residents["resident_id"].tolist()
    by_resident = [("resident_id", "ascending")]  # nested in their records: each resident's in their order
    assert events_table(checked.events).sort_by(by_resident).equals(events.sort_by(by_resident))


@pytest.mark.parametrize("case", sorted(EDGE_BUNDLES))
def test_the_request_path_gives_what_the_file_import_gives(tmp_path, model, case):
    """Residents, events and rejected resources alike (type, id, path and reason), for good and bad Bundles."""
    document = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in EDGE_BUNDLES[case]]}
    imported, residents, events, rejected = _file_import(tmp_path, document)
    mapped = map_bundle(document, as_of=AS_OF)
    _same_mapping(imported, mapped)
    caller = Caller("test", frozenset({"*"}), "test")
    try:
        answer = assess_bundle(document, model, caller, as_of=AS_OF, lang="en")
    except Rejected as refused:
        # the file's rejected rows show a range check's value; an API answer never does (SPEC 8)
        assert _issues(refused.issues) == _issues([without_values(r) for r in rejected.to_dict("records")]) != []
        return
    assert rejected.empty and {e["resource"]["resourceType"] for e in answer["entry"]} >= {"RiskAssessment"}
    _, checked = read_bundle(document, as_of=AS_OF)
    if checked is not None:  # typed at the boundary: the very records the validators make of the file
        _same_records(residents, events, checked)


def test_synthetic_histories_are_typed_at_the_boundary_as_the_validators_type_them(tmp_path, histories):
    residents, events = histories
    for start in range(0, len(residents), 10):
        chunk = residents.iloc[start : start + 10]
        document = _bundle(chunk, events[events["resident_id"].isin(chunk["resident_id"])])
        imported, valid, valid_events, rejected = _file_import(tmp_path, document)
        assert rejected.empty
        mapped, checked = read_bundle(document, as_of=AS_OF)
        _same_mapping(imported, mapped)
        assert checked is not None  # the boundary types every synthetic record (no detour through the validators)
        _same_records(valid, valid_events, checked)


def test_a_resource_linked_to_another_patients_encounter_is_a_422(client):
    """SPEC 2.2: p2's result referencing p1's follow-up never joins p1's event; the request path rejects it at the
    link, as the file import does."""
    from tests.factories import fhir_resources_of

    p2 = {**PATIENT, "id": "p2"}
    hostile = {**_observation("29463-7", 99.0, "kg", ident="p2-at-p1"), "subject": {"reference": "Patient/p2"},
               "encounter": {"reference": "Encounter/p1-visit"}}  # fmt: skip
    answer = _post(client, PATIENT, *fhir_resources_of("p1"), p2, hostile)
    assert answer.status_code == 422, answer.text
    [issue] = answer.json()["issue"]
    assert issue["diagnostics"] == "Observation/p2-at-p1" and issue["expression"] == ["Observation.encounter"]
    assert "another Patient" in issue["details"]["text"]


# ------------------------------------------------------------- a standalone systolic and diastolic (SPEC 14.2)


def _bp_days(standalone: bool) -> list[dict[str, Any]]:
    """Readings >= 140/90 on three days within a fortnight (SPEC 3 confirms hypertension so), as panels or as
    standalone 8480-6 / 8462-4 pairs taken at the same time."""
    resources: list[dict[str, Any]] = []
    for k, day in enumerate(("2026-06-01", "2026-06-05", "2026-06-09")):
        when = f"{day}T09:00:00+08:00"
        if standalone:
            resources += [{**_observation_of(code, value, "mm[Hg]", f"{half}{k}"), "effectiveDateTime": when}
                          for code, value, half in (("8480-6", 152.0, "s"), ("8462-4", 96.0, "d"))]  # fmt: skip
            continue
        panel = {**_observation_of("85354-9", 0.0, "mm[Hg]", f"bp{k}"), "effectiveDateTime": when}
        del panel["valueQuantity"]
        panel["component"] = [{"code": {"coding": [{"system": "http://loinc.org", "code": code}]},
                               "valueQuantity": {"value": value, "unit": "mm[Hg]", "system": UCUM, "code": "mm[Hg]"}}
                              for code, value in (("8480-6", 152.0), ("8462-4", 96.0))]  # fmt: skip
        resources.append(panel)
    return resources


def _hypertension(answer) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    assert answer.status_code == 200, answer.text
    return _by_patient(answer.json())["p1"]["assessments"]["hypertension"]


def test_three_days_of_standalone_pairs_are_assessed_as_three_bp_panels(client):
    pairs = _hypertension(_post(client, PATIENT, *_bp_days(standalone=True)))
    panels = _hypertension(_post(client, PATIENT, *_bp_days(standalone=False)))
    assert pairs["prediction"] == panels["prediction"] and pairs.get("note") == panels.get("note")
    assert pairs["prediction"][0]["qualitativeRisk"]["coding"][0]["code"] == "chronic"  # confirmed (SPEC 3)
    assert {b["reference"] for b in pairs["basis"]} >= {"Observation/s2", "Observation/d2"}


def test_a_standalone_half_without_its_partner_is_a_422(client):
    answer = _post(client, PATIENT, *_bp_days(standalone=True)[:-1])
    assert answer.status_code == 422, answer.text
    [issue] = answer.json()["issue"]
    assert issue["diagnostics"] == "Observation/s2" and issue["expression"] == ["Observation.code"]
    assert issue["details"]["text"] == "a systolic (8480-6) without a diastolic (8462-4) taken at the same time"
