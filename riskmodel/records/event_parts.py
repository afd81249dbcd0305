"""A batch's validated events on disk, in parts by resident, so that each chunk of residents reads only its own.

Each resident of the batch is known by its row in the residents file (:class:`ResidentRows`, pass 1). Part
``k`` holds the events of the residents of rows ``k * part_rows`` to ``(k + 1) * part_rows - 1``, as an
Arrow IPC file in a scratch folder, in the order the events were read (:class:`EventParts`, pass 2). Scoring
reads the residents in the same order, ``part_rows`` rows a slice, so a slice reads its own part, whole: nothing
is sorted, indexed or inserted into a database, and memory holds one part whatever the size of the batch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from riskmodel.records.events import EVENT_ARROW_SCHEMA
from riskmodel.records.validation import SeenIds

PART_ROWS = 50_000
"""Resident rows per part of the events: the rows the batch scores a slice (``riskmodel.batch.PROGRESS_ROWS``)."""
MAX_PARTS = 256
"""At most this many parts (one open file each while the events load); a larger batch has larger parts."""
_CACHED_PARTS = 2
"""Parts kept in memory after a read (a slice that does not match a part straddles two)."""


class ResidentRows:
    """The batch's accepted residents and the row of each in the residents file (0-based).

    An id is found by its 64-bit hash (:meth:`SeenIds.hash`, the hash accepted residents are unique by) and
    confirmed against the id itself: an event is matched to its resident exactly.
    """

    def __init__(self) -> None:
        self._ids: list[pa.Array] = []
        self._hashes: list[np.ndarray] = []
        self._rows: list[np.ndarray] = []
        self._by_hash: tuple[np.ndarray, np.ndarray, pa.Array] | None = None
        self._next_row = 0
        self.count = 0

    def add(self, resident_ids: pa.Array, rows: np.ndarray | None = None) -> None:
        """These residents, of these rows (by default the rows after the last one added)."""
        rows = np.arange(self._next_row, self._next_row + len(resident_ids)) if rows is None else rows
        self._next_row = int(rows[-1]) + 1 if len(rows) else self._next_row
        self._ids.append(resident_ids.cast(pa.large_string()))
        self._hashes.append(SeenIds.hash(resident_ids))
        self._rows.append(np.asarray(rows, dtype=np.int64))
        self.count += len(resident_ids)
        self._by_hash = None

    @property
    def rows(self) -> np.ndarray:
        """Every resident's row, in the order added."""
        return np.concatenate(self._rows) if self._rows else np.zeros(0, dtype=np.int64)

    def _lookup(self) -> tuple[np.ndarray, np.ndarray, pa.Array]:
        """The hashes sorted, with each one's row and id (made once, when the first id is looked up)."""
        if self._by_hash is None:
            hashes = np.concatenate(self._hashes) if self._hashes else np.zeros(0, dtype=np.uint64)
            order = np.argsort(hashes)
            ids = pa.chunked_array(self._ids, pa.large_string()).combine_chunks()
            self._by_hash = hashes[order], self.rows[order], ids.take(pa.array(order))
            self._ids, self._hashes, self._rows = [ids], [hashes], [self.rows]
        return self._by_hash

    def rows_of(self, resident_ids: pa.Array) -> np.ndarray:
        """Each id's row, -1 for an id (or a null) that is not one of the residents."""
        hashes, rows, ids = self._lookup()
        if not len(hashes):
            return np.full(len(resident_ids), -1, dtype=np.int64)
        wanted = SeenIds.hash(resident_ids)
        order = np.argsort(wanted)  # searched in order: each search starts where the last one ended
        at = np.empty(len(wanted), dtype=np.int64)
        at[order] = np.minimum(np.searchsorted(hashes, wanted[order]), len(hashes) - 1)
        same = pc.equal(ids.take(pa.array(at)), resident_ids.cast(pa.large_string()))
        found = (hashes[at] == wanted) & np.asarray(pc.fill_null(same, False).to_numpy(zero_copy_only=False))
        return np.where(found, rows[at], -1)


