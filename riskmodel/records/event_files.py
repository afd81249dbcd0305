"""A batch's events on disk (SPEC 2.2 and section 8): validated out of core, then read per chunk of residents.

A county has millions of residents and tens of millions of events; they do not fit a pandas frame. The
events are validated chunk by chunk (their rejected rows written beside the output as they go) into a DuckDB
database in a scratch folder, which spills to disk under its memory limit; each chunk of residents then
reads only its own residents' events through the derivation queries (:mod:`riskmodel.records.derivation`).
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from riskmodel.config import RiskConfig
from riskmodel.records.derivation import history_state
from riskmodel.records.events import iter_validated_events

DUCKDB_MEMORY_LIMIT = "2GB"
"""DuckDB's working memory for a batch's events; beyond it, it spills to the scratch folder."""


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
                self.con.execute("INSERT INTO events_all SELECT * FROM chunk")
            else:
                self.con.execute("CREATE TABLE events_all AS SELECT * FROM chunk")
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
        return history_state(
            columns, resident_ids, "events_all", as_of=self.as_of, config=self.config, connection=self.con
        )

    def add_scored(self, residents: pa.Table) -> None:
        """Pass 3: what the indicators need of each scored resident (``indicators.compute.resident_table``)."""
        self.con.register("scored_chunk", residents)
        if self._scored_created:
            self.con.execute("INSERT INTO scored_all SELECT * FROM scored_chunk")
        else:
            self.con.execute("CREATE TABLE scored_all AS SELECT * FROM scored_chunk")
            self._scored_created = True
        self.con.unregister("scored_chunk")

    def publish(self, store: Any, batch_id: str) -> None:
        """Store the batch's indicators (the as-of date and the month ends before it) and its events."""
        from riskmodel.indicators.compute import compute_indicators, departure_outcomes, month_ends
        from riskmodel.records.events import EVENT_ARROW_SCHEMA

        if not self._scored_created:
            return
        if not self._events_created:
            self.con.register("no_events", EVENT_ARROW_SCHEMA.empty_table())
            self.con.execute("CREATE TABLE events_all AS SELECT * FROM no_events")
            self.con.unregister("no_events")
            self._events_created = True
        dates = month_ends(self.as_of, self.config.indicators.trend_months)
        rows = compute_indicators(
            "scored_all",
            "events_all",
            dates,
            as_of=self.as_of,
            config=self.config,
            outcomes=departure_outcomes(store),
            connection=self.con,
        )
        store.write_indicators(batch_id, rows)
        reader = self.con.sql(
            "SELECT e.*, s.team_id FROM events_all e JOIN scored_all s USING (resident_id)"
        ).fetch_record_batch(200_000)
        for batch in reader:
            store.write_events(batch_id, pa.Table.from_batches([batch]))

    def close(self) -> None:
        self.con.close()
        shutil.rmtree(self._folder, ignore_errors=True)
