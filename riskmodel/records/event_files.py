"""A batch's events on disk (SPEC 2.2 and section 8): validated out of core, then read per chunk of residents.

A county has millions of residents and tens of millions of events; they do not fit a pandas frame. The
events are validated chunk by chunk (their rejected rows written beside the output as they go) into a DuckDB
database in a scratch folder, which spills to disk under its memory limit; each chunk of residents then
reads only its own residents' events (DuckDB, to Arrow) and derives their state from them
(:mod:`riskmodel.records.derivation`).
What is published from it (indicators, the stored events) is the batch's business: :mod:`riskmodel.batch`.
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
from riskmodel.records.events import EVENT_ARROW_SCHEMA, iter_validated_events
from riskmodel.records.timeline import READ_COLUMNS

DUCKDB_MEMORY_LIMIT = "2GB"
"""DuckDB's working memory for a batch's events; beyond it, it spills to the scratch folder."""
EVENTS_TABLE = "events_all"
"""The scratch database's table of the batch's validated events (SPEC 2.2 columns)."""
SCORED_TABLE = "scored_all"
"""The scratch database's table of what the indicators need of each scored resident."""


class BatchEvents:
    """The events of one batch, in a scratch DuckDB database (removed on :meth:`close`)."""

    def __init__(self, *, as_of: dt.date, config: RiskConfig, scratch: Path | None = None) -> None:
        self.as_of = as_of
        self.config = config
        self._folder = Path(tempfile.mkdtemp(prefix="riskmodel-events-", dir=scratch))
        self.con = duckdb.connect(str(self._folder / "events.duckdb"))
        self.con.execute(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
        self.con.execute(f"SET temp_directory = '{self._folder / 'spill'}'")
        self.con.execute("SET preserve_insertion_order = false")
        self.con.execute("CREATE TABLE residents (resident_id VARCHAR)")
        self._events_created = False
        self._scored_created = False
        self.events_read = 0
        self.events_used = 0
        self.events_rejected = 0

    def add_residents(self, resident_ids: pa.Array) -> None:
        """Pass 1: the batch's valid residents, so that events of anyone else are rejected as unknown."""
        self.con.register("new_ids", pa.table({"resident_id": resident_ids}))
        self.con.execute("INSERT INTO residents SELECT resident_id FROM new_ids")
        self.con.unregister("new_ids")

    def _known(self, ids: pa.Array) -> np.ndarray:
        self.con.register("asked", pa.table({"resident_id": ids, "position": pa.array(np.arange(len(ids)))}))
        found = self.con.sql("SELECT position FROM asked SEMI JOIN residents USING (resident_id)").fetchnumpy()[
            "position"
        ]
        self.con.unregister("asked")
        known = np.zeros(len(ids), dtype=bool)
        known[np.asarray(found, dtype=np.int64)] = True
        return known

    def load(
        self,
        path: str | Path,
        on_rejected: Callable[[pd.DataFrame], None],
        on_chunk: Callable[[int], None] | None = None,
        encoding: str = "utf-8",
    ) -> None:
        """Pass 2: validate the events file into the database; rejected events go to ``on_rejected``."""
        self.con.execute("CREATE INDEX IF NOT EXISTS residents_id ON residents (resident_id)")
        for chunk in iter_validated_events(path, as_of=self.as_of, known_residents=self._known, encoding=encoding):
            self.con.register("chunk", chunk.events)
            if self._events_created:
                self.con.execute(f"INSERT INTO {EVENTS_TABLE} SELECT * FROM chunk")
            else:
                self.con.execute(f"CREATE TABLE {EVENTS_TABLE} AS SELECT * FROM chunk")
                self._events_created = True
            self.con.unregister("chunk")
            on_rejected(chunk.rejected)
            self.events_used += chunk.events.num_rows
            self.events_rejected += len(chunk.rejected)
            self.events_read += chunk.events.num_rows + len(chunk.rejected)
            if on_chunk is not None:
                on_chunk(chunk.events.num_rows + len(chunk.rejected))

    def state(self, columns: Mapping[str, np.ndarray], resident_ids: Any) -> dict[str, np.ndarray]:
        """Pass 3: the state of one chunk of residents, from their rows and their events."""
        if not self._events_created:
            return history_state(columns, resident_ids, None, as_of=self.as_of, config=self.config)
        return history_state(columns, resident_ids, self.events_of(resident_ids), as_of=self.as_of, config=self.config)

    def events_of(self, resident_ids: Any) -> pa.Table:
        """The validated events of the given residents (only theirs: an event never changes another resident)."""
        self.con.register("chunk_ids", pa.table({"resident_id": pa.array(np.asarray(resident_ids, dtype=object))}))
        try:
            wanted = ", ".join(READ_COLUMNS)
            return self.con.sql(
                f"SELECT {wanted} FROM {EVENTS_TABLE} SEMI JOIN chunk_ids USING (resident_id)"
            ).to_arrow_table()
        finally:
            self.con.unregister("chunk_ids")

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
        self.con.register("used_events", events)
        self.con.execute(f"CREATE TABLE {EVENTS_TABLE} AS SELECT * FROM used_events")
        self.con.unregister("used_events")
        self._events_created = True

    def ensure_events(self) -> None:
        """An empty events table when the batch had no events, so that queries over it find none."""
        if not self._events_created:
            self.add_events(EVENT_ARROW_SCHEMA.empty_table())

    def scored_events(self, rows: int = 200_000) -> Iterator[pa.Table]:
        """The events of the scored residents with each one's team, ``rows`` at a time (to store them)."""
        self.ensure_events()
        reader = self.con.sql(
            f"SELECT e.*, s.team_id FROM {EVENTS_TABLE} e JOIN {SCORED_TABLE} s USING (resident_id)"
        ).fetch_record_batch(rows)
        for batch in reader:
            yield pa.Table.from_batches([batch])

    def close(self) -> None:
        self.con.close()
        shutil.rmtree(self._folder, ignore_errors=True)
