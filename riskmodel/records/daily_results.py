"""Every measure of the row and the events, one value a day, and what is read from them (SPEC 2.2).

:func:`daily_results` puts each measure's readings (the resident row's dated result, the events' readings)
into one series per resident: several readings on one day count as that day's mean, and a day with an event
reading leaves out the row's reading of that day (an event wins a tie). :func:`latest_values` reads each
measure's newest day with its value and date; :func:`prediabetes_history` whether any day was in the
prediabetes range.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from riskmodel.config import RiskConfig
from riskmodel.records.history import MEASURES
from riskmodel.records.timeline import NO_DAY, Timeline, day_numbers, last_in_group
from riskmodel.rules.guidelines.glycaemia import (
    FPG_DIABETES_MMOL_L,
    FPG_IFG_ADA_MMOL_L,
    FPG_IFG_WHO_MMOL_L,
    HBA1C_DIABETES_PCT,
    HBA1C_PREDIABETES_PCT,
    OGTT_2H_DIABETES_MMOL_L,
    OGTT_2H_IGT_MMOL_L,
)

ROW_SOURCES = {
    "bp": ("sbp_mmhg", "dbp_mmhg", "bp_date"),
    "fpg": ("fpg_mmol_l", None, "glucose_date"),
    "ogtt": ("ogtt_2h_mmol_l", None, "glucose_date"),
    "hba1c": ("hba1c_pct", None, "glucose_date"),
    "weight": ("weight_kg", None, "exam_date"),
    "waist": ("waist_cm", None, "exam_date"),
}
"""Each measure's values and date in the resident row (a random glucose is an event's only)."""
DAY_SPAN = 1 << 33
"""A (resident, day) pair as one key: resident * DAY_SPAN + day + DAY_SPAN // 2 (days fit either side)."""


