"""One writer at a time (SPEC 8), on SQLite and PostgreSQL: a second run waits or exits 4; a dead run's lock
and its incomplete batch are cleaned up, never a live run's."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
import sqlalchemy as sa

from riskmodel.batch import score_file
from riskmodel.exceptions import StoreBusyError
from riskmodel.store import locks
from riskmodel.store.batches import ResultStore
from riskmodel.store.locks import StoreLock
from riskmodel.store.tables import metadata, store_lock


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    result = ResultStore(url)
    yield result
    metadata.drop_all(result.engine)
    with result.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    result.dispose()


def test_a_second_writer_waits_then_gives_up(store):
    with StoreLock(store.engine):
        started = time.monotonic()
        with pytest.raises(StoreBusyError, match="another run is writing"):
            StoreLock(store.engine, wait=1.0).__enter__()
        assert time.monotonic() - started >= 1.0
    with StoreLock(store.engine):  # released: the next run takes it
        pass


def test_a_waiting_writer_gets_the_lock_when_the_first_is_done(store):
    first = StoreLock(store.engine).__enter__()
    threading.Timer(0.8, first.release).start()
    with StoreLock(store.engine, wait=10.0):
        pass


def test_a_dead_runs_lock_row_is_taken_over(tmp_path, monkeypatch):
    store = ResultStore(f"sqlite:///{tmp_path / 'dead.db'}")
    stale = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=locks.STALE_AFTER_SECONDS + 5)
    with store.engine.begin() as connection:
        connection.execute(store_lock.insert().values(name="writer", holder="gone:1", heartbeat_at=stale))
    with StoreLock(store.engine):
        pass


def test_two_scorers_into_one_store_one_lands_the_other_exits_busy(store, tmp_path, population_file, model, config):
    outcomes: dict[str, object] = {}

    def run(name: str, wait: float) -> None:
        try:
            outcomes[name] = score_file(
                population_file,
                tmp_path / f"{name}.parquet",
                model,
                config=config,
                as_of=dt.date(2026, 7, 1),
                store=store,
                wait=wait,
            ).batch_id
        except StoreBusyError as error:
            outcomes[name] = error

    first = threading.Thread(target=run, args=("first", 0.0))
    first.start()
    time.sleep(1.0)
    run("second", 0.0)
    first.join()
    assert isinstance(outcomes["first"], str)
    assert isinstance(outcomes["second"], StoreBusyError)
    assert store.latest_batch()["batch_id"] == outcomes["first"]
    run("third", 60.0)  # waits for nobody now, and lands
    assert isinstance(outcomes["third"], str) and store.latest_batch()["batch_id"] == outcomes["third"]
