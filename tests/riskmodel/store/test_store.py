"""The result store on SQLite and PostgreSQL: complete-only visibility, latest batch served, pruning."""

from __future__ import annotations

import pandas as pd
import pytest

from riskmodel.exceptions import StoreError
from riskmodel.scoring import score_frame
from riskmodel.store.batches import ResultStore, stored_probabilities
from tests.conftest import SYNTH_AS_OF


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    sqlite = f"sqlite:///{tmp_path / 'store.db'}"
    url = sqlite if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    result = ResultStore(url, keep_batches=2)
    yield result

    import sqlalchemy as sa

    from riskmodel.store.tables import metadata

    metadata.drop_all(result.engine)
    with result.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    result.dispose()


@pytest.fixture(scope="module")
def scored(population, model):
    return score_frame(population.head(3000), model, as_of=SYNTH_AS_OF)


def _write(store, scored, *, complete=True):
    batch_id = store.begin_batch(as_of=SYNTH_AS_OF, model_version="test/1", source="test")
    store.write_rows(batch_id, scored)
    if complete:
        store.complete_batch(batch_id, rows_scored=len(scored), rows_rejected=0)
    return batch_id


def test_empty_store_says_so(store):
    assert store.latest_batch() is None
    with pytest.raises(StoreError, match="no complete batch"):
        store.team_residents("T00000")


def test_incomplete_batch_is_invisible_and_latest_complete_is_served(store, scored):
    first = _write(store, scored)
    _write(store, scored.head(10), complete=False)
    assert store.latest_batch()["batch_id"] == first
    residents, batch = store.team_residents("T00000")
    assert batch["batch_id"] == first
    assert len(residents) == (scored["team_id"] == "T00000").sum()
    original = scored[scored["team_id"] == "T00000"].reset_index(drop=True)
    back = residents.sort_values("resident_id").reset_index(drop=True)
    assert back["resident_id"].tolist() == sorted(original["resident_id"].tolist())
    merged = original.set_index("resident_id").loc[back["resident_id"]]
    assert (back["diabetes_p_chronic"].to_numpy() - merged["diabetes_p_chronic"].to_numpy()).max() < 1e-9
    assert back["exam_date"].dtype == "datetime64[s]"
    assert stored_probabilities(back)["diabetes"].shape == (len(back), 3)
    second = _write(store, scored)  # starting it removed the killed run's incomplete batch
    assert store.latest_batch()["batch_id"] == second


def test_old_batches_are_pruned(store, scored):
    ids = [_write(store, scored.head(50)) for _ in range(3)]
    import sqlalchemy as sa

    from riskmodel.store.batches import batches

    with store.engine.connect() as connection:
        kept = {row[0] for row in connection.execute(sa.select(batches.c.batch_id))}
    assert kept == set(ids[1:])
    assert store.teams() == sorted(pd.unique(scored.head(50)["team_id"]).tolist())
