"""Hostile Bundles against ``POST /v1/fhir/assessments`` (SPEC 8, 14.3, 16): whatever arrives, the answer is a
Bundle (200), an OperationOutcome naming the problem (422; 413 for a body over the limit, 415 for another
content type), never a 500, and never a resident's value in the answer or the logs. Where the same content as
records is accepted by ``POST /v1/assessments``, the FHIR answer agrees with it. The shape cache of
:mod:`riskmodel.interchange.fhir_validation` never lets through what a fresh ``fhir.resources`` check refuses."""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskmodel.interchange import read_fhir
from riskmodel.interchange.fhir_in import map_bundle
from riskmodel.interchange.fhir_validation import fhir_problem, model_problem
from tests.factories import fhir_resources_of
from tests.serving.conftest import ALL_KEY

FHIR = {"X-API-Key": ALL_KEY, "Content-Type": "application/fhir+json"}
AS_OF = dt.date(2026, 7, 1)
UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
EXT = "https://riskmodel.org/fhir/StructureDefinition/"
ANSWERS = {200, 413, 415, 422}
SENTINEL = 173.25
"""A resident's value planted in hostile input: it must not come back in an error or a log line."""

PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1960-03-01",
           "generalPractitioner": [{"reference": "CareTeam/T00001"}]}  # fmt: skip


def _obs(code: str, value: Any, unit: str = "mmol/L", ident: str = "o1", **more: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": ident, "status": "final",
            "code": {"coding": [{"system": LOINC, "code": code}]},
            "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2026-06-01",
            "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit}, **more}  # fmt: skip


def _bp(ident: str = "bp1", *codes: str) -> dict[str, Any]:
    parts = [("8480-6", 150.0), ("8462-4", 95.0)]
    return {"resourceType": "Observation", "id": ident, "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "85354-9"}]},
            "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2026-06-01",
            "component": [{"code": {"coding": [{"system": LOINC, "code": c}]},
                           "valueQuantity": {"value": v, "unit": "mm[Hg]", "system": UCUM, "code": "mm[Hg]"}}
                          for c, v in parts if not codes or c in codes]}  # fmt: skip


_CONDITION = {"resourceType": "Condition", "id": "c1",
              "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                             "code": "active"}]},
              "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "E11"}]},
              "subject": {"reference": "Patient/p1"}, "onsetDateTime": "2020-01-01"}  # fmt: skip
_FOLLOWUP = {"resourceType": "Encounter", "id": "e1", "status": "finished",
             "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
             "subject": {"reference": "Patient/p1"}, "period": {"start": "2026-05-01"},
             "reasonCode": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "I10"}]}]}  # fmt: skip
VALID = [PATIENT, _obs("14771-0", 6.1), _bp(), _CONDITION, _FOLLOWUP]


def _document(*resources: Any) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def _post(client, body: bytes, headers: dict[str, str] = FHIR, query: str = f"as_of={AS_OF}"):  # type: ignore[no-untyped-def]
    return client.post(f"/v1/fhir/assessments?{query}", content=body, headers=headers)


