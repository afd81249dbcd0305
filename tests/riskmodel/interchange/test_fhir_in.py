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


# ------------------------------------------------------------ a resource of a Patient the input does not hold


def _files(tmp_path, resources: list[dict], form: str) -> list:
    """The resources as a Bundle file, or as bulk NDJSON (a file per type, as FHIR Bulk Data export writes)."""
    if form == "bundle":
        path = tmp_path / "bundle.json"
        path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection",
                                    "entry": [{"resource": r} for r in resources]}))  # fmt: skip
        return [path]
    by_type: dict[str, list[dict]] = {}
    for resource in resources:
        by_type.setdefault(resource["resourceType"], []).append(resource)
    for kind, items in by_type.items():
        (tmp_path / f"{kind}.ndjson").write_text("".join(json.dumps(r) + "\n" for r in items))
    return [tmp_path / f"{kind}.ndjson" for kind in by_type]


def _import(tmp_path, resources: list[dict], form: str):
    """``riskmodel import --from fhir``'s work (:func:`import_fhir`): the summary, residents, events, rejected rows;
    ``ndjson-buckets``: the bulk NDJSON split into buckets of a few lines each."""
    import pandas as pd

    from riskmodel.interchange.fhir_bulk import import_fhir
    from riskmodel.interchange.importing import rejected_path
    from riskmodel.synth.population import events_path

    files = _files(tmp_path, resources, form.removesuffix("-buckets"))
    bucket_bytes = 1_000 if form.endswith("-buckets") else 48 * 2**20
    out = tmp_path / "out" / "residents.parquet"
    summary = import_fhir(files, out, as_of=AS_OF, bucket_bytes=bucket_bytes, workers=1)
    return summary, *(pd.read_parquet(p) for p in (out, events_path(out), rejected_path(out, "fhir")))


OWN = [
    PATIENT,
    _obs("14771-0", 7.0, "mmol/L", ident="own"),
    _obs("14771-0", 7.0, "mmol/L", ident="draft", status="preliminary"),
]
"""A Patient of the input with a result used and one skipped: each count has a resource."""


@pytest.mark.parametrize("form", ["bundle", "ndjson", "ndjson-buckets"])
def test_every_resource_read_is_counted_once_and_one_of_no_patient_is_a_rejected_row(tmp_path, form):
    """SPEC 14.2: in = used + skipped + rejected per type; a resource whose subject is no Patient of the input never
    vanishes (a row-only result, a medicine, an undated diagnosis had no row), it is a rejected row at its subject."""
    from tests.factories import fhir_resources_of

    orphans = fhir_resources_of("zz")
    summary, residents, events, rejected = _import(tmp_path, [*OWN, *orphans], form)
    counts = summary.counts
    assert sum(c["in"] for c in counts.values()) == len(OWN) + len(orphans)
    for kind, c in counts.items():
        assert c["in"] == c["used"] + c["skipped"] + c["rejected"], (kind, c)
        assert c["rejected"] == (rejected["resource_type"] == kind).sum(), (kind, c, rejected)
    assert sum(c["used"] for c in counts.values()) == 2 and sum(c["skipped"] for c in counts.values()) == 1
    assert summary.rejected == len(rejected) == len(orphans)
    rows = sorted(zip(rejected["resource_type"], rejected["resource_id"], rejected["path"], strict=True))
    assert rows == sorted((r["resourceType"], r["id"], f"{r['resourceType']}.subject") for r in orphans)
    assert rejected["reason"].str.contains("no Patient of this input").all()
    assert residents["resident_id"].tolist() == ["p1"] and set(events["resident_id"]) == {"p1"}


@pytest.mark.parametrize("form", ["bundle", "ndjson"])
def test_each_resource_of_that_test_is_used_when_its_patient_is_there(tmp_path, form):
    """The control of the test above: with their Patient in the input, every one of those resources is used."""
    from tests.factories import fhir_resources_of

    mine = fhir_resources_of("p1")
    summary, residents, events, rejected = _import(tmp_path, [*OWN, *mine], form)
    assert rejected.empty, rejected.to_dict("records")
    assert sum(c["used"] for c in summary.counts.values()) == 2 + len(mine)
    row = residents.iloc[0]
    assert (row["height_cm"], row["smoking"], row["on_antihypertensive"]) == (160.0, "never", True)
    assert row["diagnosed_hypertension"]


