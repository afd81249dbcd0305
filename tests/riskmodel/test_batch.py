"""Batch scoring (SPEC sections 7 and 8): one row per valid input row, rejected rows beside, nothing partial."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow.parquet as pq
import pytest

from riskmodel.batch import rejected_path, score_file
from riskmodel.exceptions import InputFileError
from riskmodel.records.reading import read_residents
from riskmodel.records.schema import COLUMN_NAMES, OUTPUT_COLUMNS
from riskmodel.rules.actions import ACTIONS
from riskmodel.scoring import score_frame
from riskmodel.store.batches import ResultStore
from tests.conftest import SYNTH_AS_OF


@pytest.fixture()
def mixed_csv(tmp_path, population_file):
    frame = pq.read_table(population_file).slice(0, 3000).to_pandas()
    frame["village_note"] = "kept"
    frame.loc[5, "sbp_mmhg"] = 20.0
    frame.loc[17, "sex"] = "unknown"
    frame.loc[33, "resident_id"] = frame.loc[32, "resident_id"]
    path = tmp_path / "mixed.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_scores_good_rows_lists_bad_rows_and_keeps_extra_columns(tmp_path, mixed_csv, model, config, suffix):
    output = tmp_path / f"scored{suffix}"
    summary = score_file(mixed_csv, output, model, config=config, as_of=SYNTH_AS_OF, chunk_rows=1000)
    assert summary.rows_read == 3000 == summary.rows_scored + summary.rows_rejected
    assert summary.rows_rejected == 3
    scored = pd.read_parquet(output) if suffix == ".parquet" else pd.read_csv(output)
    rejected = pd.read_parquet(rejected_path(output)) if suffix == ".parquet" else pd.read_csv(rejected_path(output))
    assert len(scored) == 2997
    assert list(scored.columns) == [*COLUMN_NAMES, "village_note", *OUTPUT_COLUMNS]
    assert (scored["village_note"] == "kept").all()
    assert sorted(rejected["row_number"].tolist()) == [6, 18, 34]
    assert rejected["errors"].str.contains("sbp_mmhg|sex|duplicate").all()
    probabilities = scored[[c for c in OUTPUT_COLUMNS if c.startswith("diabetes_p_")]].sum(axis=1)
    assert probabilities.between(0.999, 1.001).all()
    assert set(scored["action"]) <= {*ACTIONS, "none"}


def test_batch_output_equals_library_scoring(tmp_path, population_file, model, config):
    output = tmp_path / "scored.parquet"
    score_file(population_file, output, model, config=config, as_of=SYNTH_AS_OF, chunk_rows=5000)
    batch = pd.read_parquet(output).head(500)
    library = score_frame(read_residents(population_file).residents.head(500), model, as_of=SYNTH_AS_OF)
    for name in OUTPUT_COLUMNS:
        if name == "due_date":
            assert (pd.to_datetime(batch[name]).to_numpy() == library[name].to_numpy()).all()
        elif batch[name].dtype.kind == "f":
            assert (batch[name].to_numpy() - library[name].to_numpy().astype(float)).__abs__().max() < 1e-12
        else:
            assert batch[name].tolist() == library[name].tolist(), name


def test_failure_leaves_no_output_and_store_keeps_previous_batch(tmp_path, population_file, model, config):
    store = ResultStore(f"sqlite:///{tmp_path / 'store.db'}")
    first = score_file(
        population_file, tmp_path / "first.parquet", model, config=config, as_of=SYNTH_AS_OF, store=store
    )

    def explode(rows: int) -> None:
        raise KeyboardInterrupt  # as if the operator stopped the run midway

    with pytest.raises(KeyboardInterrupt):
        score_file(
            population_file,
            tmp_path / "second.parquet",
            model,
            config=config,
            as_of=SYNTH_AS_OF,
            store=store,
            chunk_rows=5000,
            on_rows=explode,
        )
    assert not (tmp_path / "second.parquet").exists()
    assert not rejected_path(tmp_path / "second.parquet").exists()
    assert not list(tmp_path.glob(".second*"))
    assert store.latest_batch()["batch_id"] == first.batch_id


def test_bad_output_name_and_missing_input_stop(tmp_path, population_file, model, config):
    with pytest.raises(InputFileError, match="choose a .csv or .parquet output"):
        score_file(population_file, tmp_path / "out.xlsx", model, config=config, as_of=SYNTH_AS_OF)
    with pytest.raises(InputFileError, match="no such file"):
        score_file(tmp_path / "absent.csv", tmp_path / "out.csv", model, config=config, as_of=dt.date(2026, 1, 1))


def test_an_all_rejected_batch_leaves_the_served_list_untouched(tmp_path, population_file, model, config):
    from riskmodel.exceptions import PublishRefusedError

    store = ResultStore(f"sqlite:///{tmp_path / 'store.db'}", keep_batches=1)
    good = score_file(population_file, tmp_path / "good.parquet", model, config=config, as_of=SYNTH_AS_OF, store=store)
    served = store.latest_batch()
    bad = tmp_path / "excel.csv"
    frame = pq.read_table(population_file).slice(0, 200).to_pandas()
    frame["age_years"] = "abc"  # every row bad
    frame.to_csv(bad, index=False)
    for attempt in range(2):  # twice: pruning must never remove the served batch
        with pytest.raises(PublishRefusedError, match="no row was scored"):
            score_file(bad, tmp_path / f"bad{attempt}.parquet", model, config=config, as_of=SYNTH_AS_OF, store=store)
    assert store.latest_batch()["batch_id"] == served["batch_id"] == good.batch_id
    residents, _ = store.team_residents("T00001")
    assert len(residents) > 0


def test_a_batch_rejected_above_the_share_is_not_published_unless_allowed(tmp_path, population_file, model, config):
    from riskmodel.exceptions import PublishRefusedError

    store = ResultStore(f"sqlite:///{tmp_path / 'store.db'}")
    frame = pq.read_table(population_file).slice(0, 1000).to_pandas()
    frame.loc[:99, "sbp_mmhg"] = 10.0  # 10 % rejected, above the 5 % default
    path = tmp_path / "some-bad.parquet"
    frame.to_parquet(path)
    with pytest.raises(PublishRefusedError, match="100 of 1,000 rows rejected"):
        score_file(path, tmp_path / "out.parquet", model, config=config, as_of=SYNTH_AS_OF, store=store)
    assert store.latest_batch() is None
    summary = score_file(
        path, tmp_path / "out.parquet", model, config=config, as_of=SYNTH_AS_OF, store=store, allow_rejected=True
    )
    assert store.latest_batch()["batch_id"] == summary.batch_id


def test_extra_parquet_columns_of_any_type_pass_through_as_text(tmp_path, population_file, model, config):
    frame = pq.read_table(population_file).slice(0, 300).to_pandas()
    frame["village_code"] = range(300)
    frame["visit_weight"] = 1.5
    path = tmp_path / "extras.parquet"
    frame.to_parquet(path)
    score_file(path, tmp_path / "out.parquet", model, config=config, as_of=SYNTH_AS_OF)
    scored = pd.read_parquet(tmp_path / "out.parquet")
    assert scored["village_code"].tolist()[:3] == ["0", "1", "2"] and scored["visit_weight"].iloc[0] == "1.5"
