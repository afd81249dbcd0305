"""Store schema migrations (SPEC 7): a new store is created at head; a round-1 store upgrades in place."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import command

from riskmodel.store.batches import ResultStore
from riskmodel.store.migrations import alembic_config, current_revision, head_revision
from riskmodel.store.tables import metadata


def _columns(engine, table):
    return {column["name"] for column in sa.inspect(engine).get_columns(table)}


def test_a_new_store_is_created_at_head_matching_the_table_definitions(tmp_path):
    store = ResultStore(f"sqlite:///{tmp_path / 'new.db'}")
    engine = store.engine
    assert current_revision(engine) == head_revision()
    for table in metadata.tables.values():
        assert _columns(engine, table.name) == {c.name for c in table.columns}, table.name


def test_a_round_1_store_upgrades_in_place_keeping_its_batches(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    command.upgrade(alembic_config(engine), "0001")
    with engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE alembic_version"))  # round 1 had no migrations
        connection.execute(
            sa.text(
                "INSERT INTO batches (batch_id, status, as_of, model_version, created_at, completed_at) "
                "VALUES ('b1', 'complete', '2026-07-01', '3', '2026-07-01 01:00:00', '2026-07-01 02:00:00')"
            )
        )
    engine.dispose()
    store = ResultStore(url)
    batch = store.latest_batch()
    assert batch is not None and batch["batch_id"] == "b1" and batch["as_of"] == dt.date(2026, 7, 1)
    assert current_revision(store.engine) == head_revision()
    assert "state_bp_date" in _columns(store.engine, "scored_residents")
    assert "events_read" in _columns(store.engine, "batches")
