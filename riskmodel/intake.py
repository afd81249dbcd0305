"""Records in: the one entry from residents and their events to assessments (SPEC 14.1, STYLE rule 3).

Every transport parses its input into residents and events and calls :func:`assess_records`: the batch (a
file's chunks), the Spark engine (a group of residents with their events), the API (typed records), the
MLflow pyfunc (records with nested events) and FHIR (bundles mapped to records). None of them validates,
derives a history or scores by itself; they only parse what comes in and format what goes out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa

from riskmodel.config import RiskConfig
from riskmodel.model.tier_model import RiskModel
from riskmodel.records.derivation import history_state
from riskmodel.records.events import EVENT_ARROW_SCHEMA, events_table, validate_events
from riskmodel.records.reading import cell_text, columns_from_values, resident_columns
from riskmodel.records.schema import EVENT_COLUMNS, RESIDENT_COLUMNS
from riskmodel.records.validation import SeenIds, validate_table
from riskmodel.scoring import Assessment, assess

Records = Sequence[Mapping[str, Any]]
"""Residents or events as mappings of column name to value."""
OWNER_REJECTED = "the resident's record was rejected"
_NO_EVENTS = EVENT_ARROW_SCHEMA.empty_table()  # Arrow tables are immutable: one serves every call


class EventHistory(Protocol):
    """Events validated elsewhere, e.g. the batch's out-of-core scratch database of a county's events."""

    def state(self, columns: Mapping[str, np.ndarray], resident_ids: Any) -> dict[str, np.ndarray]:
        """The derived state of these residents as of the history's date."""
        ...


def no_rejections() -> pd.DataFrame:
    """An empty rejection table (``row_number``, ``errors``)."""
    return pd.DataFrame(columns=["row_number", "errors"])


@dataclass(frozen=True)
class AssessedRecords:
    """What :func:`assess_records` returns.

    Attributes
    ----------
    residents
        The accepted residents, typed per the schema, indexed by their 1-based row number (``None`` for
        records checked at the boundary, which are all accepted and kept as they came).
    columns
        The accepted residents' rule-input columns as read (:func:`riskmodel.records.reading.resident_columns`).
    resident_ids
        The accepted residents' ids, in the order of the assessment.
    positions
        Each accepted resident's 0-based position in the input.
    assessment
        Their assessment (``None`` when no resident was accepted).
    rejected
        One row per rejected resident: ``row_number``, ``errors`` and the values as read.
    events
        The events used, typed (SPEC 2.2).
    rejected_events
        One row per rejected event: ``row_number``, ``errors`` and the values as read.
    """

    residents: pd.DataFrame | None
    columns: dict[str, np.ndarray]
    resident_ids: np.ndarray
    positions: np.ndarray
    assessment: Assessment | None
    _rejected: pd.DataFrame | None
    events: pa.Table
    _rejected_events: pd.DataFrame | None

    # An empty rejection table is built only when asked for: a pandas frame costs more than assessing one
    # resident, and the API never reads it (its records are checked at the boundary).
    @property
    def rejected(self) -> pd.DataFrame:
        return no_rejections() if self._rejected is None else self._rejected

    @property
    def rejected_events(self) -> pd.DataFrame:
        return no_rejections() if self._rejected_events is None else self._rejected_events


