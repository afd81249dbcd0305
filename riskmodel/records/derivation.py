"""The resident's state derived from their events (SPEC 2.2 and 3): one engine over arrays, for every path.

:func:`derive_event_state` reads a chunk of residents' rows and their validated events
(:class:`riskmodel.records.timeline.Timeline`: the events grouped by resident, in time order) and derives, in
whole-array operations, one row of state per resident with events:

- :mod:`riskmodel.records.daily_results`: each measure's newest value with its date (several readings on one
  day count as their mean, an event winning a day it shares with the row) and the prediabetes history;
- :mod:`riskmodel.records.followup_state`: the follow-ups (newest, face-to-face in the last 365 days,
  registration), referrals, treatment, pregnancy, the uncontrolled streak under the configured control profile
  and the reactions at the newest follow-up;
- :mod:`riskmodel.records.confirmations`: the diabetes and hypertension confirmations with their windows.

The API (a request's nested events, through :mod:`riskmodel.intake`), the batch (each chunk's events read from
the scratch database, :mod:`riskmodel.records.event_files`) and Spark (per resident group, through the intake)
all call :func:`history_state`, so every path derives the same state. :func:`merge_event_state` then combines it
with the row's own state (:func:`riskmodel.records.history.row_state`). The reviewed DuckDB query this engine
replaced is kept as the test oracle (``tests/riskmodel/records/state_query_oracle.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from riskmodel.config import RiskConfig
from riskmodel.records.confirmations import diabetes_confirmation, hypertension_confirmation
from riskmodel.records.daily_results import daily_results, latest_values, prediabetes_history
from riskmodel.records.followup_state import followup_counts, reactions, uncontrolled_streak
from riskmodel.records.history import DISEASE_NAMES, MEASURES, recorded_in_row, row_state
from riskmodel.records.queries import ROW_COLUMNS
from riskmodel.records.timeline import Timeline


@dataclass
class EventState:
    """The state the events give, one entry per resident with events: ``positions`` are their rows (ascending)
    and ``columns`` the derived columns (``resident_id`` first; dates ``datetime64[D]``, NaT for none; numbers
    float64, NaN for none)."""

    positions: np.ndarray
    columns: dict[str, np.ndarray]


def row_inputs(resident_ids: Any, columns: Mapping[str, np.ndarray], recorded: Mapping[str, np.ndarray]) -> dict:
    """What the derivation reads of each resident row (:data:`~riskmodel.records.queries.ROW_COLUMNS`)."""
    out: dict[str, np.ndarray] = {"resident_id": np.asarray(resident_ids, dtype=object)}
    for name in ROW_COLUMNS[1:]:
        if name.endswith("_recorded"):
            out[name] = np.asarray(recorded[name.removesuffix("_recorded")], dtype=bool)
        elif name.endswith("_date"):
            out[name] = np.asarray(columns[name], dtype="datetime64[D]")
        else:
            out[name] = np.asarray(columns[name], dtype=np.float64)
    return out


def derive_event_state(
    rows: Mapping[str, np.ndarray], events: pa.Table, *, as_of: dt.date, config: RiskConfig
) -> EventState:
    """The state the residents' history gives (SPEC 2.2 and 3), for the residents of ``rows`` with events.

    ``rows`` holds :data:`~riskmodel.records.queries.ROW_COLUMNS` (:func:`row_inputs`); ``events`` the validated
    events (:data:`riskmodel.records.events.EVENT_ARROW_SCHEMA`). Events of residents not in ``rows`` are
    ignored: an event never changes another resident.
    """
    timeline = Timeline.of(pa.array(rows["resident_id"], pa.string()), events)
    n, positions = timeline.n, timeline.positions
    if n < len(rows["resident_id"]):
        rows = {name: values[positions] for name, values in rows.items()}  # the residents with events, in order
    daily = daily_results(timeline, rows)
    followups = followup_counts(timeline, as_of=as_of)
    returned = {d: followups[f"{d}_referral_returned_date"] for d in DISEASE_NAMES}
    # A diabetic's BP target (SPEC 4.5, guideline2024) holds for diabetes recorded in the row or by the events, as
    # the 控制率 of the indicators reads it (riskmodel.rules.recorded).
    diabetic = rows["diabetes_recorded"] | (followups["diabetes_recorded_by_events"] == 1.0)
    derived = {
        **latest_values(daily, n),
        **followups,
        **uncontrolled_streak(timeline, {**rows, "diabetes_recorded": diabetic}, returned, config),
        **diabetes_confirmation(daily, n, config),
        **hypertension_confirmation(daily.of("bp"), n, config),
        **reactions(timeline, returned),
        "prediabetes_history": prediabetes_history(daily, n, config),
    }
    columns = {"resident_id": rows["resident_id"]}
    for name, values in derived.items():
        columns[name] = values.view("datetime64[D]") if values.dtype == np.int64 else values
    return EventState(positions, columns)


def merge_event_state(state: Mapping[str, np.ndarray], derived: EventState) -> dict[str, np.ndarray]:
    """The row's state with the events' derivation applied, resident by resident (SPEC 2.2):

    - each measure takes the newest dated value of the row and the events (the derivation already resolved
      ties in the events' favour); a row value that is undated stays only where the events have none;
    - where a resident has follow-up events for a disease, the derived follow-up values replace the row's;
    - confirmations, registration, emergency signs, referrals and prediabetes history come from the derivation.
    """
    out = {name: values.copy() for name, values in state.items()}
    if not len(derived.positions):
        return out
    at = derived.positions

    def column(name: str) -> np.ndarray:
        return derived.columns[name]

    for values, date in MEASURES.values():
        event_date = column(date)
        newer = ~np.isnat(event_date)
        for value in values:
            out[value][at] = np.where(newer, column(value), out[value][at])
        out[date][at] = np.where(newer, event_date, out[date][at])
    random_newer = ~np.isnat(column("random_glucose_date"))
    out["random_glucose_symptoms"][at] = np.where(
        random_newer, column("random_glucose_symptoms"), out["random_glucose_symptoms"][at]
    )
    for d in DISEASE_NAMES:
        has_followups = column(f"{d}_followups") > 0
        for name in ("last_followup_date", "uncontrolled_date"):
            out[f"{d}_{name}"][at] = np.where(has_followups, column(f"{d}_{name}"), out[f"{d}_{name}"][at])
        visits = np.nan_to_num(column(f"{d}_uncontrolled_visits"))
        out[f"{d}_uncontrolled_visits"][at] = np.where(has_followups, visits, out[f"{d}_uncontrolled_visits"][at])
        out[f"{d}_followups_12m"][at] = np.where(has_followups, column(f"{d}_followups_12m"), np.nan)
        # The newest face-to-face of the row (its last_followup_date) and the events; the earliest registration.
        out[f"{d}_last_face_to_face_date"][at] = _newest(
            out[f"{d}_last_face_to_face_date"][at], column(f"{d}_last_face_to_face_date")
        )
        out[f"{d}_registered_date"][at] = _earliest(out[f"{d}_registered_date"][at], column(f"{d}_registered_date"))
        for name in (
            "emergency_date",
            "complication_date",
            "referral_sent_date",
            "referral_open_date",
            "referral_returned_date",
            "adverse_date",
            "diagnosis_date",
            "next_followup_date",
        ):
            out[f"{d}_{name}"][at] = column(f"{d}_{name}")
        out[f"{d}_recorded_by_events"][at] = np.nan_to_num(column(f"{d}_recorded_by_events"))
        treated = column(f"{d}_treated")
        out[f"{d}_treated"][at] = np.where(np.isnan(treated), out[f"{d}_treated"][at], treated)
        # The confirmation is derived from the row's results and the events together: the query's answer stands.
        out[f"{d}_confirmations"][at] = np.nan_to_num(column(f"{d}_confirmations"))
        out[f"{d}_series_lapsed"][at] = np.nan_to_num(column(f"{d}_series_lapsed"))
        for name in ("qualifying_date", "q1_date", "q2_date", "q3_date"):
            out[f"{d}_{name}"][at] = column(f"{d}_{name}")
        for name in ("q1_v1", "q1_v2", "q2_v1", "q2_v2", "q3_v1", "q3_v2"):
            out[f"{d}_{name}"][at] = column(f"{d}_{name}")
    out["prediabetes_history"][at] = np.nan_to_num(column("prediabetes_history"))
    out["last_event_date"][at] = column("last_event_date")
    said = ~np.isnat(column("pregnant_date"))
    out["pregnant"][at] = np.where(said, column("pregnant"), out["pregnant"][at])
    out["pregnant_date"][at] = np.where(said, column("pregnant_date"), out["pregnant_date"][at])
    return out


def _newest(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.where(np.isnat(a) | (b > a), b, a).astype("datetime64[D]")


def _earliest(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.where(np.isnat(a) | (b < a), b, a).astype("datetime64[D]")


def history_state(
    columns: Mapping[str, np.ndarray],
    resident_ids: Any,
    events: pa.Table | None,
    *,
    as_of: dt.date,
    config: RiskConfig,
) -> dict[str, np.ndarray]:
    """The residents' state: the rows' own, with their (validated) events applied where they have any."""
    state = row_state(columns)
    if events is None or events.num_rows == 0:
        return state
    rows = row_inputs(resident_ids, columns, {d: recorded_in_row(columns, d) for d in DISEASE_NAMES})
    return merge_event_state(state, derive_event_state(rows, events, as_of=as_of, config=config))