def test_the_cli_prints_counts_that_add_up_for_resources_of_no_patient(tmp_path):
    from typer.testing import CliRunner

    from riskmodel.cli.commands import app
    from tests.factories import fhir_resources_of

    orphans = fhir_resources_of("zz")
    [path] = _files(tmp_path, [*OWN, *orphans], "bundle")
    out = tmp_path / "r.parquet"
    result = CliRunner().invoke(
        app, ["import", "--from", "fhir", str(path), "--out", str(out), "--as-of", "2026-07-01"]
    )
    assert result.exit_code == 0, result.output
    assert "Observation: 7 in = 1 used + 1 skipped + 5 rejected" in result.output
    assert "Condition: 2 in = 0 used + 0 skipped + 2 rejected" in result.output
    assert "MedicationStatement: 2 in = 0 used + 0 skipped + 2 rejected" in result.output
    assert f"{len(orphans)} rejected rows" in result.output


# --------------------------------------------------------------------------- a blood-pressure panel's halves


def _panel(*codes: str) -> dict:
    values = {"8480-6": 150.0, "8462-4": 95.0}
    panel = _obs("85354-9", 0.0, "mm[Hg]", ident="bp")
    del panel["valueQuantity"]  # a panel's values are its components
    if codes:
        panel["component"] = [
            {"code": {"coding": [{"system": "http://loinc.org", "code": c}]},
             "valueQuantity": {"value": values[c], "unit": "mm[Hg]", "system": "http://unitsofmeasure.org",
                               "code": "mm[Hg]"}}
            for c in codes
        ]  # fmt: skip
    return panel


@pytest.mark.parametrize("bundle", [False, True])
@pytest.mark.parametrize(
    ("codes", "missing"),
    [
        (("8480-6", "8462-4"), None),
        (("8462-4", "8480-6"), None),
        (("8480-6",), "no diastolic (8462-4)"),
        (("8462-4",), "no systolic (8480-6)"),
        ((), "no systolic (8480-6) and no diastolic (8462-4)"),
        (("8480-6", "8480-6"), "no diastolic (8462-4)"),
    ],
)
def test_a_bp_panel_needs_its_systolic_and_its_diastolic(tmp_path, bundle, codes, missing):
    """FHIR R4's blood-pressure profile (http://hl7.org/fhir/StructureDefinition/bp) has one systolic (8480-6) and
    one diastolic (8462-4) component; SPEC 2 reads a BP as that pair. A panel without either is a rejected row
    naming what is missing, never half a BP; a standalone 8480-6 pairs with a standalone 8462-4
    (test_fhir_bp_halves)."""
    result = _read(tmp_path, _panel(*codes), bundle=bundle)
    if missing is None:
        assert result.rejected.empty, result.rejected.to_dict("records")
        event = result.events.iloc[0]
        assert (float(event["sbp_mmhg"]), float(event["dbp_mmhg"])) == (150.0, 95.0)
        return
    [row] = result.rejected.to_dict("records")
    assert (row["resource_type"], row["resource_id"], row["path"]) == ("Observation", "bp", "Observation.component")
    assert row["reason"].endswith(missing) and "85354-9" in row["reason"]
    assert result.events.empty and result.counts["Observation"] == {"in": 1, "used": 0, "skipped": 0, "rejected": 1}


# ------------------------------------------------------------------------------- UCUM's two codes of the litre

PER_LITRE = [
    # (LOINC of SPEC 14.2, value, unit as UCUM's table writes it, column, expected in the column's unit)
    ("14771-0", 7.0, "mmol/L", "fpg_mmol_l", 7.0),
    ("1558-6", 126.0, "mg/dL", "fpg_mmol_l", 126 / 18.016),
    ("14995-5", 11.1, "mmol/L", "ogtt_2h_mmol_l", 11.1),
    ("1518-0", 200.0, "mg/dL", "ogtt_2h_mmol_l", 200 / 18.016),
    ("15074-8", 11.1, "mmol/L", "random_glucose_mmol_l", 11.1),
    ("2339-0", 200.0, "mg/dL", "random_glucose_mmol_l", 200 / 18.016),
    ("14647-2", 5.2, "mmol/L", "tc_mmol_l", 5.2),
    ("2093-3", 200.0, "mg/dL", "tc_mmol_l", 200 / 38.67),
    ("14927-8", 1.7, "mmol/L", "tg_mmol_l", 1.7),
    ("2571-8", 150.0, "mg/dL", "tg_mmol_l", 150 / 88.57),
    ("14646-4", 1.0, "mmol/L", "hdl_mmol_l", 1.0),
    ("2085-9", 40.0, "mg/dL", "hdl_mmol_l", 40 / 38.67),
    ("22748-8", 3.4, "mmol/L", "ldl_mmol_l", 3.4),
    ("2089-1", 130.0, "mg/dL", "ldl_mmol_l", 130 / 38.67),
]


