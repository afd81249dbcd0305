"""A batch's events in parts by resident row (riskmodel.records.event_parts) and the batch's events file read
through them (riskmodel.records.event_files): each chunk of residents gets exactly its residents' events."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from riskmodel.records import event_parts
from riskmodel.records.event_files import EVENTS_TABLE, BatchEvents
from riskmodel.records.event_parts import EventParts, ResidentRows
from riskmodel.records.events import EVENT_ARROW_SCHEMA, events_table

AS_OF = dt.date(2026, 7, 1)


def _events(pairs: list[tuple[str, str]]) -> pa.Table:
    """Events of (resident_id, event_id), one BP reading each."""
    return events_table(
        [
            {
                "resident_id": r,
                "event_id": e,
                "event_date": dt.date(2026, 1, 1),
                "kind": "screening",
                "sbp_mmhg": 120.0,
                "dbp_mmhg": 80.0,
            }
            for r, e in pairs
        ]
    )


def _pairs(table: pa.Table) -> list[tuple[str, str]]:
    return list(zip(table.column("resident_id").to_pylist(), table.column("event_id").to_pylist(), strict=True))


def test_resident_rows_match_ids_exactly_and_say_minus_one_for_anyone_else():
    residents = ResidentRows()
    residents.add(pa.array(["a", "b"]), np.array([0, 2]))
    residents.add(pa.array(["c"]))  # by default the row after the last one added
    residents.add(pa.array([], pa.string()))
    residents.add(pa.array(["d"]))
    asked = pa.array(["d", "a", None, "zz", "c", "b", "a"])
    assert residents.rows_of(asked).tolist() == [4, 0, -1, -1, 3, 2, 0]
    assert ResidentRows().rows_of(pa.array(["a"])).tolist() == [-1]


@pytest.mark.parametrize("shuffled", [False, True])
def test_each_chunk_of_residents_gets_exactly_its_residents_events(tmp_path, monkeypatch, shuffled):
    monkeypatch.setattr(event_parts, "PART_ROWS", 3)
    ids = [f"r{k}" for k in range(10)]
    residents = ResidentRows()
    residents.add(pa.array(ids))
    pairs = [(r, f"{r}-e{n}") for n in range(3) for r in ids if (int(r[1:]) + n) % 4]
    if shuffled:
        pairs = [pairs[k] for k in np.random.default_rng(1).permutation(len(pairs))]
    parts = EventParts(tmp_path, residents)
    table = _events(pairs)
    kept = np.array([k for k in range(len(pairs)) if k % 7])  # some rows of the chunk were rejected
    parts.add(table, residents.rows_of(table.column("resident_id").take(pa.array(kept))), kept)
    kept_pairs = [pairs[k] for k in kept]
    for asked in (ids[0:3], ids[3:6], ids[2:7], ids[9:], ["r5", "r1"], ["nobody"]):
        got = parts.of(pa.array(asked))
        expected = [p for p in kept_pairs if p[0] in asked]
        assert _pairs(got) == sorted(expected, key=lambda p: int(p[0][1:]) // 3)  # stable: file order in a part
        assert got.schema == EVENT_ARROW_SCHEMA
    assert parts.dataset().to_table().num_rows == len(kept)


def test_events_without_their_residents_rows_are_all_read(tmp_path):
    parts = EventParts(tmp_path, ResidentRows())
    parts.add(_events([("a", "1"), ("b", "2"), ("a", "3")]), None)
    assert _pairs(parts.of(pa.array(["a"]))) == [("a", "1"), ("a", "3")]
    assert EventParts(tmp_path / "none", ResidentRows()).dataset().to_table().num_rows == 0


def test_batch_events_reject_events_of_others_and_read_back_the_rest(tmp_path, config):
    events = _events([("a", "1"), ("x", "2"), ("b", "3"), ("a", "1"), ("b", "4")])
    pq.write_table(events, tmp_path / "events.parquet")
    batch = BatchEvents(as_of=AS_OF, config=config, scratch=tmp_path, keep_scored=False)
    rejected = []
    try:
        batch.add_residents(pa.array(["b", "a"]), np.array([1, 3]))
        batch.load(tmp_path / "events.parquet", rejected.append)
        errors = [e for frame in rejected for e in frame["errors"]]
        assert errors == [
            "resident_id: not a resident of this batch (unknown or rejected)",
            "event_id: duplicate event_id for this resident (the first copy is used)",
        ]
        assert (batch.events_read, batch.events_used, batch.events_rejected) == (5, 3, 2)
        assert _pairs(batch.events_of(np.array(["a", "b"], dtype=object))) == [("a", "1"), ("b", "3"), ("b", "4")]
        assert _pairs(batch.events_of(np.array(["b"], dtype=object))) == [("b", "3"), ("b", "4")]
        batch.ensure_events()
        assert batch.con.execute(f"SELECT count(*) FROM {EVENTS_TABLE}").fetchall() == [(3,)]
    finally:
        batch.close()
