"""The ``riskmodel`` command line (SPEC section 7). Commands parse, call the library and format."""

from __future__ import annotations

import datetime as dt
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from riskmodel.config import RiskConfig, load_config
from riskmodel.exceptions import RiskModelError

app = typer.Typer(
    name="riskmodel",
    help="Find and follow residents with type 2 diabetes and hypertension: tiers, calibrated risk, "
    "and prioritised work lists for family-doctor teams.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="YAML config file (default: configs/default.yaml).", show_default=False)
]


def progress_bar(description: str) -> Progress:
    """A progress bar on standard error, quiet when standard error is not a terminal."""
    return Progress(
        TextColumn(f"[bold]{description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err_console, transient=False, disable=not sys.stderr.isatty(),
    )


def _config(path: Path | None) -> RiskConfig:
    return load_config(path)


def fail(message: str) -> typer.Exit:
    """Print one line naming the problem on standard error and exit non-zero."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code=1)


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")


@app.command()
def synth(
    residents: Annotated[int, typer.Option("--residents", help="How many residents to generate.")] = 100_000,
    teams: Annotated[int | None, typer.Option("--teams", help="How many family-doctor teams (each at most "
                                              "1,500 residents). Default: about 1,200 residents a team.",
                                              show_default=False)] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives the same file.")] = 42,
    out: Annotated[Path, typer.Option("--out", help="Output file, .csv or .parquet.")] = Path("residents.parquet"),
    as_of: Annotated[dt.datetime | None, typer.Option("--as-of", formats=["%Y-%m-%d"],
                                                      help="As-of date the record dates are relative to "
                                                      "(default: synth.as_of in the config).",
                                                      show_default=False)] = None,
    config: ConfigOption = None,
) -> None:
    """Generate a synthetic population of Chinese adults in the resident-record schema."""
    from riskmodel.synth import write_population

    try:
        settings = _config(config)
        team_count = teams or max(1, -(-residents // settings.synth.residents_per_team))
        as_of_date = as_of.date() if as_of else settings.synth.as_of
        with progress_bar("generating residents") as bar:
            task = bar.add_task("synth", total=residents)
            write_population(out, residents, teams=team_count, seed=seed, as_of=as_of_date,
                             on_chunk=lambda rows: bar.advance(task, rows))
    except RiskModelError as exc:
        raise fail(str(exc)) from exc
    console.print(f"wrote {residents:,} residents in {team_count:,} teams to {out} (as of {as_of_date}, seed {seed})")


def run() -> None:  # pragma: no cover - console entry point alias
    app()
