"""SPEC 14.2: a standalone systolic (LOINC 8480-6) and diastolic (8462-4) Observation of one Patient, taken at the
same time (FHIR ``effective[x]``) and at the same Encounter or none, are one BP reading, as the panel 85354-9 is
(SPEC 2 reads a BP as a pair; SPEC 3 confirms hypertension by readings >= 140/90 on three days). A half that pairs
with none is a rejected row, counted as rejected. Every path: a Bundle file, bulk NDJSON directly and in buckets."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from riskmodel.interchange import read_fhir
from riskmodel.interchange.fhir_bulk import import_fhir
from riskmodel.interchange.importing import rejected_path
from riskmodel.synth.population import events_path

AS_OF = dt.date(2026, 7, 1)
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ALONE_SBP = "a systolic (8480-6) without a diastolic (8462-4) taken at the same time"
ALONE_DBP = "a diastolic (8462-4) without a systolic (8480-6) taken at the same time"
DAYS = ("2026-05-04", "2026-05-11", "2026-05-18")


def _patient(ident: str = "p1") -> dict[str, Any]:
    return {"resourceType": "Patient", "id": ident, "gender": "male", "birthDate": "1960-03-01",
            "generalPractitioner": [{"reference": "CareTeam/T1"}]}  # fmt: skip


def _quantity(value: float) -> dict[str, Any]:
    return {"value": value, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"}


def _half(code: str, value: float, ident: str, when: str, patient: str = "p1", **more: Any) -> dict[str, Any]:
    """A standalone systolic or diastolic Observation, as many systems send a BP."""
    return {"resourceType": "Observation", "id": ident, "status": "final",
            "code": {"coding": [{"system": LOINC, "code": code}]}, "subject": {"reference": f"Patient/{patient}"},
            "effectiveDateTime": when, "valueQuantity": _quantity(value), **more}  # fmt: skip


def _pair(ident: str, when: str, sbp: float = 150.0, dbp: float = 95.0, patient: str = "p1") -> list[dict[str, Any]]:
    return [_half("8480-6", sbp, f"{ident}-s", when, patient), _half("8462-4", dbp, f"{ident}-d", when, patient)]


def _component(code: str, value: float) -> dict[str, Any]:
    return {"code": {"coding": [{"system": LOINC, "code": code}]}, "valueQuantity": _quantity(value)}


def _panel(ident: str, when: str, sbp: float = 150.0, dbp: float = 95.0) -> dict[str, Any]:
    """The FHIR R4 blood-pressure profile: panel 85354-9 with its two components."""
    return {"resourceType": "Observation", "id": ident, "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "85354-9"}]}, "subject": {"reference": "Patient/p1"},
            "effectiveDateTime": when, "component": [_component("8480-6", sbp), _component("8462-4", dbp)]}  # fmt: skip


def _write(folder: Path, resources: list[dict[str, Any]], form: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    if form == "bundle":
        path = folder / "b.json"
        entries = [{"resource": r} for r in resources]
        path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}))
        return [path]
    by_type: dict[str, list[str]] = {}
    for resource in resources:
        by_type.setdefault(resource["resourceType"], []).append(json.dumps(resource))
    paths = [folder / f"{kind}.ndjson" for kind in by_type]
    for path, lines in zip(paths, by_type.values(), strict=True):
        path.write_text("\n".join(lines) + "\n")
    return paths


def _import(tmp_path: Path, resources: list[dict[str, Any]], form: str):  # type: ignore[no-untyped-def]
    """(events, rejected rows, counts) of one path: ``bundle``, ``ndjson`` (direct) or ``buckets``."""
    files = _write(tmp_path / form, resources, form)
    if form != "buckets":
        result = read_fhir(files, as_of=AS_OF)
        return result.events, result.rejected, result.counts
    out = tmp_path / "out" / "r.parquet"
    summary = import_fhir(files, out, as_of=AS_OF, bucket_bytes=64, workers=1)  # a bucket a few lines
    events = pq.read_table(events_path(out)).to_pandas()
    return events, pq.read_table(rejected_path(out, "fhir")).to_pandas(), summary.counts


def _bp(events: pd.DataFrame) -> list[tuple[str, str, float, float]]:
    rows = events[events["sbp_mmhg"].notna() | events["dbp_mmhg"].notna()]
    found = [(r.resident_id, str(r.event_date)[:10], float(r.sbp_mmhg), float(r.dbp_mmhg)) for r in rows.itertuples()]
    return sorted(found)


def _rejected(rows: pd.DataFrame) -> list[tuple[str, str, str]]:
    return sorted((r["resource_id"], r["path"], r["reason"]) for r in rows.to_dict("records"))


PATHS = ["bundle", "ndjson", "buckets"]


@pytest.mark.parametrize("form", PATHS)
def test_a_standalone_pair_is_one_reading_with_both_values(tmp_path, form):
    resources = [_patient(), *_pair("bp", "2026-06-01T09:30:00+08:00")]
    events, rejected, counts = _import(tmp_path, resources, form)
    assert rejected.empty, rejected.to_dict("records")
    assert _bp(events) == [("p1", "2026-06-01", 150.0, 95.0)] and len(events) == 1
    assert counts["Observation"] == {"in": 2, "used": 2, "skipped": 0, "rejected": 0}


@pytest.mark.parametrize("form", PATHS)
def test_three_days_of_pairs_give_the_readings_three_panels_give(tmp_path, form):
    """SPEC 3 confirms hypertension by readings >= 140/90 on three days: the pairs give those three readings."""
    pairs = [_patient(), *(h for k, day in enumerate(DAYS) for h in _pair(f"bp{k}", day))]
    panels = [_patient(), *(_panel(f"bp{k}", day) for k, day in enumerate(DAYS))]
    from_pairs, rejected, _ = _import(tmp_path / "pairs", pairs, form)
    from_panels, _, _ = _import(tmp_path / "panels", panels, form)
    assert rejected.empty and _bp(from_pairs) == _bp(from_panels) == [("p1", d, 150.0, 95.0) for d in DAYS]
    columns = [c for c in from_panels.columns if c != "event_id"]
    order = ["event_date"]
    pd.testing.assert_frame_equal(from_pairs.sort_values(order)[columns].reset_index(drop=True),
                                  from_panels.sort_values(order)[columns].reset_index(drop=True))  # fmt: skip


@pytest.mark.parametrize("form", PATHS)
def test_a_half_without_its_partner_is_a_rejected_row_and_counts_add_up(tmp_path, form):
    resources = [
        _patient(),
        *_pair("ok", "2026-06-01T09:00:00+08:00"),
        _half("8480-6", 150.0, "lone-s", "2026-06-02"),
        _half("8462-4", 95.0, "lone-d", "2026-06-03"),
        {**_half("14771-0", 6.0, "fpg", "2026-06-04"), "valueQuantity": {"value": 6.0, "code": "mmol/L"}},
    ]
    events, rejected, counts = _import(tmp_path, resources, form)
    assert _rejected(rejected) == [("lone-d", "Observation.code", ALONE_DBP), ("lone-s", "Observation.code", ALONE_SBP)]
    assert _bp(events) == [("p1", "2026-06-01", 150.0, 95.0)]
    assert counts["Observation"] == {"in": 5, "used": 3, "skipped": 0, "rejected": 2}
    for entry in counts.values():
        assert entry["in"] == entry["used"] + entry["skipped"] + entry["rejected"]


@pytest.mark.parametrize("form", PATHS)
def test_halves_at_different_times_do_not_pair(tmp_path, form):
    """The same day is not the same time; a period's start is the time, whichever element carries it."""
    resources = [
        _patient(),
        _half("8480-6", 150.0, "s1", "2026-06-01T09:00:00+08:00"),
        _half("8462-4", 95.0, "d1", "2026-06-01T15:00:00+08:00"),
        {**_half("8480-6", 142.0, "s2", ""), "effectivePeriod": {"start": "2026-06-02T08:00:00+08:00"}},
        {**_half("8462-4", 91.0, "d2", ""), "effectivePeriod": {"start": "2026-06-02T08:00:00+08:00"}},
    ]
    for resource in resources[3:]:
        del resource["effectiveDateTime"]
    events, rejected, counts = _import(tmp_path, resources, form)
    assert _rejected(rejected) == [("d1", "Observation.code", ALONE_DBP), ("s1", "Observation.code", ALONE_SBP)]
    assert _bp(events) == [("p1", "2026-06-02", 142.0, 91.0)]
    assert counts["Observation"] == {"in": 4, "used": 2, "skipped": 0, "rejected": 2}


