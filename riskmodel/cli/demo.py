"""``riskmodel demo``: the main job end to end on the embedded defaults.

Synthetic population, training, promotion, batch scoring into the store, and one team's work list printed.
MLflow and the store use the configured locations (``mlflow.db`` and ``riskmodel.db`` in the working
directory by default), so ``riskmodel serve`` answers right after.
"""

from __future__ import annotations

from pathlib import Path

from riskmodel.cli.console import console, counting, err_console, metrics_table, print_worklist
from riskmodel.config import RiskConfig
from riskmodel.exceptions import PromotionRefusedError
from riskmodel.worklist.explain import Lang


def run_demo(settings: RiskConfig, *, residents: int, seed: int, lang: Lang, folder: Path) -> None:
    """Run the five steps, printing each; raises :class:`~riskmodel.exceptions.RiskModelError` on failure."""
    from riskmodel.batch import score_file
    from riskmodel.records.reading import read_residents
    from riskmodel.store.batches import ResultStore
    from riskmodel.synth import default_team_count, write_population
    from riskmodel.worklist.entries import team_worklist
    from training.promote import promote as promote_version
    from training.registry import load_model
    from training.tracking import log_training
    from training.train import train_risk_model

    as_of_date = settings.synth.as_of
    folder.mkdir(parents=True, exist_ok=True)
    teams = default_team_count(residents, settings.synth.residents_per_team)
    population = folder / "residents.parquet"
    console.rule("1. synthetic population")
    with counting("generating residents", residents) as advance:
        write_population(population, residents, teams=teams, seed=seed, as_of=as_of_date, on_chunk=advance)
    console.print(f"{residents:,} residents in {teams} teams, as of {as_of_date} -> {population}")
    console.rule("2. training")
    with err_console.status("training") as status:
        result = train_risk_model(
            read_residents(population).residents, settings, on_step=lambda text: status.update(text)
        )
        status.update("logging to MLflow")
        version = log_training(result, settings, data_sources=[str(population)])
    metrics_table(result.metrics, f"held-out residents ({result.data_summary['test_residents']:,})")
    console.rule("3. promotion")
    try:
        done = promote_version(settings, version=version)
    except PromotionRefusedError as refused:
        err_console.print(f"[yellow]gate refused: {refused}[/]; the demo promotes its own model anyway")
        done = promote_version(settings, version=version, force=True, reason="riskmodel demo")
    console.print(f"version {done.version} is champion (previous: {done.previous_champion or 'none'})")
    console.rule("4. batch scoring into the store")
    fitted = load_model(f"models:/{settings.tracking.registered_model}@champion", settings)
    store = ResultStore(settings.store.url)
    with counting("scoring residents", residents) as advance:
        summary = score_file(
            population,
            folder / "scored.parquet",
            fitted,
            config=settings,
            as_of=as_of_date,
            store=store,
            on_rows=advance,
        )
    console.print(
        f"{summary.rows_scored:,} scored, {summary.rows_rejected:,} rejected; store batch "
        f"{summary.batch_id} in {settings.store.url}"
    )
    console.rule("5. work list")
    team = store.teams()[0]
    entries, batch = team_worklist(store, team, fitted, capacity=15, lang=lang, config=settings)
    print_worklist(entries, team, batch, lang, limit=25)