class EventParts:
    """Validated events in parts by resident row (Arrow IPC files in ``folder``); see the module docstring.

    Events added without their residents' rows all go to part 0, which every read then reads.
    """

    def __init__(self, folder: Path, residents: ResidentRows) -> None:
        self.folder = folder
        self.residents = residents
        rows = residents.rows
        last_row = int(rows.max()) if len(rows) else 0
        self.part_rows = PART_ROWS * max(1, -(-(last_row + 1) // (PART_ROWS * MAX_PARTS)))
        self._residents_per_part = np.bincount(rows // self.part_rows)
        self._writers: dict[int, pa.ipc.RecordBatchFileWriter] = {}
        self._cache: dict[int, pa.Table] = {}
        self._unplaced = False
        self._finished = False

    def _path(self, part: int) -> Path:
        return self.folder / f"events-{part:05d}.arrow"

    def add(self, events: pa.Table, rows: np.ndarray | None, kept: np.ndarray | None = None) -> None:
        """Append events to the parts of their residents: those of ``kept`` (positions, ascending; all when
        None), ``rows`` giving each one's resident's row (None: unknown, part 0)."""
        taken = np.arange(events.num_rows) if kept is None else kept
        if not len(taken):
            return
        self._unplaced |= rows is None
        parts = np.zeros(len(taken), dtype=np.int64) if rows is None else rows // self.part_rows
        if np.any(parts[1:] < parts[:-1]):  # not in resident order: grouped by part, each in the file's order
            order = np.argsort(parts, kind="stable")
            taken, parts = taken[order], parts[order]
        if len(taken) < events.num_rows or np.any(taken[1:] < taken[:-1]):
            events = events.take(pa.array(taken, pa.int64()))
        starts = np.flatnonzero(np.r_[True, parts[1:] != parts[:-1]])
        for start, end in zip(starts, [*starts[1:], len(taken)], strict=True):
            self._writer(int(parts[start])).write_table(events.slice(start, end - start))

    def _writer(self, part: int) -> pa.ipc.RecordBatchFileWriter:
        if part not in self._writers:
            self._writers[part] = pa.ipc.new_file(self._path(part), EVENT_ARROW_SCHEMA)
        return self._writers[part]

    def finish(self) -> None:
        """Close the files: the events are all added."""
        if not self._finished:
            for writer in self._writers.values():
                writer.close()
            self._finished = True

    def _part(self, part: int) -> pa.Table:
        if part not in self._cache:
            if len(self._cache) >= _CACHED_PARTS:
                del self._cache[min(self._cache)]
            self._cache[part] = pa.ipc.open_file(pa.memory_map(str(self._path(part)))).read_all()
        return self._cache[part]

    def of(self, resident_ids: pa.Array) -> pa.Table:
        """The events of these residents (of no one else): part by part, each part's in the order added."""
        self.finish()
        rows = np.sort(self.residents.rows_of(resident_ids))  # sorted runs, not np.unique (hashing, 5x slower)
        rows = rows[np.r_[True, rows[1:] != rows[:-1]] & (rows >= 0)]  # each resident found, once
        part_of = rows // self.part_rows
        starts = np.flatnonzero(np.r_[True, part_of[1:] != part_of[:-1]]) if len(rows) else np.zeros(0, dtype=int)
        parts, asked = part_of[starts], np.diff(np.r_[starts, len(rows)])
        wanted = sorted({int(p) for p in parts} | ({0} if self._unplaced else set()))
        tables = [self._part(part) for part in wanted if part in self._writers]
        if not tables:
            return EVENT_ARROW_SCHEMA.empty_table()
        events = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
        whole = not self._unplaced and np.array_equal(asked, self._residents_per_part[parts])
        if whole:  # every resident of these parts is asked for: all their events are wanted
            return events
        return events.filter(pc.is_in(events.column("resident_id"), value_set=resident_ids))

    def dataset(self) -> ds.Dataset:
        """All the events, for queries over the whole batch (DuckDB reads it as a table)."""
        self.finish()
        paths = [str(self._path(part)) for part in sorted(self._writers)]
        if not paths:
            return ds.dataset(EVENT_ARROW_SCHEMA.empty_table())
        return ds.dataset(paths, format="ipc", schema=EVENT_ARROW_SCHEMA)