@pytest.mark.parametrize("form", PATHS)
def test_another_patients_half_never_pairs_with_this_ones(tmp_path, form):
    when = "2026-06-01T09:00:00+08:00"
    resources = [
        _patient("p1"),
        _patient("p2"),
        _half("8480-6", 150.0, "p1-s", when, "p1"),
        _half("8462-4", 95.0, "p2-d", when, "p2"),
        *_pair("p2-ok", "2026-06-02", 130.0, 80.0, patient="p2"),
    ]
    events, rejected, counts = _import(tmp_path, resources, form)
    assert _rejected(rejected) == [("p1-s", "Observation.code", ALONE_SBP), ("p2-d", "Observation.code", ALONE_DBP)]
    assert _bp(events) == [("p2", "2026-06-02", 130.0, 80.0)]
    assert counts["Observation"] == {"in": 4, "used": 2, "skipped": 0, "rejected": 2}


@pytest.mark.parametrize("form", ["bundle", "ndjson"])
def test_halves_at_another_encounter_do_not_pair_and_at_the_same_they_do(tmp_path, form):
    when = "2026-06-01T09:00:00+08:00"
    at = {"encounter": {"reference": "Encounter/e1"}}
    resources = [
        _patient(),
        _half("8480-6", 150.0, "s1", when, **at),
        _half("8462-4", 95.0, "d1", when),  # the same time, at no Encounter
        _half("8480-6", 144.0, "s2", "2026-06-02", **at),
        _half("8462-4", 92.0, "d2", "2026-06-02", **at),
    ]
    events, rejected, counts = _import(tmp_path, resources, form)
    assert _rejected(rejected) == [("d1", "Observation.code", ALONE_DBP), ("s1", "Observation.code", ALONE_SBP)]
    assert _bp(events) == [("p1", "2026-06-02", 144.0, 92.0)]


@pytest.mark.parametrize("form", ["bundle", "ndjson"])
def test_two_systolics_at_one_time_are_averaged_as_a_panels_repeated_component_is(tmp_path, form):
    when = "2026-06-01T09:00:00+08:00"
    halves = [_patient(), *_pair("a", when, 150.0, 95.0), _half("8480-6", 146.0, "b-s", when)]
    panel = _panel("bp", when, 150.0, 95.0)
    panel["component"].append(_component("8480-6", 146.0))  # a repeated systolic: averaged
    events, rejected, counts = _import(tmp_path / "halves", halves, form)
    from_panel, _, _ = _import(tmp_path / "panel", [_patient(), panel], form)
    assert rejected.empty and _bp(events) == _bp(from_panel) == [("p1", "2026-06-01", 148.0, 95.0)]
    assert counts["Observation"] == {"in": 3, "used": 3, "skipped": 0, "rejected": 0}
