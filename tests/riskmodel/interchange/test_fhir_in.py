"""SPEC 14.2 mapping rows: each LOINC code and unit, statuses, conditions, medicines, encounter classes, referrals,
and rejected rows (type, id, path, reason) for an unknown code, a bad unit and an invalid resource."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskmodel.interchange import read_fhir

AS_OF = dt.date(2026, 7, 1)
PATIENT = {
    "resourceType": "Patient",
    "id": "p1",
    "gender": "female",
    "birthDate": "1970-07-01",
    "generalPractitioner": [{"reference": "CareTeam/T1"}],
}


def _obs(code: str, value: float, unit: str, ident: str = "o1", status: str = "final") -> dict:
    return {
        "resourceType": "Observation",
        "id": ident,
        "status": status,
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2026-06-01",
        "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit},
    }


def _read(tmp_path, *resources: dict, bundle: bool = False):
    if bundle:
        path = tmp_path / "b.json"
        path.write_text(
            json.dumps(
                {
                    "resourceType": "Bundle",
                    "type": "collection",
                    "entry": [{"resource": r} for r in (PATIENT, *resources)],
                }
            )
        )
    else:
        path = tmp_path / "all.ndjson"
        path.write_text("\n".join(json.dumps(r) for r in (PATIENT, *resources)) + "\n")
    return read_fhir([path], as_of=AS_OF)


@pytest.mark.parametrize(
    ("code", "value", "unit", "column", "expected"),
    [
        ("14771-0", 7.0, "mmol/L", "fpg_mmol_l", 7.0),
        ("1558-6", 126.0, "mg/dL", "fpg_mmol_l", round(126 / 18.016, 4)),
        ("1518-0", 200.0, "mg/dL", "ogtt_2h_mmol_l", round(200 / 18.016, 4)),
        ("14995-5", 11.1, "mmol/L", "ogtt_2h_mmol_l", 11.1),
        ("15074-8", 11.1, "mmol/L", "random_glucose_mmol_l", 11.1),
        ("2339-0", 200.0, "mg/dL", "random_glucose_mmol_l", round(200 / 18.016, 4)),
        ("4548-4", 6.5, "%", "hba1c_pct", 6.5),
        ("29463-7", 70.0, "kg", "weight_kg", 70.0),
        ("8280-0", 90.0, "cm", "waist_cm", 90.0),
        ("8480-6", 150.0, "mm[Hg]", "sbp_mmhg", 150.0),
    ],
)
def test_each_event_observation_code_and_unit(tmp_path, code, value, unit, column, expected):
    result = _read(tmp_path, _obs(code, value, unit))
    assert result.rejected.empty, result.rejected.to_dict("records")
    event = result.events.iloc[0]
    assert float(event[column]) == pytest.approx(expected) and event["event_date"] == "2026-06-01"


@pytest.mark.parametrize(
    ("code", "value", "unit", "column", "expected"),
    [
        ("8302-2", 160.0, "cm", "height_cm", 160.0),
        ("39156-5", 24.0, "kg/m2", "bmi_kg_m2", 24.0),
        ("2093-3", 200.0, "mg/dL", "tc_mmol_l", round(200 / 38.67, 4)),
        ("14647-2", 5.2, "mmol/L", "tc_mmol_l", 5.2),
        ("2571-8", 150.0, "mg/dL", "tg_mmol_l", round(150 / 88.57, 4)),
        ("14927-8", 1.7, "mmol/L", "tg_mmol_l", 1.7),
        ("2085-9", 40.0, "mg/dL", "hdl_mmol_l", round(40 / 38.67, 4)),
        ("14646-4", 1.0, "mmol/L", "hdl_mmol_l", 1.0),
        ("2089-1", 130.0, "mg/dL", "ldl_mmol_l", round(130 / 38.67, 4)),
        ("22748-8", 3.4, "mmol/L", "ldl_mmol_l", 3.4),
    ],
)
def test_each_row_observation_code_and_unit(tmp_path, code, value, unit, column, expected):
    result = _read(tmp_path, _obs(code, value, unit))
    assert result.rejected.empty
    assert float(result.residents.iloc[0][column]) == pytest.approx(expected)


def test_a_bp_panel_gives_one_event_with_both_readings(tmp_path):
    panel = {
        "resourceType": "Observation",
        "id": "bp",
        "status": "amended",
        "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2026-06-01T09:00:00+08:00",
        "component": [
            {
                "code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                "valueQuantity": {"value": 150, "code": "mm[Hg]"},
            },
            {
                "code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
                "valueQuantity": {"value": 95, "code": "mm[Hg]"},
            },
        ],
    }
    result = _read(tmp_path, panel)
    event = result.events.iloc[0]
    assert (float(event["sbp_mmhg"]), float(event["dbp_mmhg"]), event["event_date"]) == (150.0, 95.0, "2026-06-01")


@pytest.mark.parametrize("status", ["preliminary", "registered", "cancelled", "entered-in-error"])
def test_an_observation_not_final_is_skipped_and_counted(tmp_path, status):
    result = _read(tmp_path, _obs("14771-0", 7.0, "mmol/L", status=status))
    assert result.events.empty and result.rejected.empty
    assert result.counts["Observation"] == {"in": 1, "used": 0, "skipped": 1, "rejected": 0}


@pytest.mark.parametrize("bundle", [False, True])
def test_unknown_code_bad_unit_out_of_range_and_invalid_resource_are_rejected_rows(tmp_path, bundle):
    invalid = {**_obs("14771-0", 6.0, "mmol/L", ident="bad"), "subject": "Patient/p1"}  # a string, not a Reference
    result = _read(
        tmp_path,
        _obs("2160-0", 80.0, "umol/L", ident="unknown"),
        _obs("14771-0", 7.0, "g/L", ident="unit"),
        _obs("14771-0", 800.0, "mg/dL", ident="range"),  # 44.4 mmol/L > 40
        invalid,
        bundle=bundle,
    )
    rows = {r["resource_id"]: r for r in result.rejected.to_dict("records")}
    assert rows["unknown"]["path"] == "Observation.code" and "2160-0" in rows["unknown"]["reason"]
    assert rows["unit"]["path"].endswith("valueQuantity.code") and "g/L" in rows["unit"]["reason"]
    assert rows["range"]["path"].endswith("valueQuantity.value") and "out of range" in rows["range"]["reason"]
    assert rows["bad"]["resource_type"] == "Observation" and rows["bad"]["path"].startswith("Observation")
    counts = result.counts["Observation"]
    assert counts["in"] == counts["used"] + counts["skipped"] + counts["rejected"] == 4
    assert counts["rejected"] == 4


@pytest.mark.parametrize(
    ("system", "code", "flag"),
    [
        ("http://hl7.org/fhir/sid/icd-10", "I10", "diagnosed_hypertension"),
        ("http://hl7.org/fhir/sid/icd-10", "I15.0", "diagnosed_hypertension"),
        ("http://snomed.info/sct", "38341003", "diagnosed_hypertension"),
        ("http://hl7.org/fhir/sid/icd-10", "E11.9", "diagnosed_diabetes"),
        ("http://snomed.info/sct", "44054006", "diagnosed_diabetes"),
    ],
)
def test_conditions_become_diagnoses(tmp_path, system, code, flag):
    condition = {
        "resourceType": "Condition",
        "id": "c1",
        "subject": {"reference": "Patient/p1"},
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "code": {"coding": [{"system": system, "code": code}]},
        "onsetDateTime": "2025-01-02",
    }
    result = _read(tmp_path, condition)
    assert result.residents.iloc[0][flag] == "true"
    assert result.events.iloc[0][["kind", "event_date"]].tolist() == ["diagnosis", "2025-01-02"]


@pytest.mark.parametrize(
    ("atc", "flag"),
    [
        ("C02AC01", "on_antihypertensive"),
        ("C03AA03", "on_antihypertensive"),
        ("C07AB02", "on_antihypertensive"),
        ("C08CA01", "on_antihypertensive"),
        ("C09AA02", "on_antihypertensive"),
        ("A10BA02", "on_glucose_lowering"),
    ],
)
def test_active_medicines_by_atc(tmp_path, atc, flag):
    statement = {
        "resourceType": "MedicationStatement",
        "id": "m1",
        "status": "active",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"coding": [{"system": "http://www.whocc.no/atc", "code": atc}]},
    }
    assert _read(tmp_path, statement).residents.iloc[0][flag] == "true"


@pytest.mark.parametrize(("klass", "mode"), [("AMB", "clinic"), ("HH", "home"), ("VR", "phone")])
def test_encounter_classes_become_followup_modes(tmp_path, klass, mode):
    encounter = {
        "resourceType": "Encounter",
        "id": "e1",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": klass},
        "subject": {"reference": "Patient/p1"},
        "period": {"start": "2026-06-01"},
        "reasonCode": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "I10"}]}],
    }
    event = _read(tmp_path, encounter).events.iloc[0]
    assert event[["kind", "disease", "mode"]].tolist() == ["followup", "hypertension", mode]


@pytest.mark.parametrize(("status", "statuses"), [("active", ["sent"]), ("completed", ["sent", "returned"])])
def test_referrals(tmp_path, status, statuses):
    request = {
        "resourceType": "ServiceRequest",
        "id": "s1",
        "status": status,
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "authoredOn": "2026-05-01",
        "occurrencePeriod": {"start": "2026-05-01", "end": "2026-05-20"},
        "reasonCode": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "E11"}]}],
    }
    events = _read(tmp_path, request).events
    assert sorted(events["referral_status"]) == sorted(statuses)


def test_ndjson_with_a_byte_order_mark_and_blank_lines_keeps_its_line_numbers(tmp_path):
    path = tmp_path / "all.ndjson"
    lines = [json.dumps(PATIENT), "", json.dumps(_obs("2160-0", 80.0, "umol/L", ident="unknown"))]
    path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    result = read_fhir([path], as_of=AS_OF)
    assert len(result.residents) == 1
    assert result.rejected[["resource_id", "line"]].to_dict("records") == [{"resource_id": "unknown", "line": 3}]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_a_bundle_file_with_a_non_json_number_stops_with_one_line(tmp_path, literal):
    """NaN and Infinity are not JSON (RFC 8259): the NDJSON lines and the API refuse them, and so does a file."""
    from riskmodel.exceptions import InputFileError

    path = tmp_path / "bundle.json"
    observation = (
        '{"resourceType": "Observation", "id": "o1", "status": "final", "subject": {"reference": "Patient/p1"}, '
        '"code": {"coding": [{"system": "http://loinc.org", "code": "1558-6"}]}, "effectiveDateTime": "2026-06-01", '
        f'"valueQuantity": {{"value": {literal}, "unit": "mmol/L"}}}}'
    )
    path.write_text('{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": ' + observation + "}]}")
    with pytest.raises(InputFileError) as refused:
        read_fhir([path], as_of=dt.date(2026, 7, 1))
    message = str(refused.value)
    assert literal.lstrip("-") in message and "\n" not in message and "null" in message


# ------------------------------------------------- a bulk bucket's parser (orjson) reads as the standard library


def _same(a: object, b: object) -> bool:
    """Equal values of the same types, keys in the same order (``1`` is not ``1.0``, ``-0.0`` is not ``0.0``)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)  # type: ignore[index]
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))  # type: ignore[arg-type]
    if isinstance(a, float):
        return repr(a) == repr(b)
    return a == b