def assess_records(
    residents: pa.Table | Records,
    events: pa.Table | Records | EventHistory | None = None,
    *,
    as_of: dt.date,
    model: RiskModel,
    config: RiskConfig | None = None,
    checked: bool = False,
    row_numbers: np.ndarray | None = None,
    seen_ids: SeenIds | None = None,
    known_duplicates: np.ndarray | None = None,
    event_row_numbers: np.ndarray | None = None,
    event_owners: np.ndarray | None = None,
    num_threads: int = 0,
) -> AssessedRecords:
    """Validate residents and events, derive each resident's history as of the date, and assess them.

    Parameters
    ----------
    residents
        Residents as read (an Arrow table, or mappings of text or typed values), validated here by the rules of
        SPEC 2.1 and 8; or, with ``checked``, mappings already typed and checked at the boundary (the API's
        request models, derived from the same schema).
    events
        Their events as read (an Arrow table or mappings, validated here by SPEC 2.2), events already validated
        elsewhere (an :class:`EventHistory`), or ``None`` (a version-1 input).
    as_of
        The date results are judged fresh, events may not pass, and actions fall due against.
    model
        The fitted model; its own config unless ``config`` is given.
    checked
        The residents and events were typed and checked at the boundary: nothing is rejected here.
    row_numbers, seen_ids, known_duplicates
        The residents' 1-based numbers in the whole input, the ids accepted in earlier chunks, and rows found
        elsewhere to repeat an earlier id (see :func:`riskmodel.records.validation.validate_table`).
    event_row_numbers
        The events' 1-based numbers in the whole input.
    event_owners
        For events nested in their resident's record: the 0-based position of each event's resident. An event
        whose resident was rejected is rejected with it; the others belong to their record.
    num_threads
        LightGBM threads (1 is fastest for a handful of residents).
    """
    config = config or model.config
    if checked:
        records = list(residents)  # type: ignore[arg-type]
        columns = columns_from_values(records)
        ids = np.array([record["resident_id"] for record in records], dtype=object)
        accepted_frame, positions = None, np.arange(len(records))
        rejected = None
    else:
        table = residents if isinstance(residents, pa.Table) else _text_table(residents, RESIDENT_COLUMNS)
        chunk = validate_table(table, row_numbers=row_numbers, seen_ids=seen_ids, known_duplicates=known_duplicates)
        accepted_frame, rejected = chunk.residents, chunk.rejected
        numbers = np.arange(1, table.num_rows + 1) if row_numbers is None else np.asarray(row_numbers)
        positions = np.flatnonzero(np.isin(numbers, accepted_frame.index.to_numpy()))
        columns = resident_columns(accepted_frame)
        ids = accepted_frame["resident_id"].to_numpy(dtype=object)
    used, rejected_events, state = _history(
        events,
        columns,
        ids,
        positions,
        as_of=as_of,
        config=config,
        checked=checked,
        event_row_numbers=event_row_numbers,
        event_owners=event_owners,
    )
    assessment = None
    if len(ids):
        assessment = assess(columns, model, as_of=as_of, config=config, state=state, num_threads=num_threads)
    return AssessedRecords(accepted_frame, dict(columns), ids, positions, assessment, rejected, used, rejected_events)


def _history(
    events: pa.Table | Records | EventHistory | None,
    columns: Mapping[str, np.ndarray],
    ids: np.ndarray,
    positions: np.ndarray,
    *,
    as_of: dt.date,
    config: RiskConfig,
    checked: bool,
    event_row_numbers: np.ndarray | None,
    event_owners: np.ndarray | None,
) -> tuple[pa.Table, pd.DataFrame | None, dict[str, np.ndarray] | None]:
    """The events used, the events rejected (``None``: none), and the residents' state (``None``: the rows' own)."""
    if events is None:
        return _NO_EVENTS, None, None
    if hasattr(events, "state"):  # validated elsewhere, out of core
        return _NO_EVENTS, None, events.state(columns, ids)  # type: ignore[union-attr]
    rejected_events: pd.DataFrame | None
    if checked:
        used = events_table(list(events))  # type: ignore[arg-type]
        rejected_events = None
    else:
        table = events if isinstance(events, pa.Table) else _text_table(events, EVENT_COLUMNS)  # type: ignore[arg-type]
        numbers = np.arange(1, table.num_rows + 1) if event_row_numbers is None else np.asarray(event_row_numbers)
        orphaned = np.zeros(table.num_rows, dtype=bool)
        if event_owners is not None:
            orphaned = ~np.isin(np.asarray(event_owners), positions)
        accepted_ids = set(ids.tolist())
        checked_events = validate_events(
            table.filter(pa.array(~orphaned)),
            as_of=as_of,
            row_numbers=numbers[~orphaned],
            known_residents=None
            if event_owners is not None
            else (lambda values: np.array([v in accepted_ids for v in values.to_pylist()], dtype=bool)),
        )
        used, rejected_events = checked_events.events, checked_events.rejected
        if orphaned.any():
            orphans = table.filter(pa.array(orphaned)).to_pandas()
            orphans.insert(0, "errors", OWNER_REJECTED)
            orphans.insert(0, "row_number", numbers[orphaned])
            rejected_events = pd.concat([rejected_events, orphans], ignore_index=True).sort_values("row_number")
    if not len(ids) or used.num_rows == 0:
        return used, rejected_events, None
    return used, rejected_events, history_state(columns, ids, used, as_of=as_of, config=config)


def _text_table(records: Records, schema_columns: Sequence[Any]) -> pa.Table:
    """Mappings as the text a CSV would hold, one column per name that appears (schema columns first)."""
    records = list(records)
    names = [c.name for c in schema_columns if any(c.name in r for r in records)]
    names += [n for n in dict.fromkeys(n for r in records for n in r) if n not in names]
    return pa.table({name: pa.array([cell_text(r.get(name)) for r in records], pa.string()) for name in names})