def day_keys(resident: np.ndarray, day: np.ndarray) -> np.ndarray:
    """One sortable int64 per (resident, day)."""
    return resident * DAY_SPAN + (day + DAY_SPAN // 2)


def run_starts(resident: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Where each run of one (resident, day) begins, in arrays sorted by (resident, day)."""
    start = np.empty(len(day), dtype=bool)
    start[:1] = True
    np.not_equal(resident[1:], resident[:-1], out=start[1:])
    start[1:] |= day[1:] != day[:-1]
    return np.flatnonzero(start)


@dataclass
class DailyResults:
    """One measure's days, sorted by (resident, day): the day's mean ``v1`` (and ``v2``: DBP, or for a random
    glucose the share of readings with typical symptoms), and ``off_treatment`` (every reading that day was
    taken off antihypertensive treatment)."""

    resident: np.ndarray
    day: np.ndarray
    v1: np.ndarray
    v2: np.ndarray
    off_treatment: np.ndarray

    @property
    def key(self) -> np.ndarray:
        return day_keys(self.resident, self.day)


def _event_days(timeline: Timeline, measure: str) -> DailyResults:
    values = timeline.values
    second: np.ndarray | None = None
    if measure == "bp":
        first, second = values["sbp_mmhg"], values["dbp_mmhg"]
        at = np.flatnonzero(~np.isnan(first) & ~np.isnan(second))
        # Off treatment unless the event records treatment for hypertension (or for no disease in particular).
        treated = timeline.is_true("on_treatment") & (timeline.coded["disease"] != 0)
        off = ~treated[at]
    else:
        first = values[ROW_SOURCES[measure][0] if measure in ROW_SOURCES else "random_glucose_mmol_l"]
        at = np.flatnonzero(~np.isnan(first))
        if measure == "random_glucose":
            second = timeline.is_true("symptoms").astype(np.float64)
        off = np.ones(len(at), dtype=bool)
    resident, day = timeline.group[at], timeline.day[at]
    if not len(at):
        return DailyResults(resident, day, first[at], first[at], off)
    starts = run_starts(resident, day)
    counts = np.diff(starts, append=len(at))
    v1 = np.add.reduceat(first[at], starts) / counts
    v2 = np.add.reduceat(second[at], starts) / counts if second is not None else np.full(len(starts), np.nan)
    return DailyResults(resident[starts], day[starts], v1, v2, np.logical_and.reduceat(off, starts))


def _row_days(rows: Mapping[str, np.ndarray], measure: str) -> DailyResults:
    """The row's reading of the measure, where it is dated (``rows`` in the order of the timeline's residents)."""
    first, second, date = ROW_SOURCES[measure]
    days = day_numbers(rows[date])
    v1 = rows[first].astype(np.float64)
    v2 = rows[second].astype(np.float64) if second else np.full(len(v1), np.nan)
    present = ~np.isnan(v1) & (days != NO_DAY) & (~np.isnan(v2) if second else True)
    at = np.flatnonzero(present)
    off = ~rows["hypertension_recorded"][at] if measure == "bp" else np.ones(len(at), dtype=bool)
    return DailyResults(at.astype(np.int64), days[at], v1[at], v2[at], off.astype(bool))


def _merged(events: DailyResults, row: DailyResults) -> DailyResults:
    """The events' days and the row's days that no event day of the same resident shares, in order."""
    if not len(row.day):
        return events
    event_keys, row_keys = events.key, row.key
    found = np.minimum(np.searchsorted(event_keys, row_keys), max(len(event_keys) - 1, 0))
    keep = event_keys[found] != row_keys if len(event_keys) else np.ones(len(row_keys), dtype=bool)
    parts = [
        np.concatenate([getattr(events, name), getattr(row, name)[keep]])
        for name in ("resident", "day", "v1", "v2", "off_treatment")
    ]
    order = np.argsort(day_keys(parts[0], parts[1]), kind="stable")
    return DailyResults(*(part[order] for part in parts))


def daily_results(timeline: Timeline, rows: Mapping[str, np.ndarray]) -> dict[str, DailyResults]:
    """Each measure of :data:`riskmodel.records.history.MEASURES`, one value a day per resident."""
    out = {}
    for measure in MEASURES:
        events = _event_days(timeline, measure)
        out[measure] = _merged(events, _row_days(rows, measure)) if measure in ROW_SOURCES else events
    return out


def latest_values(daily: Mapping[str, DailyResults], n: int) -> dict[str, np.ndarray]:
    """Each measure's newest day per resident, its value(s) and date (NaN / NaT where none); first, whether
    typical symptoms went with the newest random glucose."""
    out: dict[str, np.ndarray] = {}
    for measure, (names, date) in MEASURES.items():
        days = daily[measure]
        who, at = last_in_group(days.resident, np.arange(len(days.resident)))
        for name, values in zip(names, (days.v1, days.v2), strict=False):
            out[name] = np.full(n, np.nan)
            out[name][who] = values[at]
        if measure == "random_glucose":
            out["random_glucose_symptoms"] = np.full(n, np.nan)
            out["random_glucose_symptoms"][who] = days.v2[at]
        out[date] = np.full(n, NO_DAY, dtype=np.int64)
        out[date][who] = days.day[at]
    return {"random_glucose_symptoms": out.pop("random_glucose_symptoms"), **out}


def prediabetes_history(daily: Mapping[str, DailyResults], n: int, config: RiskConfig) -> np.ndarray:
    """1.0 where any day's result is in the prediabetes range (IFG, IGT, and HbA1c 5.7-6.4 % where the
    configuration counts it), else 0.0 [CDS2020; ADA].

    References
    ----------
    CDS 2020, Guideline for the prevention and treatment of type 2 diabetes in China; ADA Standards of Care.
    """
    ifg_low = FPG_IFG_ADA_MMOL_L if config.glycaemia.criteria == "ada" else FPG_IFG_WHO_MMOL_L
    ranges = [("fpg", ifg_low, FPG_DIABETES_MMOL_L), ("ogtt", OGTT_2H_IGT_MMOL_L, OGTT_2H_DIABETES_MMOL_L)]
    if config.glycaemia.hba1c_prediabetes:
        ranges.append(("hba1c", HBA1C_PREDIABETES_PCT, HBA1C_DIABETES_PCT))
    found = np.zeros(n, dtype=bool)
    for measure, low, high in ranges:
        days = daily[measure]
        found[days.resident[(days.v1 >= low) & (days.v1 < high)]] = True  # resident indices repeat: any will do
    return found.astype(np.float64)
