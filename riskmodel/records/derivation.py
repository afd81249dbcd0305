"""The resident's state derived from their events, as set-based queries (SPEC 2.2 and 3; DuckDB SQL).

The queries live in :mod:`riskmodel.records.queries`, one per thing derived: ``LATEST_VALUES`` (each
measure's newest value with its date, an event winning a tie with the row, several readings on one day
counting as their mean), ``FOLLOWUP_COUNTS`` (last follow-up, face-to-face follow-ups in the last 365 days,
registration, emergency signs, complications, open referrals, what the events record),
``UNCONTROLLED_STREAK`` (consecutive uncontrolled follow-ups counted back from the newest, follow-ups without
the disease's measurement skipped, under the configured control profile) and ``CONFIRMATIONS`` (diabetes: a
second qualifying result on another day, or two tests on one day; hypertension: three days >= 140/90 off
treatment within ``htn_confirmation_window_days``, the newest fresh). This module runs them.

The same queries run for the API (a request's nested events), the batch (DuckDB over files, spilling to disk)
and Spark (per resident partition), so every path derives the same state. :func:`merge_event_state` then
combines it with the row's own state (:func:`riskmodel.records.history.row_state`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from riskmodel.config import RiskConfig
from riskmodel.records.history import DISEASE_NAMES, MEASURES
from riskmodel.records.local_connection import thread_connection
from riskmodel.records.queries import ROW_COLUMNS, state_query


def rows_table(resident_ids: Any, columns: Mapping[str, np.ndarray], recorded: Mapping[str, np.ndarray]) -> pa.Table:
    """The relation ``rows`` for the residents given (their id, age, recorded flags and dated results)."""
    data: dict[str, Any] = {"resident_id": pa.array(resident_ids, pa.string())}
    for name in ROW_COLUMNS[1:]:
        if name.endswith("_recorded"):
            data[name] = pa.array(recorded[name.removesuffix("_recorded")], pa.bool_())
        elif name.endswith("_date"):
            data[name] = pa.array(columns[name].astype("datetime64[D]"), pa.date32())
        else:
            data[name] = pa.array(columns[name], pa.float64(), from_pandas=True)
    return pa.table(data)


def derive_event_state(
    rows: pa.Table,
    events: pa.Table | str,
    *,
    as_of: dt.date,
    config: RiskConfig,
    connection: duckdb.DuckDBPyConnection | None = None,
) -> pa.Table:
    """One row per resident with events: the state columns their history gives (NULL where it gives none).

    ``events`` is an Arrow table of validated events, or the name of a table in ``connection`` holding the
    events of many more residents (the batch's, on disk): only the given residents' events are read.
    """
    con = connection or thread_connection()  # the thread's, kept: opening one costs more than one resident
    try:
        con.register("rows", rows)
        source = events if isinstance(events, str) else "events_given"
        if not isinstance(events, str):
            con.register("events_given", events)
        # Only the given residents' events are read: an event never changes another resident.
        con.execute(f"CREATE OR REPLACE TEMP VIEW events AS SELECT * FROM {source} SEMI JOIN rows USING (resident_id)")
        return con.sql(state_query(config), params={"as_of": as_of}).to_arrow_table()
    finally:
        con.execute("DROP VIEW IF EXISTS events")
        con.unregister("rows")
        if not isinstance(events, str):
            con.unregister("events_given")


def merge_event_state(state: Mapping[str, np.ndarray], resident_ids: Any, derived: pa.Table) -> dict[str, np.ndarray]:
    """The row's state with the events' derivation applied, resident by resident (SPEC 2.2):

    - each measure takes the newest dated value of the row and the events (the query already resolved ties in
      the events' favour); a row value that is undated stays only where the events have none;
    - where a resident has follow-up events for a disease, the derived follow-up values replace the row's;
    - confirmations, registration, emergency signs, referrals and prediabetes history come from the query.
    """
    out = {name: values.copy() for name, values in state.items()}
    if derived.num_rows == 0:
        return out
    ids = np.asarray(resident_ids, dtype=object)
    order = {rid: i for i, rid in enumerate(ids)}
    at = np.array([order[rid] for rid in derived.column("resident_id").to_pylist()], dtype=np.int64)

    def column(name: str) -> np.ndarray:
        values = derived.column(name)
        if pa.types.is_date(values.type):
            return np.asarray(values.to_numpy(zero_copy_only=False), dtype="datetime64[D]")
        return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)

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
    events: pa.Table | str | None,
    *,
    as_of: dt.date,
    config: RiskConfig,
    connection: duckdb.DuckDBPyConnection | None = None,
) -> dict[str, np.ndarray]:
    """The residents' state: the rows' own, with their (validated) events applied where they have any."""
    import pyarrow.compute as pc

    from riskmodel.records.history import recorded_in_row, row_state

    state = row_state(columns)
    if events is None or (isinstance(events, pa.Table) and events.num_rows == 0):
        return state
    with_events = np.ones(len(state["bp_date"]), dtype=bool)
    if isinstance(events, pa.Table):
        ids = pa.array(np.asarray(resident_ids, dtype=object), pa.string())
        found = pc.is_in(ids, value_set=pc.unique(events.column("resident_id")))
        with_events = np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)
        if not with_events.any():
            return state
    rows = rows_table(
        np.asarray(resident_ids, dtype=object)[with_events],
        {name: columns[name][with_events] for name in ROW_COLUMNS[1:] if not name.endswith("_recorded")},
        {d: recorded_in_row(columns, d)[with_events] for d in DISEASE_NAMES},
    )
    derived = derive_event_state(rows, events, as_of=as_of, config=config, connection=connection)
    return merge_event_state(state, resident_ids, derived)
