"""The links the assembly follows (SPEC 2.2: an event never changes another resident; SPEC 14.2: a rejected row,
never a guess): an Observation's encounter, a medicine's context and reasonReference, an Encounter's basedOn.

A link to another Patient's resource is a rejected row at the link, and the other resident's records are exactly
what they are without it, on every path (a Bundle file, bulk NDJSON read directly and in buckets). A medicine whose
link names no event of its own resident is current treatment when active (SPEC 14.2 maps an active medicine
without any link), else a rejected row."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.factories import fhir_resources_of
from tests.riskmodel.interchange.test_fhir_in import PATIENT, _import

P2 = {**PATIENT, "id": "p2", "gender": "male"}
_ATC = "http://www.whocc.no/atc"
_ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
_ICD10 = "http://hl7.org/fhir/sid/icd-10"


def _medicine(kind: str, status: str, atc: str, subject: str = "p2", **links: dict) -> dict:
    intent = {"intent": "order"} if kind == "MedicationRequest" else {}
    return {"resourceType": kind, "id": f"{subject}-{kind}-{status}", "status": status, **intent,
            "subject": {"reference": f"Patient/{subject}"},
            "medicationCodeableConcept": {"coding": [{"system": _ATC, "code": atc}]}, **links}  # fmt: skip


HOSTILE = {
    "Observation.encounter": {
        "resourceType": "Observation", "id": "p2-at-p1", "status": "final", "effectiveDateTime": "2026-05-01",
        "subject": {"reference": "Patient/p2"}, "encounter": {"reference": "Encounter/p1-visit"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
        "valueQuantity": {"value": 99.0, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"},
    },
    "MedicationStatement.context": _medicine(
        "MedicationStatement", "not-taken", "C09AA02", context={"reference": "Encounter/p1-visit"}
    ),
    "MedicationRequest.reasonReference": _medicine(
        "MedicationRequest", "active", "C09AA02", reasonReference=[{"reference": "Condition/p1-dx"}]
    ),
    "Encounter.basedOn": {
        "resourceType": "Encounter", "id": "p2-arrival-2", "status": "finished", "subject": {"reference": "Patient/p2"},
        "class": {"system": _ACT, "code": "AMB"}, "period": {"start": "2026-05-02"},
        "reasonCode": [{"coding": [{"system": _ICD10, "code": "I10"}]}],
        "basedOn": [{"reference": "ServiceRequest/p1-referral"}],
    },
}  # fmt: skip
"""Per link: a resource of p2 naming a resource of p1."""


def _of(frame: pd.DataFrame, resident: str) -> list[dict]:
    rows = frame[frame["resident_id"] == resident].sort_values(list(frame.columns[:2])).astype(object)
    return rows.where(rows.notna(), None).to_dict("records")


def _check_counts(summary, rejected) -> None:  # type: ignore[no-untyped-def]
    for kind, c in summary.counts.items():
        assert c["in"] == c["used"] + c["skipped"] + c["rejected"], (kind, c)
        assert c["rejected"] == (rejected["resource_type"] == kind).sum(), (kind, c, rejected)


@pytest.mark.parametrize("form", ["bundle", "ndjson", "ndjson-buckets"])
@pytest.mark.parametrize("path", list(HOSTILE))
def test_a_link_to_another_patients_resource_is_a_rejected_row_and_changes_nothing_of_it(tmp_path, form, path):
    inputs = [PATIENT, *fhir_resources_of("p1"), P2, *fhir_resources_of("p2")]
    for folder in ("without", "with"):
        (tmp_path / folder).mkdir()
    _, residents, events, rejected = _import(tmp_path / "without", inputs, form)
    assert rejected.empty, rejected.to_dict("records")
    hostile = HOSTILE[path]
    summary, residents2, events2, rejected2 = _import(tmp_path / "with", [*inputs, hostile], form)
    for resident in ("p1", "p2"):
        assert _of(residents2, resident) == _of(residents, resident)
        assert _of(events2, resident) == _of(events, resident)
    rows = rejected2[["resource_type", "resource_id", "path"]].to_dict("records")
    assert rows == [{"resource_type": hostile["resourceType"], "resource_id": hostile["id"], "path": path}]
    assert rejected2["reason"].iloc[0].endswith("of another Patient")
    _check_counts(summary, rejected2)
    kind = hostile["resourceType"]
    used = sum(r["resourceType"] == kind for r in inputs)
    assert summary.counts[kind]["used"] == used and summary.counts[kind]["rejected"] == 1


@pytest.mark.parametrize("form", ["bundle", "ndjson"])
def test_a_link_to_a_resource_of_the_same_id_is_the_residents_own(tmp_path, form):
    """Two Patients' Encounters with one id (two systems' exports): each resident's Observation joins its own."""
    p2 = [{**r, "id": r["id"].replace("p2-", "p1-")} if r["resourceType"] == "Encounter" else r
          for r in fhir_resources_of("p2")]  # fmt: skip
    for resource in p2:
        if "encounter" in resource or "context" in resource:
            key = "encounter" if "encounter" in resource else "context"
            resource[key] = {"reference": "Encounter/p1-visit"}
    summary, residents, events, rejected = _import(tmp_path, [PATIENT, *fhir_resources_of("p1"), P2, *p2], form)
    assert rejected.empty, rejected.to_dict("records")
    followups = events[events["kind"] == "followup"].set_index("resident_id")
    assert followups.loc["p1", "weight_kg"] == followups.loc["p2", "weight_kg"] == 60.0
    assert followups.loc["p1", "on_treatment"] and followups.loc["p2", "on_treatment"]
    assert len(followups) == 2


