"""``riskmodel train``, ``promote`` and ``recalibrate``: the models in the registry (SPEC 6). Only the training
package talks to MLflow; these commands parse, call it and print."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from riskmodel.cli.console import console, err_console, gate_table, metrics_table
from riskmodel.cli.conventions import ConfigOption, exit_code, fail, load_settings
from riskmodel.exceptions import RiskModelError


def train(
    data: Annotated[
        list[Path],
        typer.Option(
            "--data", help="Training records: a CSV/Parquet file, several (repeat --data), or a folder of them."
        ),
    ],
    test_data: Annotated[
        list[Path] | None,
        typer.Option(
            "--test-data",
            help="Separate test records (e.g. a later survey cycle); default: a held-out split by resident.",
            show_default=False,
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Train both disease models, evaluate them, log the run to MLflow and register a 'challenger'."""
    from riskmodel.records.reading import expand_paths, read_residents
    from riskmodel.redaction import redact_url
    from training.tracking import log_training
    from training.train import train_risk_model

    try:
        settings = load_settings(config)
        files = expand_paths(data)
        with err_console.status("reading and validating records"):
            training = read_residents(files)
            test_files = expand_paths(test_data) if test_data else []
            testing = read_residents(test_files) if test_files else None
        rejected = len(training.rejected) + (len(testing.rejected) if testing else 0)
        if rejected:
            err_console.print(f"[yellow]{rejected} rows rejected by validation were left out[/]")
        with err_console.status("training") as status:
            result = train_risk_model(
                training.residents,
                settings,
                test=testing.residents if testing else None,
                on_step=lambda text: status.update(text),
            )
            status.update("logging to MLflow")
            version = log_training(
                result,
                settings,
                data_sources=[str(f) for f in files],
                test_sources=[str(f) for f in test_files],
                rejected={"training": len(training.rejected), "test": len(testing.rejected) if testing else 0},
            )
    except (RiskModelError, ValueError) as exc:
        raise fail(str(exc)) from exc
    metrics_table(result.metrics, f"test residents ({result.data_summary['test_residents']:,})")
    console.print(
        f"registered [bold]{settings.tracking.registered_model}[/] version {version} as 'challenger' "
        f"(tracking store {redact_url(settings.tracking.uri)}); promote it with 'riskmodel promote'"
    )


def promote(
    version: Annotated[
        str | None, typer.Option("--version", help="Version to promote (default: the challenger).", show_default=False)
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Promote even if the gate fails (recorded on the version).")
    ] = False,
    reason: Annotated[str, typer.Option("--reason", help="Why a forced promotion was needed (recorded).")] = "",
    data: Annotated[
        list[Path] | None,
        typer.Option(
            "--data",
            help="The challenger's evaluation residents, when the files its run logged are not readable here "
            "(default: found from the run's datasets).",
            show_default=False,
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Move the 'champion' alias to the challenger unless the gate refuses.

    Both models are measured on the challenger's evaluation residents (found from its run's datasets); the
    gate refuses when a gated metric is worse beyond the tolerance and its paired bootstrap interval
    excludes zero. The side-by-side table is printed either way.
    """
    from training.promote import PromotionRefused
    from training.promote import promote as promote_version

    if force and not reason.strip():
        raise fail("--force needs --reason TEXT: why the gate is overridden is recorded on the version")
    settings = load_settings(config)
    try:
        done = promote_version(settings, version=version, force=force, reason=reason, data=data)
    except PromotionRefused as refused:
        if refused.gate:
            named = f"v{version}" if version else "challenger"
            gate_table(
                refused.gate,
                tolerance=settings.promotion.tolerance,
                challenger=named,
                champion="champion",
                evaluated_on=refused.evaluated_on,
            )
        raise fail(str(refused), exit_code(refused)) from refused
    except RiskModelError as exc:
        raise fail(str(exc)) from exc
    champion = f"champion v{done.previous_champion}" if done.previous_champion else "champion -"
    gate_table(
        done.gate,
        tolerance=settings.promotion.tolerance,
        challenger=f"v{done.version}",
        champion=champion,
        evaluated_on=done.evaluated_on,
    )
    forced = " (forced)" if done.forced else ""
    console.print(f"{done.name} version {done.version} is now 'champion'{forced}")


def recalibrate(
    data: Annotated[
        list[Path],
        typer.Option("--data", help="The site's own residents (file, several --data, or a folder) with measurements."),
    ],
    version: Annotated[
        str | None,
        typer.Option(
            "--version", help="Registered version to recalibrate (default: the champion).", show_default=False
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Refit only the calibration of a registered model on local measured residents of the population it
    serves; registers the result as a new 'challenger' with its parent recorded, and prints ECE and
    observed/expected before and after."""
    from riskmodel.records.reading import expand_paths, read_residents
    from serving.registry import load_model, resolve_version
    from training.recalibrate import recalibrate as recalibrate_model
    from training.tracking import log_recalibration

    try:
        settings = load_settings(config)
        name = settings.tracking.registered_model
        uri = f"models:/{name}/{version}" if version else f"models:/{name}@champion"
        parent = resolve_version(uri, settings) or (version or "champion")
        files = expand_paths(data)  # a folder's files, each logged as a dataset with its digest
        result = recalibrate_model(load_model(uri, settings), read_residents(files).residents, settings)
        new_version = log_recalibration(
            result, settings, parent_version=str(parent), data_sources=[str(p) for p in files]
        )
    except (RiskModelError, ValueError) as exc:
        raise fail(str(exc)) from exc
    for disease in ("diabetes", "hypertension"):
        m = {key.removeprefix(f"{disease}_"): value for key, value in result.metrics.items()}
        console.print(
            f"{disease}: ECE {m['ece_equal_frequency_before']:.4f} -> {m['ece_equal_frequency_after']:.4f}, "
            f"observed/expected {m['observed_expected_before']:.2f} -> {m['observed_expected_after']:.2f} "
            f"({result.data_summary[f'{disease}_local_residents']:,} local residents)"
        )
    console.print(
        f"registered {name} version {new_version} (parent {parent}) as 'challenger'; promote with 'riskmodel promote'"
    )
