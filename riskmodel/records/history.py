"""A resident's state as of a date, derived from the resident row and (optionally) their events (SPEC 2.2).

The state is a set of columns, one value per resident, each measure with its date (STYLE: a value travels
with its date). It is derived once and every rule reads it: tiers, confirmation, actions and reasons, in
the API, the batch, the Spark job and the work list alike.

Without events (a version-1 input) the state is the row's own: every glucose result carries
``glucose_date``, the BP ``bp_date``, and ``last_followup_date`` / ``uncontrolled_visits`` stand for both
diseases, as in version 1. With events, :func:`riskmodel.records.derivation.derive_event_state` derives the same
columns from the history (arrays) and :func:`~riskmodel.records.derivation.merge_event_state` combines them with
the row under SPEC 2.2's rules.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from riskmodel.rules.guidelines.blood_pressure import DBP_HYPERTENSION_MMHG, SBP_HYPERTENSION_MMHG
from riskmodel.rules.guidelines.glycaemia import (
    FPG_DIABETES_MMOL_L,
    HBA1C_DIABETES_PCT,
    OGTT_2H_DIABETES_MMOL_L,
)
from riskmodel.rules.recorded import recorded, recorded_in_row

__all__ = [
    "DISEASE_NAMES",
    "MEASURES",
    "STATE_COLUMNS",
    "STATE_DATE_COLUMNS",
    "STATE_NUMBER_COLUMNS",
    "recorded",  # a rule (riskmodel.rules.recorded), re-exported for the records module
    "recorded_in_row",
    "row_state",
    "with_latest_values",
]

DISEASE_NAMES = ("diabetes", "hypertension")

MEASURES: dict[str, tuple[tuple[str, ...], str]] = {
    "bp": (("sbp_mmhg", "dbp_mmhg"), "bp_date"),
    "fpg": (("fpg_mmol_l",), "fpg_date"),
    "ogtt": (("ogtt_2h_mmol_l",), "ogtt_date"),
    "hba1c": (("hba1c_pct",), "hba1c_date"),
    "random_glucose": (("random_glucose_mmol_l",), "random_glucose_date"),
    "weight": (("weight_kg",), "weight_date"),
    "waist": (("waist_cm",), "waist_date"),
}
"""Each measure: its value columns and the column of its date."""

PER_DISEASE_DATES = (
    "last_followup_date",
    "uncontrolled_date",
    "registered_date",
    "emergency_date",
    "complication_date",
    "referral_sent_date",
    "qualifying_date",
    "last_face_to_face_date",
    "referral_open_date",
    "referral_returned_date",
    "adverse_date",
    "diagnosis_date",
    "q1_date",
    "q2_date",
    "q3_date",
    "next_followup_date",
)
"""Per disease, the dates the rules read (version 3 adds: the last face-to-face follow-up; a referral episode
open (sent, not yet returned) and the last return; a first adverse reaction; the newest diagnosis event; and
the dates of the qualifying results shown with a confirmation, newest first; the next follow-up date agreed
at the newest follow-up, SPEC 14.4)."""
PER_DISEASE_NUMBERS = (
    "followups_12m",
    "uncontrolled_visits",
    "confirmations",
    "recorded_by_events",
    "treated",
    "series_lapsed",
    "q1_v1",
    "q1_v2",
    "q2_v1",
    "q2_v2",
    "q3_v1",
    "q3_v2",
)
"""Per disease, the numbers the rules read. ``confirmations``: a completed confirmation (3 BP days, or 2
diabetes results) stands once met (SPEC 13.2); otherwise the qualifying results of the current series.
``series_lapsed``: an earlier hypertension series lapsed before completing (the count restarted).
``q<k>_v1`` / ``q<k>_v2``: the qualifying results shown (hypertension: SBP / DBP; diabetes: value / the
measure's code in :data:`QUALIFYING_MEASURES`). ``treated``: on drug treatment for the disease (the newest
event that says so, or the row's treatment flag)."""
QUALIFYING_MEASURES = {1: "fpg", 2: "ogtt", 3: "hba1c", 4: "random_glucose"}
"""Codes of the diabetes results that qualify for a diagnosis (a random glucose only with typical symptoms)."""
RESIDENT_NUMBERS = ("random_glucose_symptoms", "pregnant")
RESIDENT_DATES = ("last_event_date", "pregnant_date")
"""Per resident: typical symptoms recorded with the newest random glucose; pregnancy (the newest event that
says, else the row's) and its date; the newest event of any kind (whether anything happened since a task)."""

STATE_DATE_COLUMNS: tuple[str, ...] = (
    *(date for _, date in MEASURES.values()),
    *(f"{d}_{name}" for d in DISEASE_NAMES for name in PER_DISEASE_DATES),
    *RESIDENT_DATES,
)
STATE_NUMBER_COLUMNS: tuple[str, ...] = (
    *(value for values, _ in MEASURES.values() for value in values),
    *(f"{d}_{name}" for d in DISEASE_NAMES for name in PER_DISEASE_NUMBERS),
    "prediabetes_history",
    *RESIDENT_NUMBERS,
)
STATE_COLUMNS: tuple[str, ...] = (*STATE_NUMBER_COLUMNS, *STATE_DATE_COLUMNS)
"""Every state column; the store keeps them per batch so a work list can be rebuilt without the events."""

_ROW_DATES = {"bp": "bp_date", "fpg": "glucose_date", "ogtt": "glucose_date", "hba1c": "glucose_date"}
_BODY_DATE = "exam_date"
_ROW_VALUES = tuple(value for values, _ in MEASURES.values() for value in values)
_FIRST_VALUE = np.cumsum([0, *(len(values) for values, _ in MEASURES.values())])[:-1]
"""Where each measure's values begin in :data:`_ROW_VALUES` (a measure is present when any of them is)."""
_DISEASE_DATES = tuple(f"{d}_{name}" for d in DISEASE_NAMES for name in PER_DISEASE_DATES)
_REGISTERED = {"diabetes": "dm_registered_date", "hypertension": "htn_registered_date"}
_TREATMENT = {"diabetes": "on_glucose_lowering", "hypertension": "on_antihypertensive"}
_BLANK_NUMBERS = ("diabetes_q3_v1", "diabetes_q3_v2", *(f"hypertension_q{k}_v{v}" for k in (2, 3) for v in (1, 2)))
"""Numbers a row never fills: the third result shown for diabetes; the second and third for hypertension."""
_DM_QUALIFYING = (
    ("fpg_mmol_l", FPG_DIABETES_MMOL_L),
    ("ogtt_2h_mmol_l", OGTT_2H_DIABETES_MMOL_L),
    ("hba1c_pct", HBA1C_DIABETES_PCT),
)
"""The row's diabetes results in the order their codes run (1 fpg, 2 ogtt, 3 hba1c), with their thresholds."""


def row_state(columns: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The state a version-1 resident row implies on its own (no events).

    Each kind of column is one block (numbers float64, dates ``datetime64[D]``) and the state's columns are its
    rows: one resident costs the same few dozen numpy calls as a million."""
    n = len(columns["age_years"])
    state: dict[str, np.ndarray] = {}
    nan, nat = np.full(n, np.nan), np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    values = np.array([columns.get(value, nan) for value in _ROW_VALUES], dtype=np.float64)
    present = np.logical_or.reduceat(~np.isnan(values), _FIRST_VALUE, axis=0)
    sources = [columns.get(_ROW_DATES.get(measure, _BODY_DATE), nat) for measure in MEASURES]
    dates = np.where(present, np.array(sources, dtype="datetime64[D]"), np.datetime64("NaT", "D"))
    state.update(zip(_ROW_VALUES, values, strict=True))
    state.update(zip((date for _, date in MEASURES.values()), dates, strict=True))
    state.update(
        zip(_DISEASE_DATES, np.full((len(_DISEASE_DATES), n), np.datetime64("NaT"), dtype="datetime64[D]"), strict=True)
    )
    followup = columns["last_followup_date"].astype("datetime64[D]")
    visits = columns["uncontrolled_visits"]
    uncontrolled = np.where(visits >= 1, followup, np.datetime64("NaT", "D"))
    blanks = iter(np.full((len(_BLANK_NUMBERS) + 3, n), np.nan))
    state.update(zip(_BLANK_NUMBERS, blanks, strict=False))  # stops after the names: three blanks are left
    for disease in DISEASE_NAMES:
        state[f"{disease}_last_followup_date"] = followup
        state[f"{disease}_last_face_to_face_date"] = followup  # the row's is the last face-to-face (SPEC 2.1)
        state[f"{disease}_followups_12m"] = next(blanks)
        state[f"{disease}_uncontrolled_visits"] = visits.astype(np.float64)
        state[f"{disease}_uncontrolled_date"] = uncontrolled.copy()
        state[f"{disease}_registered_date"][:] = columns.get(_REGISTERED[disease], nat)
        state[f"{disease}_recorded_by_events"] = np.zeros(n)
        state[f"{disease}_treated"] = np.array(columns.get(_TREATMENT[disease], nan), dtype=np.float64)
        state[f"{disease}_series_lapsed"] = np.zeros(n)
    state.update(_row_confirmations(state, columns["glucose_date"].astype("datetime64[D]"), n))
    state["prediabetes_history"] = np.zeros(n)  # the rules add the row's own results (riskmodel.rules.tiers)
    state["random_glucose_symptoms"] = next(blanks)
    state["pregnant"] = np.array(columns.get("pregnant", nan), dtype=np.float64)
    state["pregnant_date"] = nat.copy()
    state["last_event_date"] = nat.copy()
    return state


def _row_confirmations(state: Mapping[str, np.ndarray], glucose_date: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """The confirmation columns of the row's own results: one row holds one day's results, so two different
    diabetes tests on it confirm (CDS 2020); one BP is one reading."""
    out: dict[str, np.ndarray] = {}
    qualifying = np.array([state[name] >= threshold for name, threshold in _DM_QUALIFYING])
    dm_tests = qualifying.sum(axis=0, dtype=np.int8)
    out["diabetes_confirmations"] = np.minimum(dm_tests, 2).astype(np.float64)
    out["diabetes_qualifying_date"] = np.where(dm_tests > 0, glucose_date, np.datetime64("NaT", "D"))
    # The k-th qualifying result in the order fpg, ogtt, hba1c: its value, its code, its date.
    taken = np.cumsum(qualifying, axis=0, dtype=np.int8)
    results = np.array([state[name] for name, _ in _DM_QUALIFYING])
    codes = np.arange(1.0, len(_DM_QUALIFYING) + 1.0)[:, None]
    for k in (1, 2):  # a row shows at most two (q3 stays blank)
        put = qualifying & (taken == k)
        found, at = put.any(axis=0), put.argmax(axis=0)
        out[f"diabetes_q{k}_v1"] = np.where(found, results[at, np.arange(n)], np.nan)
        out[f"diabetes_q{k}_v2"] = np.where(found, codes[at, 0], np.nan)
        out[f"diabetes_q{k}_date"] = np.where(found, glucose_date, np.datetime64("NaT", "D"))
    htn = (state["sbp_mmhg"] >= SBP_HYPERTENSION_MMHG) | (state["dbp_mmhg"] >= DBP_HYPERTENSION_MMHG)
    out["hypertension_confirmations"] = htn.astype(np.float64)
    out["hypertension_qualifying_date"] = np.where(htn, state["bp_date"], np.datetime64("NaT", "D"))
    out["hypertension_q1_v1"] = np.where(htn, state["sbp_mmhg"], np.nan)
    out["hypertension_q1_v2"] = np.where(htn, state["dbp_mmhg"], np.nan)
    out["hypertension_q1_date"] = out["hypertension_qualifying_date"]
    return out


def with_latest_values(columns: Mapping[str, np.ndarray], state: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The resident columns with each measure replaced by its latest value from the state.

    BMI follows a newer weight when the height is known; the row's dates are left as they were (the
    state's per-measure dates are what the rules read).
    """
    out = dict(columns)
    for values, _ in MEASURES.values():
        for value in values:
            if value in out:
                out[value] = state[value]
    if "weight_kg" in columns:
        changed = ~np.isnan(state["weight_kg"]) & (state["weight_kg"] != columns["weight_kg"])
        height_m = columns["height_cm"] / 100.0
        with np.errstate(invalid="ignore", divide="ignore"):
            bmi = np.round(state["weight_kg"] / (height_m * height_m), 1)
        out["bmi_kg_m2"] = np.where(changed & ~np.isnan(bmi), bmi, columns["bmi_kg_m2"])
    return out
