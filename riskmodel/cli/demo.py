"""``riskmodel demo``: the main job end to end on the embedded defaults.

Synthetic population with 3-year histories, training, promotion, batch scoring with the events into the store,
one team's work list and indicators printed, and what the histories change.
MLflow and the store use the configured locations (``mlflow.db`` and ``riskmodel.db`` in the working
directory by default), so ``riskmodel serve`` answers right after.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from riskmodel.cli.console import console, counting, err_console, metrics_table, print_worklist, wrap_cells
from riskmodel.config import RiskConfig
from riskmodel.exceptions import PromotionRefusedError
from riskmodel.redaction import redact_url
from riskmodel.worklist.explain import Lang


def run_demo(settings: RiskConfig, *, residents: int, seed: int, lang: Lang, folder: Path) -> None:
    """Run the steps, printing each; raises :class:`~riskmodel.exceptions.RiskModelError` on failure."""
    folder.mkdir(parents=True, exist_ok=True)
    population = _synthesise(settings, residents=residents, seed=seed, folder=folder)
    version = _train(settings, population)
    fitted = _promote(settings, version)
    store = _score_into_store(settings, fitted, population, residents=residents, folder=folder)
    _show_team(settings, store, fitted, lang)


def _synthesise(settings: RiskConfig, *, residents: int, seed: int, folder: Path) -> Path:
    """1. A synthetic population with 3-year histories."""
    from riskmodel.synth import default_team_count, write_population
    from riskmodel.synth.population import events_path

    as_of_date = settings.synth.as_of
    teams = default_team_count(residents, settings.synth.residents_per_team)
    population = folder / "residents.parquet"
    console.rule("1. synthetic population")
    with counting("generating residents and their histories", residents) as advance:
        write_population(
            population, residents, teams=teams, seed=seed, as_of=as_of_date, on_chunk=advance, history_years=3
        )
    console.print(
        f"{residents:,} residents in {teams} teams with 3-year histories, as of {as_of_date} -> {population}, "
        f"{events_path(population).name}"
    )
    return population


def _train(settings: RiskConfig, population: Path) -> str:
    """2. Training on the residents as scoring will see them (their histories applied), logged to MLflow."""
    from riskmodel.records.reading import read_residents
    from riskmodel.synth.population import events_path
    from training.tracking import log_training
    from training.train import train_risk_model

    console.rule("2. training")
    with err_console.status("training") as status:
        status.update("applying the residents' histories (what scoring will see)")
        training_residents = as_scored(read_residents(population).residents, events_path(population), settings)
        result = train_risk_model(training_residents, settings, on_step=lambda text: status.update(text))
        status.update("logging to MLflow")
        version = log_training(result, settings, data_sources=[str(population)])
    metrics_table(result.metrics, f"held-out residents ({result.data_summary['test_residents']:,})")
    return version


def _promote(settings: RiskConfig, version: str) -> Any:
    """3. The version promoted to champion (past the gate if it refuses: the demo's own model), and loaded."""
    from serving.registry import load_model
    from training.promote import promote as promote_version

    console.rule("3. promotion")
    try:
        done = promote_version(settings, version=version)
    except PromotionRefusedError as refused:
        err_console.print(f"[yellow]gate refused: {refused}[/]; the demo promotes its own model anyway")
        done = promote_version(settings, version=version, force=True, reason="riskmodel demo")
    console.print(f"version {done.version} is champion (previous: {done.previous_champion or 'none'})")
    return load_model(f"models:/{settings.tracking.registered_model}@champion", settings)


def _score_into_store(settings: RiskConfig, fitted: Any, population: Path, *, residents: int, folder: Path) -> Any:
    """4. The population scored with its histories and published to the store (with the README's demo key)."""
    from riskmodel.batch import score_file
    from riskmodel.store.batches import ResultStore
    from riskmodel.synth.population import events_path

    console.rule("4. batch scoring into the store")
    store = ResultStore(settings.store.url, keep_batches=settings.store.keep_batches)
    store.keys.issue_demo_key()  # the README's key, accepted only from this demo store (SPEC 16)
    with counting("scoring residents", residents) as advance:
        summary = score_file(
            population,
            folder / "scored.parquet",
            fitted,
            config=settings,
            as_of=settings.synth.as_of,
            store=store,
            on_rows=advance,
            events_path=events_path(population),
        )
    console.print(
        f"{summary.rows_scored:,} scored, {summary.rows_rejected:,} rejected; {summary.events_read:,} events = "
        f"{summary.events_used:,} used + {summary.events_rejected:,} rejected; store batch {summary.batch_id} "
        f"in {redact_url(settings.store.url)}"
    )
    return store


def _show_team(settings: RiskConfig, store: Any, fitted: Any, lang: Lang) -> None:
    """5-7. The first team's work list, its indicators, and what histories changed for some residents."""
    from riskmodel.cli.indicator_tables import print_indicators
    from riskmodel.indicators.report import unit_indicators
    from riskmodel.worklist.team import team_worklist

    console.rule("5. work list")
    team = store.teams()[0]
    entries, batch = team_worklist(
        store,
        team,
        fitted,
        today=settings.deployment.today(),
        as_of=settings.synth.as_of,
        capacity=15,
        lang=lang,
        config=settings,
    )
    print_worklist(entries, team, batch, lang, limit=25)
    console.rule("6. indicators")
    figures = unit_indicators(store, level="team", units=[team], months=12, config=settings)
    print_indicators(figures["units"], figures, lang)
    console.rule("7. histories at work")
    for line in history_examples(store, fitted, settings, lang):
        for k, part in enumerate(wrap_cells(line, 80, 2)):
            console.print(("" if k == 0 else "  ") + part, highlight=False, markup=False)


def as_scored(residents: Any, events_file: Path, settings: RiskConfig) -> Any:
    """The residents as scoring with their events sees them: a diagnosis or treatment their history records
    is recorded in the row too, so that training serves the same population (and feature distribution) that
    the batch scores and monitoring compares against the training reference (SPEC 12)."""
    import numpy as np
    import pyarrow.parquet as pq

    from riskmodel.records.derivation import history_state
    from riskmodel.records.events import validate_events
    from riskmodel.records.reading import resident_columns

    as_of = settings.synth.as_of
    events = validate_events(pq.read_table(events_file), as_of=as_of).events
    state = history_state(
        resident_columns(residents), residents["resident_id"].to_numpy(), events, as_of=as_of, config=settings
    )
    out = residents.copy()
    for disease in ("diabetes", "hypertension"):
        by_events = np.asarray(state[f"{disease}_recorded_by_events"] == 1.0)
        out.loc[by_events, f"diagnosed_{disease}"] = True
    return out


def history_examples(store: Any, model: Any, settings: RiskConfig, lang: Lang, teams: int = 8) -> list[str]:
    """A confirmed and an unconfirmed measured hypertension and a recheck dated from its reading, found in the
    first teams' lists: what the residents' histories change."""
    from riskmodel.worklist.team import team_worklist

    wanted = {
        "confirmed": lambda a: a["disease"] == "hypertension" and a["label"] in ("登记诊断", "record the diagnosis"),
        "unconfirmed": lambda a: (
            a["disease"] == "hypertension"
            and a["action"] == "confirm_diagnosis"
            and a["label"] not in ("登记诊断", "record the diagnosis")
        ),
        "recheck": lambda a: a["action"] == "recheck",
    }
    found: dict[str, str] = {}
    for team in store.teams()[:teams]:
        worklist, _ = team_worklist(
            store,
            team,
            model,
            today=settings.deployment.today(),
            as_of=store.latest_batch()["as_of"],
            capacity=1000,
            lang=lang,
            config=settings,
        )
        for entry in worklist.entries:
            for name, matches in wanted.items():
                for k, action in enumerate(entry["actions"][:1]):  # its first reason states the values
                    if name not in found and matches(action):
                        found[name] = f"{entry['resident_id']} ({team}): {entry['reasons'][k]}"
        if len(found) == len(wanted):
            break
    return [found[name] for name in wanted if name in found]
