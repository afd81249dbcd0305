"""The mapped records put together as residents (SPEC 2.1) and events (SPEC 2.2), in plain Python.

A follow-up Encounter is one event; the Observations that reference it and the treatment stated in its context are
its values. Other Observations of an event measure are events of their own (``lab`` for glucose and HbA1c,
``health_check`` for BP and body size; a standalone systolic and its diastolic one event, ``Result.event``);
height, BMI, lipids and smoking go to the resident row. The row also holds the newest result of each measure with
its date, as a health record does.

Every records-in adapter ends here: the FHIR import (a Bundle file, a request's Bundle, a bulk bucket) with the
records of :mod:`riskmodel.interchange.fhir_mapping`, and the BPHS forms with the same pieces as frames
(:func:`assemble`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from riskmodel.interchange.fhir_export import EVENT_EXTENSIONS
from riskmodel.interchange.fhir_records import Diagnosis, Medicine, Referral, Result, Visit
from riskmodel.records.schema import EVENT_COLUMN_NAMES

EVENT_MEASURES = (
    "sbp_mmhg",
    "dbp_mmhg",
    "fpg_mmol_l",
    "ogtt_2h_mmol_l",
    "random_glucose_mmol_l",
    "hba1c_pct",
    "weight_kg",
    "waist_cm",
)
_LAB = ("fpg_mmol_l", "ogtt_2h_mmol_l", "random_glucose_mmol_l", "hba1c_pct")
_ROW_DAYS = ((("sbp_mmhg", "dbp_mmhg"), "bp_date"), (("fpg_mmol_l", "ogtt_2h_mmol_l", "hba1c_pct"), "glucose_date"))
"""BP and glucose on the row: the values of the newest day with a result, dated that day."""
_BODY_ROW = ("height_cm", "weight_kg", "waist_cm", "bmi_kg_m2")
_LIPIDS = ("tc_mmol_l", "tg_mmol_l", "hdl_mmol_l", "ldl_mmol_l")
_FLAGS = {"diabetes": "diagnosed_diabetes", "hypertension": "diagnosed_hypertension"}
_CURRENT = ("on_antihypertensive", "on_glucose_lowering", "on_lipid_lowering")
_EVENT_TREATMENTS = ("on_antihypertensive", "on_glucose_lowering")


def _means(results: Iterable[Result]) -> dict[str, float]:
    """The mean value per column."""
    values: dict[str, list[float]] = defaultdict(list)
    for result in results:
        values[result.column].append(result.value)
    return {column: sum(v) / len(v) for column, v in values.items()}


def _row_results(row: dict[str, Any], results: list[Result]) -> None:
    numbers = [r for r in results if r.column != "smoking"]
    for columns, date_name in _ROW_DAYS:
        chosen = [r for r in numbers if r.column in columns]
        if chosen:
            newest = max(r.date for r in chosen)
            row[date_name] = newest
            row.update(_means(r for r in chosen if r.date == newest))
    body = [r.date for r in numbers if r.column in _BODY_ROW]
    if body:
        row["exam_date"] = max(body)
    for column in (*_BODY_ROW, *_LIPIDS):  # each its newest value (the mean of that day's)
        chosen = [r for r in numbers if r.column == column]
        if chosen:
            newest = max(r.date for r in chosen)
            row.update(_means(r for r in chosen if r.date == newest))
    answers = sorted((r for r in results if r.column == "smoking" and r.text is not None), key=lambda r: r.date)
    if answers:
        row["smoking"] = answers[-1].text


_AT_EVENT = ("followup", "diagnosis")


def _treated_at(medicine: Medicine) -> tuple[str, str, str] | None:
    """(event kind, resident, event id) of the event a medicine states the treatment at, if linked."""
    if medicine.encounter_id is not None:
        return ("followup", medicine.resident_id, medicine.encounter_id)
    if medicine.condition_id is not None:
        return ("diagnosis", medicine.resident_id, medicine.condition_id)
    return None


def _event(**values: Any) -> dict[str, Any]:
    event = dict.fromkeys(EVENT_COLUMN_NAMES)
    event.update(values)
    return event


def assemble_records(
    residents: list[dict[str, Any]],
    results: Sequence[Result],
    diagnoses: Sequence[Diagnosis],
    medicines: Sequence[Medicine],
    visits: Sequence[Visit],
    referrals: Sequence[Referral],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(residents, events) in the columns of SPEC 2 (values as read: the validators type them). The resident rows
    are completed in place."""
    diagnosed = {(d.resident_id, d.disease) for d in diagnoses}
    current = {
        (m.resident_id, m.treatment)
        for m in medicines
        if m.status == "active" and m.encounter_id is None and m.condition_id is None
    }
    by_resident: dict[str, list[Result]] = defaultdict(list)
    for result in results:
        by_resident[result.resident_id].append(result)
    for row in residents:
        rid = row["resident_id"]
        for disease, flag in _FLAGS.items():
            row[flag] = "true" if (rid, disease) in diagnosed else "false"
        for flag in _CURRENT:
            row[flag] = "true" if (rid, flag) in current else "false"
        _row_results(row, by_resident.get(rid, []))
    return residents, _events(results, diagnoses, medicines, visits, referrals)


