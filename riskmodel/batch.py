"""Batch scoring of a file (SPEC sections 7 and 8): read, validate, score, write, in bounded memory.

The input is streamed in chunks; each chunk is validated, scored through :func:`riskmodel.scoring.assess`
and appended to the output (Parquet or CSV by extension) and to the rejected-rows file beside it
(``<stem>.rejected.<ext>``). Both are written under temporary names and renamed only when the whole input
is done, so a failure leaves nothing partial. Rows in = rows scored + rows rejected, always.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from riskmodel.config import RiskConfig
from riskmodel.exceptions import InputFileError, PublishRefusedError
from riskmodel.indicators.compute import resident_table
from riskmodel.intake import assess_records
from riskmodel.model.tier_model import RiskModel
from riskmodel.monitoring.batch import BatchMonitor
from riskmodel.records.event_files import EVENTS_TABLE, SCORED_TABLE, BatchEvents
from riskmodel.records.event_parts import PART_ROWS
from riskmodel.records.events import check_event_columns
from riskmodel.records.reading import DEFAULT_CHUNK_ROWS, RawChunk, file_columns, iter_raw_tables, iter_validated
from riskmodel.records.schema import ARROW_TYPES, OUTPUT_COLUMNS, RESIDENT_COLUMNS
from riskmodel.records.validation import SeenIds
from riskmodel.records.writing import csv_safe_names, csv_safe_table, owner_only
from riskmodel.scoring import with_outputs
from riskmodel.store.batches import ResultStore
from riskmodel.store.locks import StoreLock

logger = logging.getLogger(__name__)
PROGRESS_ROWS = PART_ROWS
"""Rows scored between two progress reports: the bar moves during a read chunk, not in 250,000-row jumps; and
the rows of one part of the batch's events, so that a slice reads its residents' events whole."""

_OUTPUT_ARROW = (
    {name: pa.float64() for name in OUTPUT_COLUMNS if "_p_" in name}
    | {name: pa.bool_() for name in OUTPUT_COLUMNS if name.endswith(("_confirmed", "_guideline_high_risk"))}
    | {
        "cdrs_points": pa.int64(),
        "due_date": pa.date32(),
        "priority": pa.float64(),
    }
)


@dataclass
class BatchSummary:
    """Counts of one batch run."""

    rows_read: int = 0
    rows_scored: int = 0
    rows_rejected: int = 0
    tiers: dict[str, Counter[str]] = field(
        default_factory=lambda: {"diabetes_tier": Counter(), "hypertension_tier": Counter(), "overall_tier": Counter()}
    )
    actions: Counter[str] = field(default_factory=Counter)
    output: Path | None = None
    rejected_output: Path | None = None
    batch_id: str | None = None
    events_read: int = 0
    events_used: int = 0
    events_rejected: int = 0
    events_rejected_output: Path | None = None
    monitoring: dict[str, Any] | None = None


def check_output(output: Path) -> None:
    """An output must be .csv or .parquet (checked before any work starts)."""
    if output.suffix.lower() not in {".csv", ".parquet"}:
        raise InputFileError(f"{output}: choose a .csv or .parquet output")


def rejected_path(output: Path) -> Path:
    """``<output stem>.rejected.<ext>`` beside the output (SPEC section 7)."""
    return output.with_name(f"{output.stem}.rejected{output.suffix}")


def events_rejected_path(output: Path) -> Path:
    """``<output stem>.events.rejected.<ext>`` beside the output (SPEC section 7)."""
    return output.with_name(f"{output.stem}.events.rejected{output.suffix}")


def output_schema(extra_columns: list[str]) -> pa.Schema:
    """The Arrow schema of the batch output: schema columns, extra input columns (text), output columns."""
    fields = [pa.field(c.name, ARROW_TYPES[c.kind]) for c in RESIDENT_COLUMNS]
    fields += [pa.field(name, pa.string()) for name in extra_columns]
    fields += [pa.field(name, _OUTPUT_ARROW.get(name, pa.string())) for name in OUTPUT_COLUMNS]
    return pa.schema(fields)


def rejected_schema(input_columns: list[str]) -> pa.Schema:
    return pa.schema(
        [pa.field("row_number", pa.int64()), pa.field("errors", pa.string())]
        + [pa.field(name, pa.string()) for name in input_columns]
    )


class _TableWriter:
    """Appends Arrow tables to a Parquet or CSV file under a temporary name; ``commit`` renames it."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path = path
        self.partial = path.with_name(f".{path.name}.partial")
        self.schema = schema
        path.parent.mkdir(parents=True, exist_ok=True)
        self._writer: pq.ParquetWriter | pacsv.CSVWriter
        owner_only(self.partial)  # SPEC 16: residents' data, readable by the owner only; the rename keeps it
        if path.suffix.lower() == ".csv":
            names = csv_safe_names(schema.names)  # headers escaped like cells
            header = pa.schema([field.with_name(name) for field, name in zip(schema, names, strict=True)])
            self._writer = pacsv.CSVWriter(self.partial, header)
        else:
            self._writer = pq.ParquetWriter(self.partial, schema, compression="zstd")

    def write(self, frame: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(frame, schema=self.schema, preserve_index=False, safe=False)
        if self.path.suffix.lower() == ".csv":
            table = csv_safe_table(table)  # SPEC 8: no cell a spreadsheet would run as a formula
        self._writer.write_table(table)

    def commit(self) -> None:
        self._writer.close()
        self.partial.replace(self.path)

    def abort(self) -> None:
        try:
            self._writer.close()
        finally:
            self.partial.unlink(missing_ok=True)


def _output_frame(scored: pd.DataFrame, schema: pa.Schema) -> pd.DataFrame:
    frame = scored.reset_index(drop=True)
    for name in schema.names:
        if name not in frame.columns:
            frame[name] = None
    frame = frame[schema.names]
    # datetime64 columns stay as they are: Arrow casts them to date32 by the output schema.
    return frame


def score_chunks(
    chunks: Iterator[RawChunk],
    model: RiskModel,
    *,
    as_of: dt.date,
    config: RiskConfig,
    events: BatchEvents | None = None,
    monitor: BatchMonitor | None = None,
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Score a file's chunks as read: yields (scored frame, rejected frame) per slice. Shared by every engine.

    Each slice goes through the one records-in entry (:func:`riskmodel.intake.assess_records`); with
    ``events``, the residents are scored with their history, and what the indicators need of them is kept in
    the events' scratch database when it keeps them (``events.keep_scored``)."""
    seen = SeenIds()
    for raw in chunks:
        # Scored in slices, so that progress moves during a chunk (and the set-aside lines go with the first).
        for start in range(0, raw.table.num_rows or 1, PROGRESS_ROWS):
            result = assess_records(
                raw.table.slice(start, PROGRESS_ROWS),
                events,
                as_of=as_of,
                model=model,
                config=config,
                row_numbers=raw.row_numbers[start : start + PROGRESS_ROWS],
                seen_ids=seen,
            )
            rejected = result.rejected
            if start == 0 and len(raw.malformed):
                rejected = pd.concat([rejected, raw.malformed], ignore_index=True)
            residents = cast(pd.DataFrame, result.residents)  # raw tables are validated: never None here
            if result.assessment is None:
                yield residents.assign(**{name: pd.Series(dtype=object) for name in OUTPUT_COLUMNS}), rejected
                continue
            if events is not None and events.keep_scored:
                events.add_scored(resident_table(residents, result.columns, result.assessment))
            if monitor is not None:
                monitor.add(result.assessment)
            yield with_outputs(residents, result.assessment), rejected


class BatchOutputs:
    """Where one batch goes: the output file, the rejected-rows file beside it, and the store.

    Use as a context manager: on a clean exit the files are renamed into place and the store batch is
    completed; on any exception (or interrupt) the temporary files are removed and the store batch stays
    invisible. Both engines write through this.
    """

    def __init__(
        self,
        output_path: Path,
        *,
        input_columns: list[str],
        model: RiskModel,
        as_of: dt.date,
        store: ResultStore | None,
        source: str,
        event_columns: list[str] | None = None,
        max_rejected_share: float = 1.0,
        allow_rejected: bool = False,
        wait: float = 0.0,
    ) -> None:
        check_output(output_path)
        known = {c.name for c in RESIDENT_COLUMNS}
        extras = [name for name in input_columns if name not in known and name not in OUTPUT_COLUMNS]
        self.extras = extras
        self.summary = BatchSummary(output=output_path, rejected_output=rejected_path(output_path))
        self._store = store
        self._writer = _TableWriter(output_path, output_schema(extras))
        self._rejected = _TableWriter(rejected_path(output_path), rejected_schema(input_columns))
        self._events_rejected = (
            _TableWriter(events_rejected_path(output_path), rejected_schema(event_columns))
            if event_columns is not None
            else None
        )
        if self._events_rejected is not None:
            self.summary.events_rejected_output = events_rejected_path(output_path)
        self._max_share = 1.0 if allow_rejected else max_rejected_share
        self._lock = StoreLock(store.engine, wait=wait).__enter__() if store is not None else None
        try:
            self._batch_id = (
                store.begin_batch(as_of=as_of, model_version=model.version, source=source) if store else None
            )
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def refusal(self) -> str | None:
        """Why this batch must not replace the served one (SPEC 8), or None: nothing scored, or a rejected share
        of residents or of events above ``batch.max_rejected_share``."""
        s = self.summary
        if s.rows_scored == 0:
            return (
                f"no row was scored ({s.rows_rejected:,} rejected): the batch is not published; see {s.rejected_output}"
            )
        for what, rejected, read in (
            ("rows", s.rows_rejected, s.rows_read),
            ("events", s.events_rejected, s.events_read),
        ):
            if read and rejected / read > self._max_share:
                return (
                    f"{rejected:,} of {read:,} {what} rejected ({rejected / read:.1%}, above batch.max_rejected_share "
                    f"{self._max_share:.0%}): the batch is not published and the previous one stays in service; "
                    f"see the rejected file, or pass --allow-rejected"
                )
        return None

    def write(self, scored: pd.DataFrame, rejected: pd.DataFrame) -> None:
        frame = _output_frame(scored, self._writer.schema)
        for name in self.extras:  # extra input columns pass through as text, whatever type a Parquet file gave them
            if frame[name].dtype != object or not pd.api.types.is_string_dtype(frame[name]):
                frame[name] = frame[name].astype("string")
        self._writer.write(frame)
        self._rejected.write(rejected.reindex(columns=self._rejected.schema.names))
        if self._store is not None and self._batch_id is not None and len(scored):
            self._store.write_rows(self._batch_id, scored)
        _count(self.summary, scored, rejected)

    @property
    def batch_id(self) -> str | None:
        return self._batch_id

    def write_rejected_events(self, rejected: pd.DataFrame) -> None:
        if self._events_rejected is not None and len(rejected):
            self._events_rejected.write(rejected.reindex(columns=self._events_rejected.schema.names))

    def __enter__(self) -> BatchOutputs:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: object) -> None:
        writers = [self._writer, self._rejected, *([self._events_rejected] if self._events_rejected else [])]
        try:
            if kind is not None:
                for writer in writers:
                    writer.abort()
                if self._store is not None and self._batch_id is not None:
                    self._store.discard_batch(self._batch_id)
                return
            for writer in writers:
                writer.commit()
            refused = self.refusal()
            if refused is not None:
                if self._store is not None and self._batch_id is not None:
                    self._store.discard_batch(self._batch_id)
                raise PublishRefusedError(refused)
            self._publish()
        finally:
            self._release()

    def _publish(self) -> None:
        if self._store is not None and self._batch_id is not None:
            self._store.complete_batch(
                self._batch_id,
                rows_scored=self.summary.rows_scored,
                rows_rejected=self.summary.rows_rejected,
                events_read=self.summary.events_read,
                events_rejected=self.summary.events_rejected,
            )
            self.summary.batch_id = self._batch_id
        logger.info(
            "scored %d rows, rejected %d (batch %s)",
            self.summary.rows_scored,
            self.summary.rows_rejected,
            self._batch_id,
        )


def publish_history(events: BatchEvents, store: ResultStore, batch_id: str) -> None:
    """Store a batch's indicators (at its as-of date and the month ends before it, SPEC 11) and its scored
    residents' events, from the batch's scratch database."""
    from riskmodel.indicators.compute import compute_indicators, departure_outcomes, month_ends

    if not events.has_scored:
        return
    events.ensure_events()
    rows = compute_indicators(
        SCORED_TABLE,
        EVENTS_TABLE,
        month_ends(events.as_of, events.config.indicators.trend_months),
        as_of=events.as_of,
        config=events.config,
        outcomes=departure_outcomes(store),
        connection=events.con,
    )
    store.write_indicators(batch_id, rows)
    for table in events.scored_events():
        store.write_events(batch_id, table)


def score_file(
    input_path: str | Path,
    output_path: str | Path,
    model: RiskModel,
    *,
    config: RiskConfig,
    as_of: dt.date,
    store: ResultStore | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    on_rows: Callable[[int], None] | None = None,
    events_path: str | Path | None = None,
    on_events: Callable[[int], None] | None = None,
    allow_rejected: bool = False,
    wait: float = 0.0,
    encoding: str = "utf-8",
) -> BatchSummary:
    """Score a CSV or Parquet file into an output file (and the store, when given), as of ``as_of`` (the caller
    resolves "today": the same date gives the same batch).

    With ``events_path`` (SPEC 2.2), the residents are read twice: once for their ids, so that the events can
    be validated against them into a scratch database, then to be scored with their history.
    """
    input_path, output_path = Path(input_path), Path(output_path)
    event_columns = None
    if events_path is not None:
        event_columns = file_columns(Path(events_path), encoding)
        check_event_columns(event_columns, str(events_path))
    # The events' scratch database also gathers what the indicators need, when a store will publish them.
    needs_scratch = events_path is not None or store is not None
    events = (
        BatchEvents(as_of=as_of, config=config, scratch=output_path.parent, keep_scored=store is not None)
        if needs_scratch
        else None
    )
    try:
        with BatchOutputs(
            output_path,
            input_columns=file_columns(input_path, encoding),
            model=model,
            as_of=as_of,
            store=store,
            source=str(input_path),
            event_columns=event_columns,
            max_rejected_share=config.batch.max_rejected_share,
            allow_rejected=allow_rejected,
            wait=wait,
        ) as outputs:
            if events is not None and events_path is not None:
                for chunk in iter_validated(input_path, chunk_rows=chunk_rows, encoding=encoding):
                    events.add_residents(
                        pa.array(chunk.residents["resident_id"], pa.string()),
                        chunk.residents.index.to_numpy(),
                    )
                events.load(events_path, outputs.write_rejected_events, on_chunk=on_events, encoding=encoding)
                summary = outputs.summary
                summary.events_read, summary.events_used = events.events_read, events.events_used
                summary.events_rejected = events.events_rejected
            chunks = iter_raw_tables(input_path, chunk_rows=chunk_rows, encoding=encoding)
            monitor = BatchMonitor(model, config) if store is not None else None
            for scored, rejected in score_chunks(
                chunks, model, as_of=as_of, config=config, events=events, monitor=monitor
            ):
                outputs.write(scored, rejected)
                if on_rows is not None:
                    on_rows(len(scored) + len(rejected))
            if events is not None and store is not None and outputs.batch_id is not None and outputs.refusal() is None:
                publish_history(events, store, outputs.batch_id)
                report = monitor.report() if monitor is not None else None
                if report is not None:
                    store.write_monitoring(outputs.batch_id, report)
                    outputs.summary.monitoring = report
    finally:
        if events is not None:
            events.close()
    return outputs.summary


def _count(summary: BatchSummary, scored: pd.DataFrame, rejected: pd.DataFrame) -> None:
    summary.rows_scored += len(scored)
    summary.rows_rejected += len(rejected)
    summary.rows_read += len(scored) + len(rejected)
    for name, counter in summary.tiers.items():
        counter.update(scored[name].value_counts().to_dict() if len(scored) else {})
    summary.actions.update(scored["action"].value_counts().to_dict() if len(scored) else {})