LINKED = {
    "to-nowhere": "Encounter/nowhere",
    "to-an-arrival": "Encounter/p1-arrival",
    "to-an-undated-condition": "Condition/p1-dx-undated",
    "to-a-missing-condition": "Condition/nowhere",
}
"""A medicine's link that names no event of its resident (a follow-up Encounter, a dated Condition)."""


@pytest.mark.parametrize("form", ["bundle", "ndjson", "ndjson-buckets"])
@pytest.mark.parametrize("link", list(LINKED))
def test_a_medicine_linked_to_no_event_is_current_when_active_else_a_rejected_row(tmp_path, form, link):
    inputs = [PATIENT, *fhir_resources_of("p1")]
    inputs = [r for r in inputs if r["resourceType"] not in ("MedicationStatement", "MedicationRequest")]
    reference = {"reference": LINKED[link]}
    to_condition = LINKED[link].startswith("Condition/")
    if to_condition:
        active_link = stopped_link = {"reasonReference": [reference]}
    else:  # a MedicationStatement's Encounter is its context, a MedicationRequest's its encounter (FHIR R4)
        active_link, stopped_link = {"context": reference}, {"encounter": reference}
    active = _medicine("MedicationStatement", "active", "A10BA02", subject="p1", **active_link)
    stopped = _medicine("MedicationRequest", "completed", "C09AA02", subject="p1", **stopped_link)
    summary, residents, events, rejected = _import(tmp_path, [*inputs, active, stopped], form)
    _check_counts(summary, rejected)
    row = residents.iloc[0]
    assert row["on_glucose_lowering"] and not row["on_antihypertensive"]
    assert summary.counts["MedicationStatement"]["used"] == 1
    [rejection] = rejected.to_dict("records")
    what = "dated Condition" if to_condition else "follow-up Encounter"
    expected_path = "MedicationRequest." + next(iter(stopped_link))
    assert (rejection["resource_id"], rejection["path"]) == (stopped["id"], expected_path)
    assert rejection["reason"].startswith(f"names no {what} of this Patient")
    assert events["on_treatment"].isna().all()  # the follow-up and the diagnosis: no treatment stated at either


# ------------------------------------------------------------------ counts after the SPEC 2 validators


@pytest.mark.parametrize("form", ["bundle", "ndjson", "ndjson-buckets"])
def test_a_patient_the_validators_reject_and_its_resources_count_as_rejected(tmp_path, form):
    """A resident of 17 (SPEC 2.1) is rejected by the validators: its Patient and each resource of it are in no
    output, so they count as rejected, not used (in = used + skipped + rejected)."""
    young = {**P2, "birthDate": "2009-07-02"}
    mine, theirs = fhir_resources_of("p1"), fhir_resources_of("p2")
    summary, residents, events, rejected = _import(tmp_path, [PATIENT, *mine, young, *theirs], form)
    assert residents["resident_id"].tolist() == ["p1"] and set(events["resident_id"]) == {"p1"}
    assert ((rejected["resource_type"] == "Patient") & (rejected["resource_id"] == "p2")).sum() == 1
    for kind, c in summary.counts.items():
        assert c["in"] == c["used"] + c["skipped"] + c["rejected"], (kind, c)
        of_p1 = sum(r["resourceType"] == kind for r in [PATIENT, *mine])
        of_p2 = sum(r["resourceType"] == kind for r in [young, *theirs])
        assert (c["used"], c["rejected"]) == (of_p1, of_p2), (kind, c)