def _events(
    results: Sequence[Result],
    diagnoses: Sequence[Diagnosis],
    medicines: Sequence[Medicine],
    visits: Sequence[Visit],
    referrals: Sequence[Referral],
) -> list[dict[str, Any]]:
    followups = [v for v in visits if v.referral_id is None]
    followup_ids = {(v.resident_id, v.id) for v in followups if v.id is not None}
    at_followup: dict[tuple[str, str], list[Result]] = defaultdict(list)
    alone: dict[tuple[str, str, str], list[Result]] = defaultdict(list)
    for result in results:
        if result.column not in EVENT_MEASURES:
            continue
        if (key := (result.resident_id, result.encounter_id)) in followup_ids:  # the resident's own follow-up only
            at_followup[key].append(result)  # type: ignore[index]
        elif (ident := result.event or result.id) is not None:  # one event per Observation, or per BP pair
            alone[(ident, result.resident_id, result.date)].append(result)
    events = [
        _event(
            event_id=v.id,
            resident_id=v.resident_id,
            event_date=v.date,
            disease=v.disease,
            mode=v.mode,
            kind="followup",
            **v.extensions,
            **_means(at_followup.get((v.resident_id, v.id), ()) if v.id is not None else ()),
        )
        for v in followups
    ]
    for (ident, rid, date), measured in sorted(alone.items(), key=lambda item: item[0]):
        values = _means(measured)
        kind = "lab" if any(c in values for c in _LAB) else "health_check"
        events.append(_event(event_id=ident, resident_id=rid, event_date=date, kind=kind, **values))
    events += [
        _event(
            event_id=v.id,
            resident_id=v.resident_id,
            event_date=v.date,
            disease=v.disease,
            kind="referral",
            referral_status="arrived",
        )  # fmt: skip
        for v in visits
        if v.referral_id is not None
    ]
    events += [
        _event(
            event_id=r.id,
            resident_id=r.resident_id,
            event_date=r.date,
            disease=r.disease,
            kind="referral",
            referral_status="sent",
        )  # fmt: skip
        for r in referrals
    ]
    events += [
        _event(
            event_id=None if r.id is None else r.id + "-returned",
            resident_id=r.resident_id,
            event_date=r.returned_date,
            disease=r.disease,
            kind="referral",
            referral_status="returned",
        )  # fmt: skip
        for r in referrals
        if r.status == "completed"
    ]
    events += [
        _event(event_id=d.id, resident_id=d.resident_id, event_date=d.date, disease=d.disease, kind="diagnosis")
        for d in diagnoses
        if d.date is not None
    ]
    treated = {  # the treatment at the resident's own follow-up (an Encounter) or diagnosis (a Condition)
        link: "false" if m.status == "not-taken" else "true"
        for m in medicines
        if m.treatment in _EVENT_TREATMENTS and (link := _treated_at(m)) is not None
    }
    for event in events:
        if event["kind"] in _AT_EVENT:
            event["on_treatment"] = treated.get((event["kind"], event["resident_id"], event["event_id"]))
    return events


# --------------------------------------------------------------------------------- the forms' pieces as frames


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows as dicts, missing values as ``None``."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")  # type: ignore[no-any-return]


def assemble(residents, observations, conditions, medications, encounters, referrals):  # type: ignore[no-untyped-def]
    """:func:`assemble_records` for pieces given as frames (the BPHS forms): (residents, events) as frames."""
    results = [
        Result(
            r["resident_id"],
            r["date"],
            r["encounter_id"],
            r["column"],
            float("nan") if r["value"] is None else float(r["value"]),
            r["id"],
            r["text"],
        )  # fmt: skip
        for r in _rows(observations)
        if r["resident_id"] is not None and r["date"] is not None
    ]
    diagnoses = [Diagnosis(r["id"], r["resident_id"], r["disease"], r["date"]) for r in _rows(conditions)]
    medicines = [
        Medicine(r["resident_id"], r["treatment"], r["status"], r["encounter_id"], r["condition_id"])
        for r in _rows(medications)
        if r["treatment"] is not None
    ]
    visits = [
        Visit(
            r["id"],
            r["resident_id"],
            r["date"],
            r["disease"],
            r["mode"],
            r["referral_id"],
            {n: r[n] for n in EVENT_EXTENSIONS if r.get(n) is not None},
        )  # fmt: skip
        for r in _rows(encounters)
    ]
    sent = [
        Referral(r["id"], r["resident_id"], r["disease"], r["date"], r["status"], r["returned_date"])
        for r in _rows(referrals)
    ]
    rows, events = assemble_records(_rows(residents), results, diagnoses, medicines, visits, sent)
    return pd.DataFrame(rows), pd.DataFrame(events, columns=list(EVENT_COLUMN_NAMES))
