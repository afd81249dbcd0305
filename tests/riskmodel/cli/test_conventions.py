"""CLI conventions (SPEC 16 "CLI"): --version, closed choice sets, exit codes in every help, an unknown team
is an error, data in a terminal table is never read as markup, CSV headers are formula-escaped."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from riskmodel.batch import score_file
from riskmodel.cli.commands import app
from riskmodel.records.writing import csv_safe
from riskmodel.store.batches import ResultStore
from riskmodel.synth import write_population
from tests.conftest import SYNTH_AS_OF

runner = CliRunner()
MARKUP_TEAM, MARKUP_RESIDENT, RED_RESIDENT = "[/bold]T9", "[/bold]x", "[red]x"


def test_version_prints_the_installed_package_version():
    result = subprocess.run([sys.executable, "-m", "riskmodel", "--version"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"riskmodel {importlib.metadata.version('riskmodel')}"


@pytest.mark.parametrize(
    ("arguments", "choices"),
    [
        (["worklist", "--team", "T1", "--lang", "fr"], ("zh", "en")),
        (["worklist", "--team", "T1", "--format", "xml"], ("table", "csv", "json")),
        (["outcomes", "--team", "T1", "--format", "xlsx"], ("table", "csv", "json")),
        (["indicators", "--all", "--lang", "fr"], ("zh", "en")),
        (["indicators", "--all", "--format", "html"], ("table", "csv", "json", "xlsx")),
        (["score", "--input", "a.csv", "--output", "b.csv", "--engine", "dask"], ("local", "spark")),
        (["score", "--input", "a.csv", "--output", "b.csv", "--encoding", "latin-1"], ("utf-8", "gbk", "gb18030")),
        (["demo", "--lang", "FR"], ("zh", "en")),
        (["outcome", "--team", "T1", "--resident", "R1", "--outcome", "forgot"], ("agreed", "reinstate")),
        (
            ["outcome", "--team", "T1", "--resident", "R1", "--outcome", "agreed", "--disease", "asthma"],
            ("diabetes", "hypertension"),
        ),
    ],
)
def test_an_unknown_choice_is_a_usage_error_that_lists_the_choices(arguments, choices, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    result = runner.invoke(app, arguments)
    assert result.exit_code == 2, result.output
    for choice in choices:
        assert f"'{choice}'" in result.output


def _commands() -> list[str]:
    return sorted(info.name or info.callback.__name__ for info in app.registered_commands)  # type: ignore[union-attr]


@pytest.mark.parametrize("command", [None, *_commands()])
def test_every_help_documents_the_exit_codes(command, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    result = runner.invoke(app, [command, "--help"] if command else ["--help"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    for code in (
        "0 success",
        "1 input or config error",
        "2 usage",
        "3 not published",
        "4 store busy",
        "5 the promotion gate refused",
    ):
        assert code in text


@pytest.fixture(scope="module")
def odd_store(tmp_path_factory, model, config):
    """A published batch whose ids look like rich markup: team ``[/bold]T9`` with residents ``[/bold]x`` and
    ``[red]x``."""
    folder = tmp_path_factory.mktemp("odd")
    residents = pd.read_parquet(write_population(folder / "r.parquet", 3000, teams=3, seed=3, as_of=SYNTH_AS_OF))
    first = residents["team_id"] == residents["team_id"].iloc[0]
    residents.loc[first, "team_id"] = MARKUP_TEAM
    rows = residents.index[first]
    residents.loc[rows[0], "resident_id"] = MARKUP_RESIDENT
    residents.loc[rows[1], "resident_id"] = RED_RESIDENT
    residents.loc[first, "grid_id"] = "[/]G"
    residents.to_parquet(folder / "odd.parquet", index=False)
    url = f"sqlite:///{folder / 'store.db'}"
    score_file(
        folder / "odd.parquet", folder / "s.parquet", model, config=config, as_of=SYNTH_AS_OF, store=ResultStore(url)
    )
    return url, str(model.save(folder / "model"))


def _worklist(store: str, model_dir: str, team: str, *extra: str):  # type: ignore[no-untyped-def]
    return runner.invoke(
        app, ["worklist", "--team", team, "--store", store, "--model", model_dir, "--capacity", "3000", *extra]
    )


@pytest.mark.parametrize(
    "arguments",
    [
        ["worklist", "--team", "NOPE"],
        ["outcomes", "--team", "NOPE"],
        ["indicators", "--team", "NOPE"],
        ["indicators", "--grid", "NOPE"],
    ],
)
def test_an_unknown_team_is_a_one_line_error_not_an_empty_table(odd_store, arguments):
    store, model_dir = odd_store
    extra = ["--model", model_dir] if arguments[0] == "worklist" else []
    result = runner.invoke(app, [*arguments, "--store", store, *extra])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "NOPE" in lines[0]


def test_a_known_team_without_outcomes_lists_an_empty_table(odd_store):
    store, _ = odd_store
    result = runner.invoke(app, ["outcomes", "--team", MARKUP_TEAM, "--store", store])
    assert result.exit_code == 0, result.output
    assert f"outcomes, team {MARKUP_TEAM}" in result.output


def test_ids_that_look_like_markup_are_printed_literally(odd_store, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    store, model_dir = odd_store
    for lang in ("en", "zh"):
        result = _worklist(store, model_dir, MARKUP_TEAM, "--lang", lang)
        assert result.exit_code == 0, result.output
        assert MARKUP_TEAM in result.output
    assert MARKUP_RESIDENT in result.output  # [red]x may have nothing due: it is checked in the outcome lines
    recorded = runner.invoke(
        app,
        [
            "outcome",
            "--team",
            MARKUP_TEAM,
            "--resident",
            RED_RESIDENT,
            "--outcome",
            "moved",
            "--store",
            store,
            "--model",
            model_dir,
        ],
    )
    assert recorded.exit_code == 0, recorded.output
    assert RED_RESIDENT in recorded.output
    listed = runner.invoke(app, ["outcomes", "--team", MARKUP_TEAM, "--store", store])
    assert listed.exit_code == 0, listed.output
    assert RED_RESIDENT in listed.output and f"team {MARKUP_TEAM}" in listed.output
    shown = runner.invoke(app, ["indicators", "--team", MARKUP_TEAM, "--store", store, "--lang", "en"])
    assert shown.exit_code == 0, shown.output
    assert MARKUP_TEAM in shown.output


def test_csv_headers_are_formula_escaped_like_cells():
    frame = pd.DataFrame({"=HYPERLINK(1)": ["=1+1", "ok"], "rank": [1, 2]})
    safe = csv_safe(frame)
    assert list(safe.columns) == ["'=HYPERLINK(1)", "rank"]
    assert safe.iloc[0, 0] == "'=1+1"