def _held(answer) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The answer is one the route documents, never a 500; a 422 names each problem (path, reason)."""
    assert answer.status_code in ANSWERS, (answer.status_code, answer.text[:500])
    content = answer.json()
    if answer.status_code == 422:
        assert content["resourceType"] == "OperationOutcome", content
        assert content["issue"]
        for issue in content["issue"]:
            assert issue["details"]["text"].strip(), issue
            assert issue.get("expression") or issue.get("diagnostics"), issue
    elif answer.status_code == 200:
        assert content["resourceType"] == "Bundle"
    return content  # type: ignore[no-any-return]


def _with(resource: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(resource)
    held = out
    for key in path[:-1]:
        held = held[key]
    held[path[-1]] = value
    return out


def _deep(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"a": [value]}
    return value


_TZ_OBS = _obs("14771-0", 6.1, effectiveDateTime="2026-06-01T23:30:00+08:00")
HOSTILE: dict[str, list[Any]] = {
    # wrong JSON types where FHIR wants another
    "a number for the id": [_with(PATIENT, ("id",), 17)],
    "a number for the gender": [_with(PATIENT, ("gender",), 1)],
    "a list for the subject": [PATIENT, _with(_obs("14771-0", 6.1), ("subject",), [{"reference": "Patient/p1"}])],
    "an object for the status": [PATIENT, _with(_obs("14771-0", 6.1), ("status",), {"x": "final"})],
    "null for the code": [PATIENT, _with(_obs("14771-0", 6.1), ("code",), None)],
    "null in a list": [_with(PATIENT, ("generalPractitioner",), [None])],
    "a boolean for the birth date": [_with(PATIENT, ("birthDate",), True)],
    "a list for the Patient": [[PATIENT]],
    "a string for the resource": ["Patient/p1"],
    "a huge string id": [_with(PATIENT, ("id",), "p" * 200_000)],
    "a huge string in the display": [PATIENT, _with(_obs("14771-0", 6.1), ("code", "text"), "x" * 300_000)],
    "deep nesting in an extension": [_with(PATIENT, ("extension",), [{"url": EXT + "x", "valueString": _deep(200)}])],
    "deep nesting in an unknown element": [_with(PATIENT, ("zz",), _deep(300))],
    "a decimal as a string": [PATIENT, _obs("14771-0", "6.1")],
    "a decimal as a boolean": [PATIENT, _obs("14771-0", True)],
    "a huge integer": [PATIENT, _obs("14771-0", 10**400)],
    # the Bundle itself
    "entry items that are not objects": [1, None, "x", [], PATIENT],
    # references
    "an Observation of nobody": [PATIENT, _with(_obs("14771-0", 6.1), ("subject",), {"reference": "Patient/zz"})],
    "a height of nobody": [PATIENT, _with(_obs("8302-2", 170.0, "cm"), ("subject",), {"reference": "Patient/zz"})],
    "a smoking status of nobody": [PATIENT, {**_with(_obs("72166-2", 1), ("subject",), {"reference": "Patient/zz"}),
                                             "valueCodeableConcept": {"coding": [{"system": "http://loinc.org",
                                                                                  "code": "LA18976-3"}]}}],
    "an Observation of a Group": [PATIENT, _with(_obs("14771-0", 6.1), ("subject",), {"reference": "Group/p1"})],
    "an Observation without a subject": [PATIENT, {k: v for k, v in _obs("14771-0", 6.1).items() if k != "subject"}],
    "a follow-up of nobody": [PATIENT, _with(_FOLLOWUP, ("subject",), {"reference": "Patient/zz"})],
    "a diagnosis of nobody": [PATIENT, _with(_CONDITION, ("subject",), {"reference": "Patient/zz"})],
    # units
    "a unit in lower case": [PATIENT, _obs("14771-0", 6.1, "mmol/l")],
    "a unit in upper case": [PATIENT, _obs("1558-6", 110.0, "MG/DL")],
    "a unit with spaces": [PATIENT, _obs("14771-0", 6.1, " mmol/L ")],
    "a unit only as text": [PATIENT, _with(_obs("14771-0", 6.1), ("valueQuantity",), {"value": 6.1, "unit": "mmol/L"})],
    "a quantity without a value": [PATIENT, _with(_obs("14771-0", 6.1), ("valueQuantity",),
                                                  {"unit": "mmol/L", "system": UCUM, "code": "mmol/L"})],
    "a quantity with a null value": [PATIENT, _obs("14771-0", None)],
    "an empty quantity": [PATIENT, _with(_obs("14771-0", 6.1), ("valueQuantity",), {})],
    # BP panels
    "a BP panel without its diastolic": [PATIENT, _bp("bp1", "8480-6")],
    "a BP panel without its systolic": [PATIENT, _bp("bp1", "8462-4")],
    "a BP panel without components": [PATIENT, _bp("bp1", "none")],
    "a BP panel with a component without a value": [PATIENT, _with(_bp(), ("component", 1, "valueQuantity"),
                                                                   {"unit": "mm[Hg]", "code": "mm[Hg]"})],
    "a BP panel with diastolic over systolic": [PATIENT, _with(_bp(), ("component", 1, "valueQuantity", "value"),
                                                               160.0)],
    # dates
    "born 0001-01-01": [_with(PATIENT, ("birthDate",), "0001-01-01")],
    "born 9999-12-31": [_with(PATIENT, ("birthDate",), "9999-12-31")],
    "born on 2023-02-29": [_with(PATIENT, ("birthDate",), "2023-02-29")],
    "born in a month only": [_with(PATIENT, ("birthDate",), "1960-03")],
    "a result on 0001-01-01": [PATIENT, _obs("14771-0", 6.1, effectiveDateTime="0001-01-01")],
    "a result on 9999-12-31": [PATIENT, _obs("14771-0", 6.1, effectiveDateTime="9999-12-31")],
    "a result on an invalid date": [PATIENT, _obs("14771-0", 6.1, effectiveDateTime="2026-02-30")],
    "a result with a time zone": [PATIENT, _TZ_OBS],
    "a result with a time zone after midnight UTC": [
        PATIENT, _obs("14771-0", 6.1, effectiveDateTime="2026-07-01T23:59:59-12:00")],
    "a result at the end of 9999 with a zone": [
        PATIENT, _obs("14771-0", 6.1, effectiveDateTime="9999-12-31T23:59:59+14:00")],
    "a result after the as-of date": [PATIENT, _obs("14771-0", 6.1, effectiveDateTime="2026-07-02")],
    "a follow-up after the as-of date": [PATIENT, _with(_FOLLOWUP, ("period", "start"), "2027-01-01")],
    "a follow-up on 9999-12-31": [PATIENT, _with(_FOLLOWUP, ("period", "start"), "9999-12-31")],
    "a follow-up on 0001-01-01": [PATIENT, _with(_FOLLOWUP, ("period", "start"), "0001-01-01")],
    "a diagnosis on 9999-12-31": [PATIENT, _with(_CONDITION, ("onsetDateTime",), "9999-12-31")],
    "a diagnosis on 0001-01-01": [PATIENT, _with(_CONDITION, ("onsetDateTime",), "0001-01-01")],
    "a referral on 9999-12-31": [PATIENT, {"resourceType": "ServiceRequest", "id": "r1", "status": "completed",
                                           "intent": "order", "subject": {"reference": "Patient/p1"},
                                           "reasonCode": _FOLLOWUP["reasonCode"], "authoredOn": "2026-01-01",
                                           "occurrenceDateTime": "9999-12-31"}],
    # the same patient or resource twice
    "a repeated Patient id": [PATIENT, _with(PATIENT, ("gender",), "male")],
    "the same Patient twice": [PATIENT, PATIENT, _obs("14771-0", 6.1)],
    "the same Observation twice": [PATIENT, _obs("14771-0", 6.1), _obs("14771-0", 6.1)],
    "the same follow-up twice": [PATIENT, _FOLLOWUP, _FOLLOWUP],
    "the same Condition twice": [PATIENT, _CONDITION, _CONDITION],
    "two Observations of one id with other values": [PATIENT, _obs("14771-0", 6.1), _obs("14771-0", 9.0)],
    "two Observations of one id with other codes": [PATIENT, _obs("14771-0", 6.1), _obs("4548-4", 6.5, "%")],
    # extensions
    **{
        f"extension {name} as {key}={value!r}": [_with(PATIENT, ("extension",), [{"url": EXT + name, key: value}])]
        for name in ("physically_active", "uncontrolled_visits", "family_history_diabetes", "pregnant")
        for key, value in (("valueBoolean", "yes"), ("valueInteger", 1.5), ("valueInteger", "2"),
                           ("valueString", 3), ("valueDate", True), ("valueCode", " x "),
                           ("valueString", "  "), ("valueInteger", 10**30), ("valueDecimal", 2.5))
    },  # fmt: skip
    "an extension without a url": [_with(PATIENT, ("extension",), [{"valueBoolean": True}])],
    "an extension with two values": [_with(PATIENT, ("extension",), [{"url": EXT + "pregnant", "valueBoolean": True,
                                                                      "valueString": "true"}])],
    "an event extension with a wrong type": [PATIENT, _with(_FOLLOWUP, ("extension",),
                                                            [{"url": EXT + "next_followup_date", "valueDate": 5}])],
    "an event extension far away": [PATIENT, _with(_FOLLOWUP, ("extension",),
                                                   [{"url": EXT + "next_followup_date", "valueDate": "9999-12-31"}])],
    "a grid extension with a number": [_with(PATIENT, ("extension",),
                                             [{"url": EXT + "grid", "valueString": 12}])],
    # identifiers the API refuses
    "a team id with a control character": [_with(PATIENT, ("generalPractitioner",),
                                                 [{"reference": "CareTeam/T\u000100001"}])],
    "a team id of 200 characters": [_with(PATIENT, ("generalPractitioner",), [{"reference": "CareTeam/" + "T" * 200}])],
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_bundle_is_answered_never_a_500(client, case):
    _held(_post(client, json.dumps(_document(*HOSTILE[case])).encode()))


RAW_BODIES = {
    "NaN": b'{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient", "id": "p1", '
    b'"gender": "female", "birthDate": "1960-03-01", "generalPractitioner": [{"reference": "CareTeam/T00001"}], '
    b'"extension": [{"url": "' + EXT.encode() + b'uncontrolled_visits", "valueInteger": NaN}]}}]}',
    "Infinity in a value": json.dumps(_document(PATIENT, _obs("14771-0", 6.1))).replace("6.1", "Infinity").encode(),
    "-Infinity in a value": json.dumps(_document(PATIENT, _obs("14771-0", 6.1))).replace("6.1", "-Infinity").encode(),
    "NaN in a value": json.dumps(_document(PATIENT, _obs("14771-0", 6.1))).replace("6.1", "NaN").encode(),
    "a byte-order mark": b"\xef\xbb\xbf" + json.dumps(_document(PATIENT)).encode(),
    "latin-1": json.dumps(_document(_with(PATIENT, ("id",), "p\u00e9"))).encode("latin-1").replace(b"\\u00e9", b"\xe9"),
    "a lone surrogate escape": json.dumps(_document(_with(PATIENT, ("id",), "p\ud800"))).encode(),
    "UTF-16": json.dumps(_document(PATIENT)).encode("utf-16"),
    "invalid UTF-8": b'{"resourceType": "Bundle", "entry": [\xff\xfe]}',
    "empty": b"",
    "null": b"null",
    "a list": json.dumps([_document(PATIENT)]).encode(),
    "a number": b"1e999",
    "a Patient, not a Bundle": json.dumps(PATIENT).encode(),
    "a Bundle in lower case": json.dumps({**_document(PATIENT), "resourceType": "bundle"}).encode(),
    "entry an object": json.dumps({"resourceType": "Bundle", "entry": {"resource": PATIENT}}).encode(),
    "entry a string": json.dumps({"resourceType": "Bundle", "entry": "Patient"}).encode(),
    "entry null": json.dumps({"resourceType": "Bundle", "entry": None}).encode(),
    "resource a list": json.dumps({"resourceType": "Bundle", "entry": [{"resource": [PATIENT]}]}).encode(),
    "deep nesting": b'{"resourceType": "Bundle", "entry": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}",
    "deep objects": b'{"resourceType": "Bundle", "x": ' + b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b"}",
    "a duplicate key": b'{"resourceType": "Bundle", "resourceType": "Bundle", "entry": []}',
    "over the body limit": json.dumps(_document(_with(PATIENT, ("id",), "p" * 500_000))).encode(),
}


@pytest.mark.parametrize("case", sorted(RAW_BODIES))
def test_a_hostile_body_is_answered_never_a_500(client, case):
    answer = _post(client, RAW_BODIES[case])
    _held(answer)
    if case.startswith(("NaN", "Infinity", "-Infinity")):  # not JSON (RFC 8259), as the NDJSON import says
        assert answer.status_code == 422 and answer.json()["issue"][0]["expression"] == ["body"], answer.text


FIXED = {
    # (the Bundle's resources or its raw body, the expression the 422 names)
    "a JSON integer past a float's range (was a 500)": ([PATIENT, _obs("14771-0", 10**400)],
                                                        "Observation.valueQuantity.value"),
    "NaN (was taken as a value)": (RAW_BODIES["NaN in a value"], "body"),
    "deep nesting (was a 500)": (RAW_BODIES["deep nesting"], "body"),
    "a lone surrogate (was a 500)": (RAW_BODIES["a lone surrogate escape"], "body"),
    "two Observations of one id on one day (were averaged)": (HOSTILE["two Observations of one id with other values"],
                                                               "Observation.id"),
    "the same Observation twice (was merged)": (HOSTILE["the same Observation twice"], "Observation.id"),
    "two Observations of one id, other codes (were one event)": (HOSTILE["two Observations of one id with other codes"],
                                                                  "Observation.id"),
    "a height of nobody (was dropped)": (HOSTILE["a height of nobody"], "Observation.subject"),
    "our extension with a blank string (was no value)": (HOSTILE["extension pregnant as valueString='  '"],
                                                          "Patient.extension[0]"),
    "our extension as valueDecimal (was ignored)": (HOSTILE["extension uncontrolled_visits as valueDecimal=2.5"],
                                                    "Patient.extension[0].valueDecimal"),
    "a BP panel without its diastolic (was accepted as half a BP)": (HOSTILE["a BP panel without its diastolic"],
                                                                     "Observation.component"),
    "a BP panel without its systolic (was accepted as half a BP)": (HOSTILE["a BP panel without its systolic"],
                                                                    "Observation.component"),
    "a BP panel without components (was accepted as nothing)": (HOSTILE["a BP panel without components"],
                                                                "Observation.component"),
    "UTF-16 (was read as JSON, RFC 8259 says UTF-8)": (RAW_BODIES["UTF-16"], "body"),
    "an event extension as valueQuantity (was ignored)": (
        [PATIENT, _with(_FOLLOWUP, ("extension",), [{"url": EXT + "next_followup_date",
                                                     "valueQuantity": {"value": 1}}])],
        "Encounter.extension[0].valueQuantity"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(FIXED))
def test_what_broke_is_a_422_naming_the_problem(client, case):
    content, expression = FIXED[case]
    body = content if isinstance(content, bytes) else json.dumps(_document(*content)).encode()
    answer = _post(client, body)
    assert answer.status_code == 422, answer.text[:500]
    assert expression in [e for issue in _held(answer)["issue"] for e in issue.get("expression", [])], answer.text


@pytest.mark.parametrize("index", range(len(fhir_resources_of("zz"))))
def test_a_resource_of_no_patient_of_the_bundle_is_a_422_at_its_subject(client, index):
    """Each type and form the mapping reads, of a Patient the Bundle does not hold (SPEC 14.2): a rejected resource
    (a medicine and an undated diagnosis were dropped without a word); with its Patient there, each is used."""
    resource = fhir_resources_of("zz")[index]
    answer = _post(client, json.dumps(_document(PATIENT, resource)).encode())
    assert answer.status_code == 422, answer.text[:500]
    [issue] = _held(answer)["issue"]
    assert issue["expression"] == [f"{resource['resourceType']}.subject"], issue
    if index == 0:
        everything = _post(client, json.dumps(_document(PATIENT, *fhir_resources_of("p1"))).encode())
        assert everything.status_code == 200, everything.text[:500]


@pytest.mark.parametrize(("lower", "upper", "code", "value"),
                         [("mmol/l", "mmol/L", "14771-0", 7.2), ("mg/dl", "mg/dL", "1558-6", 130.0)])  # fmt: skip
def test_ucums_lower_case_litre_is_the_litre(client, lower, upper, code, value):
    """UCUM is case-sensitive but has two codes of the litre, ``l`` and ``L``: the same answer either way."""
    answers = [
        _post(client, json.dumps(_document(PATIENT, _obs(code, value, unit))).encode()) for unit in (lower, upper)
    ]
    assert [a.status_code for a in answers] == [200, 200], answers[0].text[:500]
    assert _tiers_of_bundle(answers[0].json()) == _tiers_of_bundle(answers[1].json())


@pytest.mark.parametrize(("code", "unit"), [("1558-6", "MG/DL"), ("14771-0", "mmol/mol"), ("14771-0", "mmol/dl")])
def test_a_unit_that_is_no_accepted_ucum_code_is_a_422(client, code, unit):
    answer = _post(client, json.dumps(_document(PATIENT, _obs(code, 7.2, unit))).encode())
    assert answer.status_code == 422
    assert _held(answer)["issue"][0]["expression"] == ["Observation.valueQuantity.code"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"])
def test_a_body_not_in_utf8_is_a_422_in_one_line_without_values(client, encoding, caplog):
    """JSON exchanged between systems is UTF-8 (RFC 8259 section 8.1): UTF-16 and UTF-32, which Python's JSON
    reader would take, are refused with one line naming the encoding, and no resident's value."""
    body = json.dumps(_document(PATIENT, _obs("14771-0", SENTINEL))).encode(encoding)
    with caplog.at_level(logging.DEBUG):
        answer = _post(client, body)
    assert answer.status_code == 422, answer.text[:500]
    [issue] = _held(answer)["issue"]
    reason = issue["details"]["text"]
    assert issue["expression"] == ["body"] and "\n" not in reason, issue
    assert reason.startswith(f"{encoding[:6].upper()} text, not UTF-8") and "send the body as UTF-8" in reason
    assert str(SENTINEL) not in answer.text and str(SENTINEL) not in caplog.text


