"""A batch's events on disk (SPEC 2.2 and section 8): validated out of core, then read per chunk of residents.

A county has millions of residents and tens of millions of events; they do not fit a pandas frame. The
events are validated chunk by chunk (their rejected rows written beside the output as they go) and each kept
event is appended to the part of its resident in a scratch folder (:mod:`riskmodel.records.event_parts`); each
chunk of residents then reads only its own residents' events and derives their state from them
(:mod:`riskmodel.records.derivation`). What is published from them (indicators, the stored events) is the
batch's business (:mod:`riskmodel.batch`): for it a scratch DuckDB database, spilling to disk under its memory
limit, reads the events' parts as a table and keeps what the indicators need of each scored resident.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from riskmodel.config import RiskConfig
from riskmodel.records.derivation import history_state
from riskmodel.records.event_parts import EventParts, ResidentRows
from riskmodel.records.events import EVENT_ARROW_SCHEMA, iter_validated_events

DUCKDB_MEMORY_LIMIT = "2GB"
"""DuckDB's working memory for a batch's indicators; beyond it, it spills to the scratch folder."""
EVENTS_TABLE = "events_all"
"""The scratch database's table of the batch's validated events (SPEC 2.2 columns), after :meth:`ensure_events`."""
SCORED_TABLE = "scored_all"
"""The scratch database's table of what the indicators need of each scored resident."""


class BatchEvents:
    """The events of one batch, in a scratch folder (removed on :meth:`close`).

    ``keep_scored``: whether what the indicators need of each scored resident is kept (:meth:`add_scored`);
    only a batch that publishes to a store needs it.
    """

    def __init__(
        self, *, as_of: dt.date, config: RiskConfig, scratch: Path | None = None, keep_scored: bool = True
    ) -> None:
        self.as_of = as_of
        self.config = config
        self.keep_scored = keep_scored
        self._folder = Path(tempfile.mkdtemp(prefix="riskmodel-events-", dir=scratch))
        self._residents = ResidentRows()
        self._parts: EventParts | None = None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._scored_created = False
        self.events_read = 0
        self.events_used = 0
        self.events_rejected = 0

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The scratch DuckDB database (opened when first asked for)."""
        if self._con is None:
            self._con = duckdb.connect(str(self._folder / "events.duckdb"))
            self._con.execute(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
            self._con.execute(f"SET temp_directory = '{self._folder / 'spill'}'")
            self._con.execute("SET preserve_insertion_order = false")
        return self._con

    def add_residents(self, resident_ids: pa.Array, row_numbers: np.ndarray | None = None) -> None:
        """Pass 1: the batch's valid residents, so that events of anyone else are rejected as unknown, with their
        1-based row numbers in the residents file (by default, the rows after the last ones added): each chunk
        of residents scored reads the events of its rows."""
        self._residents.add(resident_ids, None if row_numbers is None else np.asarray(row_numbers) - 1)

    def _new_parts(self) -> EventParts:
        if self._parts is not None:
            raise RuntimeError("the batch's events are already added")  # pragma: no cover - a programming error
        self._parts = EventParts(self._folder, self._residents)
        return self._parts

    def load(
        self,
        path: str | Path,
        on_rejected: Callable[[pd.DataFrame], None],
        on_chunk: Callable[[int], None] | None = None,
        encoding: str = "utf-8",
    ) -> None:
        """Pass 2: validate the events file into its parts; rejected events go to ``on_rejected``."""
        parts = self._new_parts()
        asked: list[np.ndarray] = []  # the rows of the residents of the chunk being validated (-1: unknown)

        def known(resident_ids: pa.Array) -> np.ndarray:
            asked.append(self._residents.rows_of(resident_ids))
            return asked[-1] >= 0

        for chunk in iter_validated_events(path, as_of=self.as_of, known_residents=known, encoding=encoding):
            parts.add(chunk.typed, asked.pop()[chunk.kept], chunk.kept)
            on_rejected(chunk.rejected)
            self.events_used += len(chunk.kept)
            self.events_rejected += len(chunk.rejected)
            self.events_read += len(chunk.kept) + len(chunk.rejected)
            if on_chunk is not None:
                on_chunk(len(chunk.kept) + len(chunk.rejected))
        parts.finish()

    def state(self, columns: Mapping[str, np.ndarray], resident_ids: Any) -> dict[str, np.ndarray]:
        """Pass 3: the state of one chunk of residents, from their rows and their events."""
        if self._parts is None:
            return history_state(columns, resident_ids, None, as_of=self.as_of, config=self.config)
        return history_state(columns, resident_ids, self.events_of(resident_ids), as_of=self.as_of, config=self.config)

    def events_of(self, resident_ids: Any) -> pa.Table:
        """The validated events of the given residents (only theirs: an event never changes another resident)."""
        if self._parts is None:
            return EVENT_ARROW_SCHEMA.empty_table()
        return self._parts.of(pa.array(np.asarray(resident_ids, dtype=object), pa.string()))

    def add_scored(self, residents: pa.Table) -> None:
        """Pass 3: what the indicators need of each scored resident (``indicators.compute.resident_table``)."""
        self.con.register("scored_chunk", residents)
        if self._scored_created:
            self.con.execute(f"INSERT INTO {SCORED_TABLE} SELECT * FROM scored_chunk")
        else:
            self.con.execute(f"CREATE TABLE {SCORED_TABLE} AS SELECT * FROM scored_chunk")
            self._scored_created = True
        self.con.unregister("scored_chunk")

    @property
    def has_scored(self) -> bool:
        """Whether any scored resident was added (:meth:`add_scored`)."""
        return self._scored_created

    def add_events(self, events: pa.Table) -> None:
        """The batch's validated events all at once, in place of :meth:`load` (the Spark engine validates them)."""
        parts = self._new_parts()
        parts.add(events, None)
        parts.finish()

    def ensure_events(self) -> None:
        """The events as :data:`EVENTS_TABLE` in :attr:`con` (an empty table when the batch had none)."""
        parts = self._parts or self._new_parts()
        self.con.register(EVENTS_TABLE, parts.dataset())

    def scored_events(self, rows: int = 200_000) -> Iterator[pa.Table]:
        """The events of the scored residents with each one's team, ``rows`` at a time (to store them)."""
        self.ensure_events()
        reader = self.con.sql(
            f"SELECT e.*, s.team_id FROM {EVENTS_TABLE} e JOIN {SCORED_TABLE} s USING (resident_id)"
        ).fetch_record_batch(rows)
        for batch in reader:
            yield pa.Table.from_batches([batch])

    def close(self) -> None:
        if self._parts is not None:
            self._parts.finish()
        if self._con is not None:
            self._con.close()
        shutil.rmtree(self._folder, ignore_errors=True)
