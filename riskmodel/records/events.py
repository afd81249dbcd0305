"""Events: the resident's history (SPEC 2.2), read and validated like resident rows.

A bad event is rejected with its row number and reason (an unknown resident, a date after the as-of date,
a repeated ``event_id`` for the same resident, a value out of range, an impossible date, a disease missing
where the kind needs one), and the resident is scored on the rest: events in = events used + events
rejected, always. An event never changes another resident: events are matched to residents by id only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskmodel.records.schema import ARROW_TYPES, EVENT_COLUMNS, REQUIRED_EVENT_COLUMNS
from riskmodel.records.validation import (
    SeenIds,
    _coerce,
    _identifier_check,
    _mask,
    _Problems,
    _range_check,
    _rejected_frame,
    check_column_type,
    check_required_columns,
)

DISEASE_REQUIRED_FOR = ("followup", "diagnosis", "referral")

EVENT_ARROW_SCHEMA = pa.schema([pa.field(c.name, ARROW_TYPES[c.kind]) for c in EVENT_COLUMNS])
"""Validated events, typed: what the history derivation reads."""


@dataclass
class ValidatedEvents:
    """One chunk of events after validation: every row typed, the 0-based positions of the rows kept
    (ascending), and the rejected rows with their reasons."""

    typed: pa.Table
    kept: np.ndarray
    rejected: pd.DataFrame

    @cached_property
    def events(self) -> pa.Table:
        """The events kept, typed (SPEC 2.2)."""
        if len(self.kept) == self.typed.num_rows:
            return self.typed
        return self.typed.take(pa.array(self.kept, pa.int64()))


def check_event_columns(columns: Sequence[str], source: str) -> None:
    """Raise a one-line error naming the required event columns that are missing."""
    check_required_columns(columns, source, REQUIRED_EVENT_COLUMNS, "event column")


def event_keys(resident_ids: pa.Array, event_ids: pa.Array) -> np.ndarray:
    """64-bit hashes of (resident_id, event_id): an event_id is unique per resident (SPEC 2.2)."""
    return SeenIds.hash(resident_ids, event_ids)


NEXT_FOLLOWUP_BEFORE_EVENT = "next_followup_date is before the event's own date (it is agreed at this follow-up)"


def validate_events(
    table: pa.Table,
    *,
    as_of: dt.date,
    first_row_number: int = 1,
    known_residents: Callable[[pa.Array], np.ndarray] | None = None,
    seen: SeenIds | None = None,
    row_numbers: np.ndarray | None = None,
) -> ValidatedEvents:
    """Coerce and validate one chunk of raw events.

    Parameters
    ----------
    table
        Raw events as read (strings from CSV, typed columns from Parquet).
    as_of
        Events dated after it are rejected.
    known_residents
        Given the chunk's resident ids, which belong to a resident of the batch; events of others are
        rejected as unknown. ``None`` accepts every id (the caller matches them).
    seen
        (resident_id, event_id) keys accepted in earlier chunks; a repeat is rejected (the first copy is used).
    """
    check_event_columns(table.column_names, "events")
    n_rows = table.num_rows
    problems = _Problems(n_rows)
    typed: dict[str, Any] = {}
    for column in EVENT_COLUMNS:
        if column.name not in table.column_names:
            typed[column.name] = pa.nulls(n_rows, ARROW_TYPES[column.kind])
            continue
        check_column_type(table.column(column.name), column, "events")
        coerced = _coerce(table.column(column.name), column)
        problems.add(coerced.bad, column.name, coerced.reason)
        values = coerced.values.combine_chunks() if isinstance(coerced.values, pa.ChunkedArray) else coerced.values
        typed[column.name] = pc.cast(values, ARROW_TYPES[column.kind])
        if column.required:
            problems.add(_mask(pc.is_null(values)) & ~coerced.bad, column.name, "required value is missing")
        if column.kind in ("float", "int"):
            _range_check(np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64), column, problems)
        if column.kind == "str":
            _identifier_check(values, column.name, problems)
    with np.errstate(invalid="ignore"):
        sbp = np.asarray(typed["sbp_mmhg"].to_numpy(zero_copy_only=False), dtype=np.float64)
        dbp = np.asarray(typed["dbp_mmhg"].to_numpy(zero_copy_only=False), dtype=np.float64)
        problems.add(sbp <= dbp, "sbp_mmhg", "systolic BP must be above diastolic BP")
    needs_disease = _mask(pc.is_in(typed["kind"], value_set=pa.array(DISEASE_REQUIRED_FOR)))
    problems.add(
        needs_disease & _mask(pc.is_null(typed["disease"])), "disease", "required for followup, diagnosis and referral"
    )
    is_status = _mask(pc.equal(typed["kind"], "status"))
    problems.add(is_status & _mask(pc.is_null(typed["status"])), "status", "required for status events")
    agreed_before = _mask(pc.less(typed["next_followup_date"], typed["event_date"]))
    problems.add(agreed_before, "next_followup_date", NEXT_FOLLOWUP_BEFORE_EVENT)
    after = _mask(pc.greater(typed["event_date"], pa.scalar(as_of, pa.date32())))
    problems.add(after, "event_date", f"after the as-of date {as_of}")
    if known_residents is not None:
        present = _mask(pc.is_valid(typed["resident_id"]))
        unknown = present & ~known_residents(typed["resident_id"])
        problems.add(unknown, "resident_id", "not a resident of this batch (unknown or rejected)")
    keys = event_keys(typed["resident_id"], typed["event_id"])
    valid_key = _mask(pc.and_(pc.is_valid(typed["resident_id"]), pc.is_valid(typed["event_id"])))
    repeated = valid_key & pd.Series(keys).duplicated(keep="first").to_numpy()
    if seen is not None:
        repeated |= valid_key & seen.contains(keys)
    problems.add(repeated & ~problems.any, "event_id", "duplicate event_id for this resident (the first copy is used)")

    if row_numbers is None:
        row_numbers = np.arange(first_row_number, first_row_number + n_rows)
    good = ~problems.any
    if seen is not None:
        seen.add(keys[good])
    rejected = _rejected_frame(table, row_numbers[~good], np.flatnonzero(~good), problems.messages())
    return ValidatedEvents(pa.table(typed, schema=EVENT_ARROW_SCHEMA), np.flatnonzero(good), rejected)


def events_table(records: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Typed events from already-checked mappings (the API's nested events), in the validated schema."""
    columns = {
        column.name: pa.array([record.get(column.name) for record in records], ARROW_TYPES[column.kind])
        for column in EVENT_COLUMNS
    }
    return pa.table(columns, schema=EVENT_ARROW_SCHEMA)


def empty_events() -> pa.Table:
    return EVENT_ARROW_SCHEMA.empty_table()


def iter_validated_events(
    path: str | Path,
    *,
    as_of: dt.date,
    known_residents: Callable[[pa.Array], np.ndarray] | None,
    chunk_rows: int = 500_000,
    encoding: str = "utf-8",
) -> Iterator[ValidatedEvents]:
    """Read and validate an events file (CSV or Parquet) chunk by chunk, in bounded memory."""
    from riskmodel.records.reading import file_columns, iter_file_tables

    path = Path(path)
    check_event_columns(file_columns(path, encoding), str(path))
    seen = SeenIds()
    for raw in iter_file_tables(path, chunk_rows=chunk_rows, encoding=encoding):
        chunk = validate_events(
            raw.table, as_of=as_of, row_numbers=raw.row_numbers, known_residents=known_residents, seen=seen
        )
        if len(raw.malformed):
            chunk = ValidatedEvents(
                chunk.typed, chunk.kept, pd.concat([chunk.rejected, raw.malformed], ignore_index=True)
            )
        yield chunk
