"""Stores, outputs and exports are created readable by their owner only, whatever the umask (SPEC 16)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from riskmodel.batch import score_file
from riskmodel.cli.commands import app
from riskmodel.records.writing import owner_only, write_owner_only
from riskmodel.store.batches import ResultStore
from riskmodel.synth import write_population
from tests.conftest import SYNTH_AS_OF


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def umask(request):  # type: ignore[no-untyped-def]
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def test_owner_only_creates_and_narrows_a_file(tmp_path, umask):
    fresh = write_owner_only(tmp_path / "new.json", "{}")
    assert _mode(fresh) == 0o600 and fresh.read_text() == "{}"
    existing = tmp_path / "old.csv"
    existing.write_text("a,b\n")
    existing.chmod(0o644)
    assert _mode(owner_only(existing)) == 0o600 and existing.read_text() == ""


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_scored_batch_writes_owner_only_outputs_and_store(tmp_path, model, config, umask, suffix):
    residents = pd.read_parquet(write_population(tmp_path / "r.parquet", 1500, teams=2, seed=4, as_of=SYNTH_AS_OF))
    residents.loc[0, "age_years"] = -3  # one rejected row, so the rejected file is written
    source = tmp_path / f"in{suffix}"
    residents.to_csv(source, index=False) if suffix == ".csv" else residents.to_parquet(source, index=False)
    store_path = tmp_path / "store.db"
    summary = score_file(
        source,
        tmp_path / f"scored{suffix}",
        model,
        config=config,
        as_of=SYNTH_AS_OF,
        store=ResultStore(f"sqlite:///{store_path}"),
        allow_rejected=True,
    )
    assert summary.rows_rejected == 1
    written = [Path(summary.output), Path(summary.rejected_output), store_path]
    written += [path for path in tmp_path.glob("store.db-*")]  # SQLite's -wal and -shm, when present
    for path in written:
        assert path.exists() and _mode(path) == 0o600, f"{path.name}: {oct(_mode(path))}"


def test_indicator_exports_are_owner_only(tmp_path, model, config, umask):
    data = write_population(tmp_path / "r.parquet", 1500, teams=2, seed=4, as_of=SYNTH_AS_OF)
    store = f"sqlite:///{tmp_path / 'store.db'}"
    score_file(data, tmp_path / "scored.parquet", model, config=config, as_of=SYNTH_AS_OF, store=ResultStore(store))
    for output_format in ("csv", "json", "xlsx"):
        output = tmp_path / f"indicators.{output_format}"
        result = CliRunner().invoke(
            app, ["indicators", "--all", "--format", output_format, "--output", str(output), "--store", store]
        )
        assert result.exit_code == 0, result.output
        assert _mode(output) == 0o600, output_format