def test_a_utf8_body_with_a_byte_order_mark_is_read_as_without(client):
    """RFC 8259 section 8.1 lets a parser ignore a byte-order mark: the answer is the one without it."""
    body = json.dumps(_document(*VALID)).encode()
    plain, marked = _post(client, body), _post(client, b"\xef\xbb\xbf" + body)
    assert (plain.status_code, marked.status_code) == (200, 200), marked.text[:500]
    assert _tiers_of_bundle(marked.json()) == _tiers_of_bundle(plain.json())


def test_another_content_type_or_none_is_415(client):
    body = json.dumps(_document(PATIENT)).encode()
    for kind in ("text/plain", "application/xml", "", "application/fhir+xml", "multipart/form-data; boundary=x"):
        headers = {"X-API-Key": ALL_KEY, **({"Content-Type": kind} if kind else {})}
        answer = _post(client, body, headers=headers)
        assert answer.status_code == 415, (kind, answer.status_code)
        assert _held(answer)["resourceType"] == "OperationOutcome"


def test_65_and_more_patients_in_one_request(client):
    patients = [_with(PATIENT, ("id",), f"p{k}") for k in range(130)]
    results = [_with(_obs("14771-0", 6.1, ident=f"o{k}"), ("subject",), {"reference": f"Patient/p{k}"})
               for k in range(130)]  # fmt: skip
    for n in (64, 65, 130):
        answer = _post(client, json.dumps(_document(*patients[:n], *results[:n])).encode())
        assert answer.status_code == 200, answer.text[:500]
        assert sum(e["resource"]["resourceType"] == "RiskAssessment" for e in answer.json()["entry"]) == 2 * n
    bad = [*patients[:70], _with(PATIENT, ("id",), "p69")]  # a repeated id beyond the inline size
    _held(_post(client, json.dumps(_document(*bad)).encode()))