@pytest.mark.parametrize("spelling", ["L", "l"])
@pytest.mark.parametrize(("code", "value", "unit", "column", "expected"), PER_LITRE)
def test_the_litre_is_l_or_L_with_the_same_conversion(tmp_path, code, value, unit, column, expected, spelling):
    """UCUM is case-sensitive, but it has two codes of the litre, ``l`` and ``L``: ``mmol/l`` is ``mmol/L`` and
    ``mg/dl`` is ``mg/dL``, converted alike."""
    written = unit[:-1] + spelling
    result = _read(tmp_path, _obs(code, value, written), bundle=True)
    assert result.rejected.empty, result.rejected.to_dict("records")
    frame = result.events if len(result.events) else result.residents
    assert float(frame.iloc[0][column]) == pytest.approx(round(expected, 4), abs=1e-9)


@pytest.mark.parametrize(
    ("code", "unit"),
    [
        ("14771-0", "mmol/mol"),  # another quantity
        ("14771-0", "mmol/dl"),  # a UCUM unit, per decilitre: another scale
        ("14771-0", "mmol/dL"),
        ("14771-0", "MMOL/L"),  # case-insensitive UCUM, not the case-sensitive codes FHIR uses
        ("14771-0", "Mmol/L"),
        ("1558-6", "MG/DL"),
        ("1558-6", "MG/dL"),
        ("1558-6", "mg/DL"),
        ("1558-6", "mg/Dl"),
        ("1558-6", "mg/L"),
        ("4548-4", "mmol/l"),  # HbA1c is % or mmol/mol: a litre is wrong in either spelling
        ("14771-0", "mmol/L "),
        ("14771-0", "mmol/ l"),
    ],
)
def test_a_unit_that_is_not_an_accepted_ucum_code_is_still_a_rejected_row(tmp_path, code, unit):
    result = _read(tmp_path, _obs(code, 7.0, unit))
    [row] = result.rejected.to_dict("records")
    assert row["path"] == "Observation.valueQuantity.code" and "not accepted" in row["reason"], row


# ----------------------------------------------------------------------------------------- UTF-8 files only


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le"])
@pytest.mark.parametrize("name", ["bundle.json", "all.ndjson", "all.ndjson.gz"])
def test_a_file_not_in_utf8_stops_with_one_line_naming_it_and_the_fix(tmp_path, encoding, name):
    """JSON exchanged between systems is UTF-8 (RFC 8259 section 8.1): a UTF-16 or UTF-32 file stops the import,
    by the direct path and the bulk path alike, with one line that names the encoding and the fix."""
    import gzip

    from riskmodel.exceptions import InputFileError
    from riskmodel.interchange.fhir_bulk import import_fhir

    result = json.dumps(_obs("14771-0", 7.0, "mmol/L"))
    text = (json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": PATIENT}]})
            if name == "bundle.json" else json.dumps(PATIENT) + "\n" + result)  # fmt: skip
    data = text.encode(encoding)
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    for read in (lambda: read_fhir([path], as_of=AS_OF),
                 lambda: import_fhir([path], tmp_path / "r.parquet", as_of=AS_OF, bucket_bytes=16)):  # fmt: skip
        with pytest.raises(InputFileError) as refused:
            read()
        message = str(refused.value)
        assert "\n" not in message and encoding[:6].upper() in message and "save it as UTF-8" in message, message
        assert "7.0" not in message and not (tmp_path / "r.parquet").exists()


@pytest.mark.parametrize("name", ["bundle.json", "all.ndjson"])
def test_a_utf8_file_with_a_byte_order_mark_is_read(tmp_path, name):
    """RFC 8259 section 8.1 lets a parser ignore a byte-order mark: riskmodel does."""
    text = (json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": PATIENT}]})
            if name == "bundle.json" else json.dumps(PATIENT) + "\n")  # fmt: skip
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8-sig"))
    assert read_fhir([path], as_of=AS_OF).residents["resident_id"].tolist() == ["p1"]


def test_the_cli_stops_on_a_utf16_file_with_one_line(tmp_path):
    from typer.testing import CliRunner

    from riskmodel.cli.commands import app

    path = tmp_path / "bundle.json"
    path.write_bytes(json.dumps({"resourceType": "Bundle", "entry": [{"resource": PATIENT}]}).encode("utf-16"))
    result = CliRunner().invoke(app, ["import", "--from", "fhir", str(path), "--out", str(tmp_path / "r.parquet")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    [line] = result.output.strip().splitlines()
    assert "UTF-16 text, not UTF-8" in line and "save it as UTF-8" in line, line


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
