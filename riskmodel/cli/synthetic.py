"""``riskmodel synth`` and ``riskmodel demo``: a synthetic population, and the main job end to end on it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from riskmodel.cli.console import console, counting
from riskmodel.cli.conventions import ConfigOption, LangChoice, fail, load_settings
from riskmodel.exceptions import RiskModelError

if TYPE_CHECKING:
    from riskmodel.worklist.explain import Lang


def synth(
    residents: Annotated[int, typer.Option("--residents", help="How many residents to generate.")] = 100_000,
    teams: Annotated[
        int | None,
        typer.Option(
            "--teams",
            help="How many family-doctor teams (each at most 1,500 residents). Default: about 1,200 residents a team.",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives the same file.")] = 42,
    out: Annotated[Path, typer.Option("--out", help="Output file, .csv or .parquet.")] = Path("residents.parquet"),
    as_of: Annotated[
        dt.datetime | None,
        typer.Option(
            "--as-of",
            formats=["%Y-%m-%d"],
            help="As-of date the record dates are relative to (default: synth.as_of in the config).",
            show_default=False,
        ),
    ] = None,
    history_years: Annotated[
        int,
        typer.Option(
            "--history-years",
            min=0,
            max=10,
            help="Years of events to generate (follow-ups, checks, results, referrals) into <stem>.events.<ext>; "
            "0 for residents only.",
        ),
    ] = 3,
    config: ConfigOption = None,
) -> None:
    """Generate a synthetic population of Chinese adults in the resident-record schema, with their histories."""
    from riskmodel.synth import default_team_count, write_population
    from riskmodel.synth.population import events_path

    try:
        settings = load_settings(config)
        team_count = teams or default_team_count(residents, settings.synth.residents_per_team)
        as_of_date = as_of.date() if as_of else settings.synth.as_of
        with counting("generating residents", residents) as advance:
            write_population(
                out,
                residents,
                teams=team_count,
                seed=seed,
                as_of=as_of_date,
                on_chunk=advance,
                history_years=history_years,
            )
    except RiskModelError as exc:
        raise fail(str(exc)) from exc
    console.print(f"wrote {residents:,} residents in {team_count:,} teams to {out} (as of {as_of_date}, seed {seed})")
    if history_years:
        console.print(f"wrote their {history_years}-year histories to {events_path(out)}")


def demo(
    residents: Annotated[int, typer.Option("--residents", help="Size of the synthetic population.")] = 60_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 42,
    lang: Annotated[LangChoice, typer.Option("--lang", help="Language of the printed work list: zh or en.")] = "zh",
    folder: Annotated[Path, typer.Option("--folder", help="Where the demo's data files go.")] = Path("riskmodel-demo"),
    config: ConfigOption = None,
) -> None:
    """The main job end to end on the embedded defaults: synthetic population with 3-year histories, training,
    promotion, batch scoring with the events into the store, one team's work list and indicators printed.
    MLflow and the store use the configured locations (mlflow.db and riskmodel.db in the working directory by
    default)."""
    from riskmodel.cli.demo import run_demo

    try:
        run_demo(load_settings(config), residents=residents, seed=seed, lang=cast("Lang", lang), folder=folder)
    except RiskModelError as exc:
        raise fail(str(exc)) from exc