# ------------------------------------------------------------------------ agreement with POST /v1/assessments


def _records(document: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The Bundle's content as ``POST /v1/assessments`` records, or ``None`` where records cannot hold it: the
    mapping refuses a resource, or a result or event belongs to no Patient of the Bundle."""
    mapped = map_bundle(document, as_of=AS_OF)
    residents = {row["resident_id"] for row in mapped.residents}
    if mapped.rejected or any(r.resident_id not in residents for r in mapped.observations):
        return None
    if any(event["resident_id"] not in residents for event in mapped.events):
        return None
    events: dict[str, list[dict[str, Any]]] = {}
    for event in mapped.events:
        kept = {k: v for k, v in event.items() if v is not None and k != "resident_id"}
        events.setdefault(event["resident_id"], []).append(kept)
    return [
        {**{k: v for k, v in row.items() if v is not None and not k.startswith("_")},
         "events": events.get(row["resident_id"], [])}
        for row in mapped.residents
    ]  # fmt: skip


def _tiers_of_bundle(content: dict[str, Any]) -> dict[tuple[str, str], str]:
    out = {}
    for entry in content["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "RiskAssessment":
            disease = {"44054006": "diabetes", "38341003": "hypertension"}[
                resource["prediction"][0]["outcome"]["coding"][0]["code"]
            ]
            out[(resource["subject"]["reference"].removeprefix("Patient/"), disease)] = resource["prediction"][0][
                "qualitativeRisk"
            ]["coding"][0]["code"]
    return out


def _agrees(client, document: dict[str, Any], answer) -> None:  # type: ignore[no-untyped-def]
    """Where the mapping accepts every resource, the JSON route on the same records answers alike: both 200 with
    the same tiers, or both 422."""
    records = _records(document)
    if records is None:
        assert answer.status_code == 422
        return
    plain = client.post(f"/v1/assessments?as_of={AS_OF}", json={"records": records}, headers={"X-API-Key": ALL_KEY})
    assert plain.status_code in (200, 422), plain.text[:500]
    if plain.status_code == 200:
        assert answer.status_code == 200, (answer.text[:500], records)
        expected = {(a["resident_id"], d): a[d]["tier"] for a in plain.json()["assessments"]
                    for d in ("diabetes", "hypertension")}  # fmt: skip
        assert _tiers_of_bundle(answer.json()) == expected
    elif answer.status_code == 200:
        pytest.fail(f"FHIR accepted what the JSON route refuses: {plain.text[:500]}")


AGREEING = [
    "a result with a time zone",
    "a result with a time zone after midnight UTC",
    "a result after the as-of date",
    "a follow-up after the as-of date",
    "born 0001-01-01",
    "born 9999-12-31",
    "the same Observation twice",
    "the same follow-up twice",
    "the same Condition twice",
    "a repeated Patient id",
    "a BP panel with diastolic over systolic",
    "a diagnosis on 9999-12-31",
    "a referral on 9999-12-31",
    "an event extension far away",
    "extension uncontrolled_visits as valueInteger=1.5",
    "extension uncontrolled_visits as valueInteger='2'",
    "extension physically_active as valueBoolean='yes'",
    "extension physically_active as valueString=3",
    "extension physically_active as valueCode=' x '",
    "a team id with a control character",
    "a team id of 200 characters",
]


@pytest.mark.parametrize("case", AGREEING)
def test_the_fhir_answer_agrees_with_the_json_route(client, case):
    document = _document(*HOSTILE[case])
    answer = _post(client, json.dumps(document).encode())
    _held(answer)
    _agrees(client, document, answer)


def test_the_valid_bundle_agrees_with_the_json_route(client):
    document = _document(*VALID)
    answer = _post(client, json.dumps(document).encode())
    assert answer.status_code == 200, answer.text[:500]
    _agrees(client, document, answer)


# --------------------------------------------------------------------------------------- generated Bundles

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
_NEAR = st.sampled_from([
    "", " ", "final", "true", "yes", "2026-06-01", "2026-06-01T10:00:00+08:00", "2026-02-30", "0001-01-01",
    "9999-12-31", "mmol/L", "mmol/l", "mg/dL", "mm[Hg]", "Patient/p1", "Patient/zz", "CareTeam/T00001", "6.1",
    "1e400", "-0", "p1", "male", "AMB", "I10", "E11", "active",
])  # fmt: skip


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*path, key))
    elif isinstance(value, list):
        for k, item in enumerate(value):
            out += _paths(item, (*path, k))
    return out


_BASE = _document(*VALID)
_BASE_PATHS = _paths(_BASE)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=st.data())
def test_a_bundle_with_any_element_replaced_is_answered_never_a_500(client, data):
    document = copy.deepcopy(_BASE)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(document)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        value = data.draw(_JSON | _NEAR | st.floats() | st.integers(-(10**30), 10**30))
        _with_in_place(document, path, value)
    body = json.dumps(document, allow_nan=True).encode()
    answer = _post(client, body)
    _held(answer)
    if answer.status_code == 200 and "NaN" not in body.decode() and "Infinity" not in body.decode():
        _agrees(client, document, answer)


def _with_in_place(document: Any, path: tuple[Any, ...], value: Any) -> None:
    held = document
    for key in path[:-1]:
        held = held[key]
    held[path[-1]] = value


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(body=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_bytes_are_answered_never_a_500(client, body):
    _held(_post(client, body))


# ------------------------------------------------------------------------------------ no resident's values


def test_no_resident_value_comes_back_in_an_error_or_a_log(client, caplog):
    planted = [
        [PATIENT, _obs("14771-0", SENTINEL)],  # out of range
        [PATIENT, _obs("14771-0", str(SENTINEL))],  # a decimal as text
        [_with(PATIENT, ("extension",), [{"url": EXT + "uncontrolled_visits", "valueString": str(SENTINEL)}])],
        [_with(PATIENT, ("birthDate",), f"{int(SENTINEL)}-13-01")],
        [PATIENT, _with(_bp(), ("component", 1, "valueQuantity", "value"), SENTINEL)],
    ]
    with caplog.at_level(logging.DEBUG):
        for resources in planted:
            answer = _post(client, json.dumps(_document(*resources)).encode())
            assert answer.status_code == 422, answer.text[:500]
            assert str(SENTINEL) not in answer.text, answer.text
        raw = json.dumps(_document(PATIENT, _obs("14771-0", 6.1))).encode().replace(b"6.1", b"\xff173.25")
        answer = _post(client, raw)
        assert answer.status_code == 422 and "173" not in answer.text, answer.text
    assert str(SENTINEL) not in caplog.text


# ------------------------------------------------------------------------------- the shape cache of the check

_RESOURCES = {
    "Patient": {**PATIENT, "active": True, "multipleBirthInteger": 2,
                "telecom": [{"system": "phone", "value": "123"}], "address": [{"city": "x", "postalCode": "1"}],
                "extension": [{"url": EXT + "uncontrolled_visits", "valueInteger": 1}]},
    "Observation": {**_obs("14771-0", 6.1), "issued": "2026-06-01T10:00:00+08:00",
                    "meta": {"lastUpdated": "2026-06-01T10:00:00Z"},
                    "extension": [{"url": "https://x.org/d", "valueDecimal": 1.5}]},
    "BP panel": _bp(),
    "Observation with a decimal as text": _obs("14771-0", "6.1"),  # fhir.resources takes it: so must the cache
    "Condition": _CONDITION,
    "Encounter": {**_FOLLOWUP, "period": {"start": "2026-05-01", "end": "2026-05-01T10:00:00Z"}},
}  # fmt: skip
_WRONG_STRINGS = ["", " ", "a ", " a", "a  b", "a\tb", "a\nb", "\x00", "x" * 70, "2026-02-30", "2026-13-01",
                  "2026-06-01T10:00:00", "2026-06-01T24:00:00Z", "2026-06-01T10:00:00+25:00", "0000-01-01",
                  "1960-3-1", "2026/06/01", "p$1", "6.1", "1e400", "NaN", "true"]  # fmt: skip
_WRONG_NUMBERS = [0, -1, 2**31, 2**63, 10**30, 1.5, -0.0, 1e308]


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        return [x for k, v in value.items() if k != "resourceType" for x in _leaves(v, (*path, k))]
    if isinstance(value, list):
        return [x for k, v in enumerate(value) for x in _leaves(v, (*path, k))]
    return [(path, value)]


def _same_verdict(resource: dict[str, Any]) -> None:
    cached, fresh = fhir_problem(resource), model_problem(resource)
    assert (cached is None) == (fresh is None), (cached, fresh)
    assert cached == fresh


@pytest.mark.parametrize("name", sorted(_RESOURCES))
def test_a_valid_resource_lets_no_invalid_one_of_its_shape_through(name):
    valid = _RESOURCES[name]
    assert fhir_problem(valid) is None and fhir_problem(valid) is None  # the second from the cache
    checked = 0
    for path, value in _leaves(valid):
        pool = [not value] if isinstance(value, bool) else _WRONG_STRINGS if isinstance(value, str) else _WRONG_NUMBERS
        for wrong in pool:
            _same_verdict(_with(valid, path, wrong))
            checked += 1
    # the same element of another JSON type (a decimal as a string, a string as a number): another shape
    _same_verdict(_with(_RESOURCES["Observation"], ("valueQuantity", "value"), "6.1"))
    _same_verdict(_with(_RESOURCES["Observation"], ("status",), 1))
    assert checked > 50


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=st.data())
def test_the_cached_check_answers_as_a_fresh_model_check(data):
    name = data.draw(st.sampled_from(sorted(_RESOURCES)))
    valid = _RESOURCES[name]
    assert fhir_problem(valid) is None
    path, value = data.draw(st.sampled_from(_leaves(valid)))
    if isinstance(value, bool):
        wrong: Any = data.draw(st.booleans())
    elif isinstance(value, str):
        wrong = data.draw(st.text(max_size=30) | st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9:.+Z-]{0,20})?"))
    elif isinstance(value, int):
        wrong = data.draw(st.integers(-(2**70), 2**70))
    else:
        wrong = data.draw(st.floats())
    _same_verdict(_with(valid, path, wrong))


# ----------------------------------------------------------------- generated Bundles valid as FHIR, odd as records

_CODES = {"8480-6": "mm[Hg]", "8462-4": "mm[Hg]", "14771-0": "mmol/L", "1558-6": "mg/dL", "4548-4": "%",
          "29463-7": "kg", "8280-0": "cm", "8302-2": "cm", "39156-5": "kg/m2", "2093-3": "mg/dL"}  # fmt: skip
_DAYS = st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)) | st.dates(dt.date(2020, 1, 1), dt.date(2026, 7, 2))
_WHEN = st.tuples(_DAYS, st.sampled_from(["", "T00:00:00Z", "T23:59:59+14:00", "T10:30:00-12:00", "T12:00:00.5+08:00"]))
_EXT_VALUES = st.sampled_from(["valueBoolean", "valueInteger", "valueString", "valueCode", "valueDate"]).flatmap(
    lambda key: st.tuples(st.just(key), {"valueBoolean": st.booleans(), "valueInteger": st.integers(-3, 30),
                                         "valueString": _NEAR, "valueCode": st.sampled_from(["true", "2", "x", "yes"]),
                                         "valueDate": _DAYS.map(str)}[key])
)  # fmt: skip
_NAMES = st.sampled_from(["physically_active", "uncontrolled_visits", "pregnant", "dm_registered_date", "gdm_history"])


@st.composite
def _records_bundle(draw: st.DrawFn) -> dict[str, Any]:
    resources: list[dict[str, Any]] = []
    ids = draw(st.lists(st.sampled_from(["p1", "p2", "p3"]), min_size=1, max_size=3))
    for k, ident in enumerate(ids):
        patient = {**PATIENT, "id": ident, "gender": draw(st.sampled_from(["male", "female"])),
                   "birthDate": str(draw(st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31))
                                         | st.dates(dt.date(1920, 1, 1), dt.date(2008, 1, 1))))}  # fmt: skip
        if draw(st.booleans()):
            key, value = draw(_EXT_VALUES)
            patient["extension"] = [{"url": EXT + draw(_NAMES), key: value}]
        resources.append(patient)
        for j in range(draw(st.integers(0, 3))):
            code = draw(st.sampled_from(sorted(_CODES)))
            day, time = draw(_WHEN)
            value = draw(st.floats(0, 400, allow_nan=False) | st.integers(0, 300))
            subject = draw(st.sampled_from([ident, ident, "zz"]))
            resources.append(
                {
                    **_obs(code, value, _CODES[code], ident=f"o{k}-{j}"),
                    "subject": {"reference": f"Patient/{subject}"},
                    "effectiveDateTime": f"{day}{time}",
                }
            )
        if draw(st.booleans()):
            day, time = draw(_WHEN)
            encounter = {**_FOLLOWUP, "id": f"e{k}", "subject": {"reference": f"Patient/{ident}"},
                         "period": {"start": f"{day}{time}"}}  # fmt: skip
            if draw(st.booleans()):
                encounter["extension"] = [{"url": EXT + "next_followup_date", "valueDate": str(draw(_DAYS))}]
            resources.append(encounter)
        if draw(st.booleans()):
            day, time = draw(_WHEN)
            resources.append({**_CONDITION, "id": f"c{k}", "subject": {"reference": f"Patient/{ident}"},
                              "onsetDateTime": f"{day}{time}"})  # fmt: skip
    return _document(*draw(st.permutations(resources)))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(document=_records_bundle())
def test_a_generated_bundle_is_answered_as_the_json_route_answers_its_records(client, document):
    answer = _post(client, json.dumps(document).encode())
    _held(answer)
    _agrees(client, document, answer)


@pytest.mark.parametrize("entry", [5, 2.5, True, "Patient", {"resource": PATIENT}])
def test_a_bundle_file_whose_entry_is_not_a_list_is_a_rejected_row(tmp_path, entry):
    """The mapping the route shares with the file import: a traceback there (TypeError) before the fix."""
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entry}), encoding="utf-8")
    rejected = read_fhir([path], as_of=AS_OF).rejected
    assert rejected[["resource_type", "path", "reason"]].values.tolist() == [["Bundle", "Bundle.entry", "not a list"]]
    assert [r.path for r in map_bundle({"resourceType": "Bundle", "entry": entry}, as_of=AS_OF).rejected] == [
        "Bundle.entry"
    ]


def test_a_surrogate_pair_escape_is_a_character_not_an_error(client):
    """Only a lone surrogate is refused: an escaped pair (an emoji in free text) is read as the character it is."""
    text = json.dumps(_document(PATIENT, _with(_obs("14771-0", 6.1), ("code", "text"), "\U0001f600")))
    assert "\\ud83d\\ude00" in text
    answer = _post(client, text.encode())
    assert answer.status_code == 200, answer.text[:500]
