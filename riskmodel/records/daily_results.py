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

MEASURE_NAMES = tuple(MEASURES)
"""The measures, in the order their days are kept (bp, fpg, ogtt, hba1c, random_glucose, weight, waist)."""
EVENT_VALUES = {
    "bp": ("sbp_mmhg", "dbp_mmhg"),
    "fpg": ("fpg_mmol_l", None),
    "ogtt": ("ogtt_2h_mmol_l", None),
    "hba1c": ("hba1c_pct", None),
    "random_glucose": ("random_glucose_mmol_l", "symptoms"),
    "weight": ("weight_kg", None),
    "waist": ("waist_cm", None),
}
"""Each measure's values in an event: v1, and v2 (DBP; for a random glucose, typical symptoms as 1.0 / 0.0)."""
ROW_DATES = {"bp": "bp_date", "fpg": "glucose_date", "ogtt": "glucose_date", "hba1c": "glucose_date"}
"""Each measure's date in the resident row (weight and waist: ``exam_date``; a random glucose is an event's only)."""
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
    """Days sorted by (resident, day): the day's mean ``v1`` (and ``v2``: DBP, or for a random glucose the share
    of readings with typical symptoms), and ``off_treatment`` (every reading that day was taken off
    antihypertensive treatment); ``measure`` is each day's measure (its index in :data:`MEASURE_NAMES`), first in
    the order when the days are every measure's."""

    resident: np.ndarray
    day: np.ndarray
    v1: np.ndarray
    v2: np.ndarray
    off_treatment: np.ndarray
    measure: np.ndarray

    def of(self, measure: str) -> DailyResults:
        """One measure's days (a slice: no copy)."""
        code = MEASURE_NAMES.index(measure)
        low, high = np.searchsorted(self.measure, [code, code + 1])
        return DailyResults(*(part[low:high] for part in self.parts()))

    def parts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return self.resident, self.day, self.v1, self.v2, self.off_treatment, self.measure


def _readings(timeline: Timeline) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every event reading as (measure x event) arrays: present, v1, v2, off treatment."""
    values, size = timeline.values, len(timeline.day)
    none = np.full(size, np.nan)
    v1 = np.stack([values[first] for first, _ in EVENT_VALUES.values()])
    v2 = np.stack([none if second is None else values[second] for _, second in EVENT_VALUES.values()])
    v2[MEASURE_NAMES.index("random_glucose")] = timeline.is_true("symptoms")
    present = ~np.isnan(v1)
    present[0] &= ~np.isnan(v2[0])  # a BP is a pair
    off = np.ones(v1.shape, dtype=bool)
    # Off treatment unless the event records treatment for hypertension (or for no disease in particular).
    off[0] = ~(timeline.is_true("on_treatment") & (timeline.coded["disease"] != 0))
    return present, v1, v2, off


def _event_days(timeline: Timeline) -> tuple[np.ndarray, DailyResults]:
    """The events' days of every measure, sorted by (measure, resident, day); and their keys."""
    present, v1, v2, off = _readings(timeline)
    measure, at = np.nonzero(present)  # row-major: by measure, then in the timeline's (resident, day) order
    group, day = timeline.group[at], timeline.day[at]
    key = day_keys(measure * timeline.n + group, day)
    starts = run_starts(key, key)  # the key is the (measure, resident, day)
    counts = np.diff(starts, append=len(at))
    if not len(at):
        empty = np.zeros(0)
        return key, DailyResults(group, day, empty, empty, np.zeros(0, dtype=bool), measure)
    return key[starts], DailyResults(
        group[starts],
        day[starts],
        np.add.reduceat(v1[measure, at], starts) / counts,
        np.add.reduceat(v2[measure, at], starts) / counts,
        np.logical_and.reduceat(off[measure, at], starts),
        measure[starts],
    )


def _row_days(rows: Mapping[str, np.ndarray], n: int) -> tuple[np.ndarray, DailyResults]:
    """The rows' dated readings of every measure (``rows`` in the order of the timeline's residents)."""
    names = [m for m in MEASURE_NAMES if m != "random_glucose"]
    v1 = np.stack([rows[EVENT_VALUES[m][0]] for m in names]).astype(np.float64)
    v2 = np.full(v1.shape, np.nan)
    v2[0] = rows["dbp_mmhg"]
    days = np.stack([day_numbers(rows[ROW_DATES.get(m, "exam_date")]) for m in names])
    present = ~np.isnan(v1) & (days != NO_DAY)
    present[0] &= ~np.isnan(v2[0])
    row_measure, group = np.nonzero(present)
    measure = np.array([MEASURE_NAMES.index(m) for m in names])[row_measure]
    off = np.where(row_measure == 0, ~rows["hypertension_recorded"][group], True)
    day = days[row_measure, group]
    key = day_keys(measure * n + group, day)
    return key, DailyResults(group, day, v1[row_measure, group], v2[row_measure, group], off, measure)


def daily_results(timeline: Timeline, rows: Mapping[str, np.ndarray]) -> DailyResults:
    """Every measure of :data:`riskmodel.records.history.MEASURES`, one value a day per resident: the events'
    days, and the row's where no event of the same measure shares its day (an event wins a tie)."""
    event_keys, events = _event_days(timeline)
    row_keys, row = _row_days(rows, timeline.n)
    if not len(row_keys):
        return events
    found = np.searchsorted(event_keys, row_keys)
    shared = np.zeros(len(row_keys), dtype=bool)
    inside = found < len(event_keys)
    shared[inside] = event_keys[found[inside]] == row_keys[inside]
    keep = ~shared
    order = np.argsort(np.concatenate([event_keys, row_keys[keep]]), kind="stable")
    merged = [np.concatenate([a, b[keep]])[order] for a, b in zip(events.parts(), row.parts(), strict=True)]
    return DailyResults(*merged)


def latest_values(daily: DailyResults, n: int) -> dict[str, np.ndarray]:
    """Each measure's newest day per resident, its value(s) and date (NaN / NaT where none); first, whether
    typical symptoms went with the newest random glucose."""
    who, at = last_in_group(daily.measure * n + daily.resident, np.arange(len(daily.day)))
    measure, resident = np.divmod(who, max(n, 1))
    v1, v2 = np.full((len(MEASURE_NAMES), n), np.nan), np.full((len(MEASURE_NAMES), n), np.nan)
    days = np.full((len(MEASURE_NAMES), n), NO_DAY, dtype=np.int64)
    v1[measure, resident], v2[measure, resident], days[measure, resident] = daily.v1[at], daily.v2[at], daily.day[at]
    out = {"random_glucose_symptoms": v2[MEASURE_NAMES.index("random_glucose")]}
    for code, (names, date) in enumerate(MEASURES.values()):
        for name, values in zip(names, (v1, v2), strict=False):
            out[name] = values[code]
        out[date] = days[code]
    return out


def prediabetes_history(daily: DailyResults, n: int, config: RiskConfig) -> np.ndarray:
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
        days = daily.of(measure)
        found[days.resident[(days.v1 >= low) & (days.v1 < high)]] = True  # resident indices repeat: any will do
    return found.astype(np.float64)
