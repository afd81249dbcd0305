"""The command line (SPEC section 7): help everywhere, one-line errors, the score/worklist flow."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from riskmodel.cli.commands import app

runner = CliRunner()
COMMANDS = ["synth", "train", "promote", "score", "worklist", "serve", "demo"]


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_everywhere(command):
    result = runner.invoke(app, [command, "--help"] if command else ["--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_synth_writes_a_population(tmp_path):
    out = tmp_path / "p.csv"
    result = runner.invoke(app, ["synth", "--residents", "3000", "--teams", "3", "--seed", "5", "--out", str(out)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert len(frame) == 3000 and frame["team_id"].nunique() == 3


def test_too_few_teams_and_bad_files_fail_with_one_line(tmp_path):
    result = runner.invoke(app, ["synth", "--residents", "5000", "--teams", "1", "--out", str(tmp_path / "p.csv")])
    assert result.exit_code == 1 and "1500 limit" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("resident_id,age_years\nx,40\n")
    result = runner.invoke(
        app, ["score", "--input", str(bad), "--output", str(tmp_path / "o.csv"), "--model", str(tmp_path), "--no-store"]
    )
    assert result.exit_code == 1 and "error" in result.output


@pytest.fixture()
def model_dir(model, tmp_path):
    return model.save(tmp_path / "model")


def test_score_then_worklist_in_every_format(tmp_path, population_file, model_dir, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = f"sqlite:///{tmp_path / 'store.db'}"
    result = runner.invoke(
        app,
        [
            "score",
            "--input",
            str(population_file),
            "--output",
            "scored.parquet",
            "--model",
            str(model_dir),
            "--store",
            store,
            "--as-of",
            "2026-07-01",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "24,000 rows = 24,000 scored + 0 rejected" in result.output
    for fmt, marker in (("table", "Work list, team T00003"), ("csv", "rank,resident_id"), ("json", '"rank": 1')):
        listed = runner.invoke(
            app,
            [
                "worklist",
                "--team",
                "T00003",
                "--lang",
                "en",
                "--format",
                fmt,
                "--capacity",
                "5",
                "--model",
                str(model_dir),
                "--store",
                store,
            ],
        )
        assert listed.exit_code == 0, listed.output
        assert marker in listed.output
    missing = runner.invoke(app, ["worklist", "--team", "NOPE", "--model", str(model_dir), "--store", store])
    assert missing.exit_code == 1 and "no residents" in missing.output


@pytest.mark.slow
def test_killing_a_score_run_leaves_no_output_and_keeps_the_previous_batch(tmp_path, model_dir):
    from riskmodel.store.batches import ResultStore
    from riskmodel.synth import write_population
    from tests.conftest import SYNTH_AS_OF

    big = write_population(tmp_path / "big.csv", 300_000, teams=250, seed=1, as_of=SYNTH_AS_OF)
    small = write_population(tmp_path / "small.csv", 2_000, teams=2, seed=1, as_of=SYNTH_AS_OF)
    store = f"sqlite:///{tmp_path / 'store.db'}"
    command = [
        sys.executable,
        "-m",
        "riskmodel",
        "score",
        "--model",
        str(model_dir),
        "--store",
        store,
        "--as-of",
        "2026-07-01",
    ]
    subprocess.run(
        [*command, "--input", str(small), "--output", str(tmp_path / "first.csv")], check=True, capture_output=True
    )
    before = ResultStore(store).latest_batch()
    process = subprocess.Popen(
        [*command, "--input", str(big), "--output", str(tmp_path / "second.csv")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline and not list(tmp_path.glob(".second.csv.partial")):
        time.sleep(0.1)
    time.sleep(1.0)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not (tmp_path / "second.csv").exists()
    assert not (tmp_path / "second.rejected.csv").exists()
    after = ResultStore(store).latest_batch()
    assert after is not None and after["batch_id"] == before["batch_id"]
    assert Path(tmp_path / "first.csv").exists()