def _standard(line: str) -> object:
    def refuse(name: str) -> float:
        raise ValueError(name)

    try:
        return json.JSONDecoder(parse_constant=refuse).decode(line)
    except ValueError:
        return None


def _as_a_bucket_reads(line: str) -> object:
    import re

    from riskmodel.interchange.fhir_bulk import _LONG_NUMBER
    from riskmodel.interchange.fhir_in import decoded

    return decoded(line, plain=re.search(_LONG_NUMBER, line) is None)


ODD_LINES = [
    '{"a": 123456789012345678901234567890}',  # past 64 bits: orjson would give a float
    '{"a": 18446744073709551616}',
    '{"a": -9223372036854775809}',
    '{"a": 18446744073709551615, "b": -9223372036854775808}',
    '{"a": 1e400, "b": -1e400, "c": 1e-400, "d": -0, "e": -0.0, "f": 1E2}',
    '{"a": 0.1000000000000000055511151231257827, "b": 9007199254740993, "c": 2.4703282292062328e-324}',
    '{"a": NaN}',
    '{"a": Infinity}',
    '{"a": -Infinity}',
    '{"a": "\\ud800"}',  # a lone surrogate escape: orjson refuses, the standard library reads it
    '{"a": "\\ud83d\\ude00", "b": "\\u0000", "c": "\\/"}',
    '{"a": 1, "a": 2}',
    '{"a": "\t"}',
    '{"a": 1} x',
    '{"a": 1,}',
    ' \t{"a": 1}\r\n',
    '{"a": 1}\x0b',
    "\ufeff{}",
    "[1, 2]",
    '"text"',
    "null",
    "{'a': 1}",
    '{"a": 01}',
    '{"a": ' + "[" * 300 + "]" * 300 + "}",
]


@pytest.mark.parametrize("line", ODD_LINES)
def test_an_odd_line_reads_as_the_standard_library_reads_it(line):
    assert _same(_as_a_bucket_reads(line), _standard(line))


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(_JSON)
def test_any_json_reads_as_the_standard_library_reads_it(value):
    line = json.dumps(value, ensure_ascii=False)
    assert _same(_as_a_bucket_reads(line), _standard(line))
