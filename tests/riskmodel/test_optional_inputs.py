"""Every input SPEC 2 calls optional is optional on every path (SPEC 16, issue 17).

Real files lack what our synthetic population always has: the NHANES files in ``../shared/data/nhanes`` have
no grid, no dates and no events. They are scored here as they are, into SQLite and PostgreSQL stores, through
``score`` and ``nightly`` (and Spark), and the team's list and indicators are read back; then every optional
resident and event column is removed, one at a time, from a synthetic population with histories.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from riskmodel.batch import rejected_path, score_file
from riskmodel.cli.commands import app
from riskmodel.config import RiskConfig
from riskmodel.indicators.report import unit_indicators
from riskmodel.records.schema import EVENT_COLUMNS, NO_GRID, RESIDENT_COLUMNS
from riskmodel.store.batches import ResultStore
from riskmodel.synth import write_population
from riskmodel.synth.population import events_path
from riskmodel.worklist.team import team_worklist
from tests.conftest import SYNTH_AS_OF

runner = CliRunner()
NHANES_FILES = ("nhanes_2011_2012.csv", "nhanes_2013_2014.csv", "nhanes_2015_2016.csv")


@pytest.fixture(scope="module")
def model_dir(model, tmp_path_factory):  # type: ignore[no-untyped-def]
    return model.save(tmp_path_factory.mktemp("optional") / "model")


def _store_url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    import sqlalchemy as sa

    from riskmodel.store.tables import metadata

    url = request.getfixturevalue("postgres_url")
    store = ResultStore(url)  # a fresh schema: the server is shared by the session's tests
    metadata.drop_all(store.engine)
    with store.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    store.dispose()
    return url


def _check_team(store_url: str, team: str, residents: int, model, config: RiskConfig) -> None:  # type: ignore[no-untyped-def]
    store = ResultStore(store_url)
    listed, _ = team_worklist(
        store, team, model, today=config.deployment.today(), config=config, lang="zh", capacity=20
    )
    assert listed.counts, "the team's list has counts"
    assert listed.entries, "the team's list has entries"
    assert all(entry["grid_id"] is None for entry in listed.entries)
    teams = unit_indicators(store, level="team", units=[team], config=config)
    assert [unit["unit_id"] for unit in teams["units"]] == [team]
    grids = unit_indicators(store, level="grid", units=None, config=config)
    assert [unit["unit_id"] for unit in grids["units"]] == [f"{team}:{NO_GRID}"]
    adults = {item["indicator"]: item for item in grids["units"][0]["indicators"] if item["disease"] == "hypertension"}
    # every resident is counted in the grid-level figures under the team's "no grid" unit, none dropped: all of
    # the BPHS management population (SPEC 13.6: aged >= 35, not pregnant) is in 管理率's estimated denominator
    rows = store.residents_of("team", [team])
    assert len(rows) == residents
    pregnant = rows["pregnant"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    population = int(((rows["age_years"].to_numpy(dtype=float) >= 35) & ~pregnant).sum())
    assert round(adults["estimated_patients"]["numerator"] / config.indicators.prevalence["hypertension"]) == population


@pytest.mark.parametrize("command", ["score", "nightly"])
@pytest.mark.parametrize("store_kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.slow)])
@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n != "nhanes_2015_2016.csv" else n for n in NHANES_FILES]
)
def test_nhanes_files_score_publish_and_compute_indicators_as_they_are(
    nhanes, name, store_kind, command, model, model_dir, config, tmp_path, request, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    source = nhanes / name
    original = pd.read_csv(source)
    assert "grid_id" not in original.columns  # the real file, as it is: no column added
    store = _store_url(store_kind, tmp_path, request)
    common = ["--model", str(model_dir), "--store", store, "--as-of", "2026-07-01", "--allow-rejected"]
    if command == "score":
        args = ["score", "--input", str(source), "--output", str(tmp_path / "scored.parquet"), *common]
    else:
        args = ["nightly", "--input", str(source), "--output-dir", str(tmp_path / "out"), *common]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    if command == "nightly":
        summary = json.loads(result.output.strip().splitlines()[-1])
        assert summary["status"] == "published", summary
    team = str(original["team_id"].iloc[0])
    store_rows = ResultStore(store).residents_of("team", [team])
    assert len(store_rows) > 0.9 * len(original)
    rejected_file = rejected_path(tmp_path / "scored.parquet") if command == "score" else None
    rejected = len(pd.read_parquet(rejected_file)) if rejected_file else 0
    if command == "score":
        assert len(store_rows) + rejected == len(original)
    _check_team(store, team, len(store_rows), model, config)
    listed = runner.invoke(
        app, ["worklist", "--team", team, "--store", store, "--capacity", "5", "--model", str(model_dir)]
    )
    assert listed.exit_code == 0 and "Traceback" not in listed.output, listed.output
    shown = runner.invoke(app, ["indicators", "--all", "--store", store, "--months", "2", "--format", "json"])
    assert shown.exit_code == 0 and "Traceback" not in shown.output, shown.output


def test_a_synthetic_population_without_grids_scores_into_the_store(population_file, model, config, tmp_path):
    frame = pd.read_parquet(population_file).head(3000).drop(columns=["grid_id"])
    source = tmp_path / "no_grid.csv"
    frame.to_csv(source, index=False)
    store = ResultStore(f"sqlite:///{tmp_path / 'store.db'}")
    summary = score_file(source, tmp_path / "scored.parquet", model, config=config, as_of=SYNTH_AS_OF, store=store)
    assert summary.rows_scored + summary.rows_rejected == 3000 and summary.batch_id is not None
    grids = unit_indicators(store, level="grid", units=None, config=config)
    units = sorted(unit["unit_id"] for unit in grids["units"])
    assert units == sorted(f"{team}:{NO_GRID}" for team in frame["team_id"].unique())
    team = str(frame["team_id"].iloc[0])
    _check_team_units = unit_indicators(store, level="grid", units=[f"{team}:{NO_GRID}"], config=config)
    assert [u["unit_id"] for u in _check_team_units["units"]] == [f"{team}:{NO_GRID}"]
    assert store.grids_within([team]) == [f"{team}:{NO_GRID}"]
    assert team_worklist(store, team, model, today=config.deployment.today(), config=config, lang="en", capacity=10)[
        0
    ].entries


@pytest.fixture(scope="module")
def with_history(tmp_path_factory):  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("history") / "residents.csv"
    write_population(path, 400, teams=2, seed=11, as_of=SYNTH_AS_OF, history_years=2)
    return pd.read_csv(path), pd.read_csv(events_path(path))


OPTIONAL = [("residents", c.name) for c in RESIDENT_COLUMNS if not c.required] + [
    ("events", c.name) for c in EVENT_COLUMNS if not c.required
]


@pytest.mark.parametrize(("table", "column"), OPTIONAL, ids=[f"{t}-{c}" for t, c in OPTIONAL])
def test_every_optional_column_may_be_absent(with_history, table, column, model, config, tmp_path):
    residents, events = with_history
    residents, events = residents.copy(), events.copy()
    if table == "residents":
        residents = residents.drop(columns=[column], errors="ignore")
    else:
        events = events.drop(columns=[column], errors="ignore")
    source, history = tmp_path / "residents.csv", tmp_path / "events.csv"
    residents.to_csv(source, index=False)
    events.to_csv(history, index=False)
    store = ResultStore(f"sqlite:///{tmp_path / 'store.db'}")
    summary = score_file(
        source,
        tmp_path / "scored.parquet",
        model,
        config=config,
        as_of=SYNTH_AS_OF,
        store=store,
        events_path=history,
        allow_rejected=True,
    )
    assert summary.rows_read == len(residents) == summary.rows_scored + summary.rows_rejected
    assert summary.events_read == len(events) == summary.events_used + summary.events_rejected
    team = str(residents["team_id"].iloc[0])
    assert team_worklist(store, team, model, today=config.deployment.today(), config=config, lang="zh", capacity=10)[
        0
    ].counts
    assert unit_indicators(store, level="team", units=[team], config=config)["units"]


def test_an_identifier_with_a_control_character_is_a_row_error_never_trimmed(model, config, tmp_path):
    source = tmp_path / "ids.csv"
    source.write_text("resident_id,team_id,sex,age_years\n\t=1+1,T1,M,50\nr2,T1,F,60\nr3,T\x01,F,61\n")
    summary = score_file(source, tmp_path / "out.csv", model, config=config, as_of=SYNTH_AS_OF, allow_rejected=True)
    assert (summary.rows_scored, summary.rows_rejected) == (1, 2)
    scored = pd.read_csv(tmp_path / "out.csv")
    assert scored["resident_id"].tolist() == ["r2"]
    rejected = pd.read_csv(rejected_path(tmp_path / "out.csv"))
    assert rejected["row_number"].tolist() == [1, 3]
    assert rejected["errors"].tolist() == [
        "resident_id: contains a control character",
        "team_id: contains a control character",
    ]


def test_a_false_parquet_file_stops_with_one_line(model_dir, tmp_path):
    fake = tmp_path / "residents.parquet"
    fake.write_bytes(b"PAR1" + b"not really parquet" * 4 + b"PAR1")
    for args in (
        ["score", "--input", str(fake), "--output", str(tmp_path / "o.parquet"), "--no-store"],
        ["nightly", "--input", str(fake), "--output-dir", str(tmp_path / "n")],
    ):
        result = runner.invoke(app, [*args, "--model", str(model_dir)])
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        assert "not a readable Parquet file" in result.output
        assert not (tmp_path / "o.parquet").exists()


@pytest.mark.slow
def test_spark_scores_an_nhanes_file_as_it_is_into_the_store(nhanes, model, config, tmp_path):
    from serving.spark_engine import score_file_spark

    source = nhanes / "nhanes_2015_2016.csv"
    original = pd.read_csv(source)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    summary = score_file_spark(
        source,
        tmp_path / "scored.parquet",
        model,
        config=config,
        as_of=SYNTH_AS_OF,
        store=ResultStore(url),
        allow_rejected=True,
    )
    assert summary.rows_scored + summary.rows_rejected == len(original) and summary.batch_id is not None
    team = str(original["team_id"].iloc[0])
    _check_team(url, team, summary.rows_scored, model, config)
