"""The ``riskmodel`` command line (SPEC section 7). Commands parse, call the library and format."""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from riskmodel.cli import operations
from riskmodel.cli.console import console, counting, err_console, metrics_table, print_worklist
from riskmodel.cli.conventions import (
    EXIT_ERROR,
    EXIT_GATE_REFUSED,
    EXIT_NOT_PUBLISHED,
    EXIT_OK,
    EXIT_STORE_BUSY,
    DiseaseChoice,
    EncodingChoice,
    EngineChoice,
    ExitCodesGroup,
    FormatChoice,
    IndicatorFormatChoice,
    LangChoice,
    OutcomeChoice,
    show_version,
)
from riskmodel.cli.operations import audit_write
from riskmodel.config import RiskConfig, load_config
from riskmodel.exceptions import InputFileError as InputFileErrorForCli
from riskmodel.exceptions import RiskModelError
from riskmodel.records.writing import csv_safe, write_owner_only

if TYPE_CHECKING:
    from riskmodel.worklist.explain import Lang

app = typer.Typer(
    name="riskmodel",
    help="Find and follow residents with type 2 diabetes and hypertension: tiers, calibrated risk, "
    "and prioritised work lists for family-doctor teams.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=ExitCodesGroup,
)

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="YAML config file (default: configs/default.yaml).", show_default=False)
]


def _config(path: Path | None) -> RiskConfig:
    return load_config(path)


def exit_code(error: BaseException) -> int:
    """The exit code of an error (SPEC 16): 3 not published, 4 store busy, 5 gate refused, else 1."""
    from riskmodel.exceptions import PromotionRefusedError, PublishRefusedError, StoreBusyError

    if isinstance(error, PublishRefusedError):
        return EXIT_NOT_PUBLISHED
    if isinstance(error, StoreBusyError):
        return EXIT_STORE_BUSY
    if isinstance(error, PromotionRefusedError):
        return EXIT_GATE_REFUSED
    return EXIT_ERROR


def fail(message: str, code: int = EXIT_ERROR) -> typer.Exit:
    """Print one line naming the problem on standard error and exit non-zero."""
    err_console.print(f"error: {message}", highlight=False, soft_wrap=True, markup=False, style="bold red")
    return typer.Exit(code=code)


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=show_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    if not verbose:  # MLflow sets up its own INFO logging when imported; keep the screen to our output
        os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")


@app.command()
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
        settings = _config(config)
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


# --------------------------------------------------------------------------------------------- training


@app.command()
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
        settings = _config(config)
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


@app.command()
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
    settings = _config(config)
    try:
        done = promote_version(settings, version=version, force=force, reason=reason, data=data)
    except PromotionRefused as refused:
        if refused.gate:
            named = f"v{version}" if version else "challenger"
            gate_table(refused.gate, settings, challenger=named, champion="champion", evaluated_on=refused.evaluated_on)
        raise fail(str(refused), exit_code(refused)) from refused
    except RiskModelError as exc:
        raise fail(str(exc)) from exc
    champion = f"champion v{done.previous_champion}" if done.previous_champion else "champion -"
    gate_table(done.gate, settings, challenger=f"v{done.version}", champion=champion, evaluated_on=done.evaluated_on)
    forced = " (forced)" if done.forced else ""
    console.print(f"{done.name} version {done.version} is now 'champion'{forced}")


GATE_METRIC_WORDS = {"auroc": "AUROC", "auprc": "AUPRC", "ece": "ECE", "ece_equal_frequency": "ECE (equal-freq.)"}


def gate_table(rows: list[Any], settings: RiskConfig, *, challenger: str, champion: str, evaluated_on: str) -> None:
    """The promotion gate side by side: both models on the same residents, the difference and its interval."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    title = f"promotion gate (tolerance {settings.promotion.tolerance}; {evaluated_on or 'no evaluation data'})"
    table = Table(title=title, box=box.SIMPLE_HEAD)
    for name in ("metric", escape(challenger), escape(champion), "diff.", "95 % CI (paired)", "passed"):
        table.add_column(name, no_wrap=name != "metric")
    for row in rows:
        compared = not math.isnan(row.champion)
        disease, _, name = row.metric.partition("_")
        table.add_row(
            f"{disease}\n{GATE_METRIC_WORDS.get(name, name)}",
            f"{row.challenger:.4f}",
            f"{row.champion:.4f}" if compared else "-",
            f"{row.difference:+.4f}" if compared else "-",
            f"{row.ci_low:+.3f} to {row.ci_high:+.3f}" if compared else "-",
            "yes" if row.passed else "NO",
        )
    console.print(table)


@app.command()
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
        settings = _config(config)
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


# ---------------------------------------------------------------------------------------------- scoring

ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        help="Model URI (models:/riskmodel@champion, models:/riskmodel/3) or a local model folder.",
        show_default=False,
    ),
]
StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="Result store URL (default: store.url in the config, a SQLite file in the working directory).",
        show_default=False,
    ),
]
EncodingOption = Annotated[
    EncodingChoice,
    typer.Option("--encoding", help="Encoding of CSV input: utf-8, gbk or gb18030 (files saved by Chinese Excel)."),
]
AllowRejectedOption = Annotated[
    bool,
    typer.Option("--allow-rejected", help="Publish even above batch.max_rejected_share (never when nothing scored)."),
]
WaitOption = Annotated[
    float, typer.Option("--wait", min=0, help="Seconds to wait for another run's store lock before exit code 4.")
]
ContactsOption = Annotated[
    Path | None,
    typer.Option(
        "--contacts",
        help="Contacts file (.csv/.parquet: resident_id, name, phone, address), stored apart from the batch for "
        "the team's own list (SPEC 15).",
        show_default=False,
    ),
]
AsOfOption = Annotated[
    dt.datetime | None,
    typer.Option("--as-of", formats=["%Y-%m-%d"], help="As-of date (default: today).", show_default=False),
]


def _load(model_uri: str | None, settings: RiskConfig):  # type: ignore[no-untyped-def]
    from serving.registry import load_model

    with err_console.status("loading the model"):
        return load_model(model_uri, settings)


def _stop_cleanly_on_sigterm() -> None:
    """Turn SIGTERM into KeyboardInterrupt so a stopped batch removes its temporary files."""
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)


def _count_rows(path: Path) -> int | None:
    if path.suffix.lower() == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            return int(pq.ParquetFile(path).metadata.num_rows)
        except (OSError, pa.ArrowException) as exc:
            raise InputFileErrorForCli(
                f"{path}: not a readable Parquet file (save it as Parquet, or as CSV under a .csv name)"
            ) from exc
    with path.open("rb") as handle:
        lines = sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 24), b""))
    return max(lines - 1, 0)


@app.command()
def score(
    input: Annotated[Path, typer.Option("--input", help="Resident records, .csv or .parquet.")],
    output: Annotated[
        Path,
        typer.Option(
            "--output", help="Scored output, .csv or .parquet; rejected rows go to <stem>.rejected.<ext> beside it."
        ),
    ],
    events: Annotated[
        Path | None,
        typer.Option(
            "--events",
            help="The residents' events (SPEC 2.2), .csv or .parquet; rejected events go to "
            "<stem>.events.rejected.<ext> beside the output.",
            show_default=False,
        ),
    ] = None,
    model: ModelOption = None,
    engine: Annotated[
        EngineChoice, typer.Option("--engine", help="local, or spark (PySpark; --spark-master for a cluster).")
    ] = "local",
    store: StoreOption = None,
    as_of: AsOfOption = None,
    spark_master: Annotated[
        str, typer.Option("--spark-master", help="Spark master URL for --engine spark.")
    ] = "local[2]",
    no_store: Annotated[bool, typer.Option("--no-store", help="Do not write the batch to the result store.")] = False,
    encoding: EncodingOption = "utf-8",
    allow_rejected: AllowRejectedOption = False,
    wait: WaitOption = 0.0,
    contacts: ContactsOption = None,
    config: ConfigOption = None,
) -> None:
    """Score a file of resident records in batch: tiers, probabilities, actions, due dates, priorities.

    Exit codes: 0 published; 1 an input, config or model problem; 3 scored but not published (nothing scored,
    or more rejected than batch.max_rejected_share); 4 another run holds the store's lock."""
    from riskmodel.batch import score_file
    from riskmodel.store.batches import ResultStore

    if contacts is not None and no_store:
        raise fail("--contacts are kept in the result store: leave out --no-store")
    _stop_cleanly_on_sigterm()
    try:
        settings = _config(config)
        for path in (input, events):
            if path is not None and not path.exists():
                raise fail(f"{path}: no such file")
        fitted = _load(model, settings)
        result_store = (
            None if no_store else ResultStore(store or settings.store.url, keep_batches=settings.store.keep_batches)
        )
        day = as_of.date() if as_of else settings.deployment.today()
        if engine == "spark":
            from serving.spark_engine import score_file_spark

            with err_console.status(f"scoring on Spark ({spark_master})"):
                summary = score_file_spark(
                    input,
                    output,
                    fitted,
                    config=settings,
                    as_of=day,
                    store=result_store,
                    master=spark_master,
                    events_path=events,
                    allow_rejected=allow_rejected,
                    wait=wait,
                )
        else:
            with counting("scoring residents", _count_rows(input)) as advance:
                summary = score_file(
                    input,
                    output,
                    fitted,
                    config=settings,
                    as_of=day,
                    store=result_store,
                    on_rows=advance,
                    events_path=events,
                    encoding=encoding,
                    allow_rejected=allow_rejected,
                    wait=wait,
                )
        if contacts is not None and result_store is not None:
            from riskmodel.cli.team_list import store_contacts

            loaded = store_contacts(contacts, store, settings)
        if summary.batch_id:
            audit_write(result_store, settings, "score", residents=summary.rows_scored, request_id=summary.batch_id)
    except RiskModelError as exc:
        raise fail(str(exc), exit_code(exc)) from exc
    if contacts is not None and result_store is not None:
        console.print(f"contacts: {loaded['contacts_stored']:,} stored, {loaded['contacts_rejected']:,} rejected")
    console.print(
        f"read {summary.rows_read:,} rows = {summary.rows_scored:,} scored + {summary.rows_rejected:,} "
        f"rejected (model {fitted.version}, as of {day})"
    )
    for name, counts in summary.tiers.items():
        console.print(
            f"  {name}: " + ", ".join(f"{tier} {counts.get(tier, 0):,}" for tier in ("healthy", "high_risk", "chronic"))
        )
    console.print("  actions: " + ", ".join(f"{name} {count:,}" for name, count in summary.actions.most_common()))
    if events is not None:
        console.print(
            f"read {summary.events_read:,} events = {summary.events_used:,} used + {summary.events_rejected:,} "
            f"rejected ({summary.events_rejected_output})"
        )
    console.print(
        f"wrote {summary.output} and {summary.rejected_output}"
        + (f"; store batch {summary.batch_id}" if summary.batch_id else "")
    )


@app.command()
def nightly(
    input: Annotated[Path, typer.Option("--input", help="Resident records, .csv or .parquet.")],
    output_dir: Annotated[Path, typer.Option("--output-dir", help="Folder for the scored and rejected files.")],
    events: Annotated[
        Path | None, typer.Option("--events", help="The residents' events, .csv or .parquet.", show_default=False)
    ] = None,
    model: ModelOption = None,
    store: StoreOption = None,
    as_of: AsOfOption = None,
    encoding: EncodingOption = "utf-8",
    allow_rejected: AllowRejectedOption = False,
    wait: WaitOption = 0.0,
    contacts: ContactsOption = None,
    config: ConfigOption = None,
) -> None:
    """What an operator schedules every night: score into the store, publish (SPEC 8), compute the batch's
    indicators, prune old batches; prints one JSON summary line.

    Exit codes: 0 published; 1 an input, config, model or store problem (the line says which); 3 scored but not
    published (nothing scored, or more rows or events rejected than batch.max_rejected_share: the previous batch
    stays in service); 4 another run holds the store's lock (after --wait seconds)."""
    import json
    import time

    from riskmodel.batch import score_file
    from riskmodel.store.batches import ResultStore

    started = time.perf_counter()
    _stop_cleanly_on_sigterm()
    summary_line: dict[str, object] = {
        "command": "nightly",
        "input": str(input),
        "events": str(events) if events else None,
    }
    code = EXIT_OK
    try:
        settings = _config(config)
        for path in (input, events):
            if path is not None and not path.exists():
                raise InputFileErrorForCli(f"{path}: no such file")
        fitted = _load(model, settings)
        day = as_of.date() if as_of else settings.deployment.today()
        output_dir.mkdir(parents=True, exist_ok=True)
        output = output_dir / f"scored-{day}.parquet"
        result_store = ResultStore(store or settings.store.url, keep_batches=settings.store.keep_batches)
        summary = score_file(
            input,
            output,
            fitted,
            config=settings,
            as_of=day,
            store=result_store,
            events_path=events,
            encoding=encoding,
            allow_rejected=allow_rejected,
            wait=wait,
        )
        audit_write(result_store, settings, "nightly", residents=summary.rows_scored, request_id=summary.batch_id)
        summary_line.update(status="published", batch_id=summary.batch_id, as_of=str(day), model_version=fitted.version)
        summary_line.update(_counts(summary))
        if summary.monitoring is not None and summary.batch_id is not None:
            from training.tracking import log_monitoring

            log_monitoring(summary.monitoring, settings, batch_id=summary.batch_id, model_version=fitted.version)
            summary_line["retrain_recommended"] = summary.monitoring["retrain_recommended"]
        from riskmodel.cli.team_list import prune_store_contacts, store_contacts

        summary_line.update(
            store_contacts(contacts, store, settings)
            if contacts is not None
            else {"contacts_pruned": prune_store_contacts(store, settings)}
        )
    except RiskModelError as exc:
        code = exit_code(exc)
        summary_line.update(status="not_published" if code == EXIT_NOT_PUBLISHED else "error", error=str(exc))
    summary_line.update(exit_code=code, seconds=round(time.perf_counter() - started, 1))
    sys.stdout.write(json.dumps(summary_line, ensure_ascii=False) + "\n")
    if code != EXIT_OK:
        err_console.print(f"error: {summary_line.get('error')}", highlight=False, markup=False, style="bold red")
        raise typer.Exit(code=code)


def _counts(summary: Any) -> dict[str, object]:
    return {
        "rows_read": summary.rows_read,
        "rows_scored": summary.rows_scored,
        "rows_rejected": summary.rows_rejected,
        "events_read": summary.events_read,
        "events_used": summary.events_used,
        "events_rejected": summary.events_rejected,
        "output": str(summary.output),
        "rejected_output": str(summary.rejected_output),
        "events_rejected_output": str(summary.events_rejected_output) if summary.events_rejected_output else None,
    }


# -------------------------------------------------------------------------------------------- work lists


@app.command()
def worklist(
    team: Annotated[str, typer.Option("--team", help="Team id.")],
    as_of: AsOfOption = None,
    capacity: Annotated[
        int | None,
        typer.Option(
            "--capacity",
            min=1,
            help="Entries shared by bands 2-4; band 1 is never cut (default: worklist.capacity).",
            show_default=False,
        ),
    ] = None,
    lang: Annotated[LangChoice, typer.Option("--lang", help="Language of the reasons: zh or en.")] = "zh",
    output_format: Annotated[FormatChoice, typer.Option("--format", help="table, csv or json.")] = "table",
    contacts: Annotated[
        bool, typer.Option("--contacts", help="Show each resident's name, phone and address (the team's own list).")
    ] = False,
    store: StoreOption = None,
    model: ModelOption = None,
    config: ConfigOption = None,
) -> None:
    """Print a team's prioritised work list from the latest scored batch (as of its date unless --as-of).

    Exit codes: 0 printed; 1 an unknown team, no published batch, or a config or model problem."""
    import json

    from riskmodel.store.batches import ResultStore
    from riskmodel.worklist.entries import worklist_body
    from riskmodel.worklist.team import team_worklist

    try:
        settings = _config(config)
        fitted = _load(model, settings)
        result_store = ResultStore(store or settings.store.url)
        entries, batch = team_worklist(
            result_store,
            team,
            fitted,
            as_of=as_of.date() if as_of else None,
            capacity=capacity,
            lang=cast("Lang", lang),
            config=settings,
        )
        if contacts:
            from riskmodel.worklist.contacts import attach_contacts

            attach_contacts(result_store, team, entries.entries)
    except (RiskModelError, LookupError) as exc:
        raise fail(str(exc).strip("'\"")) from exc
    if output_format == "table":
        print_worklist(entries, team, batch, lang)
    elif output_format == "csv":
        sys.stdout.write(csv_safe(entries.to_frame(contacts=contacts)).to_csv(index=False))
    else:
        body = {"team_id": team, **worklist_body(entries, batch, cast("Lang", lang))}
        sys.stdout.write(json.dumps(body, ensure_ascii=False, indent=1) + "\n")


# ------------------------------------------------------------------------------------------- outcomes


@app.command()
def outcome(
    team: Annotated[str, typer.Option("--team", help="Team id.")],
    resident: Annotated[str, typer.Option("--resident", help="Resident id.")],
    outcome_code: Annotated[
        OutcomeChoice,
        typer.Option(
            "--outcome",
            help="agreed, call_later, unreachable, declined, done, referred, referral_arrived, referral_returned, "
            "moved, died, transferred, reinstate or reminded.",
        ),
    ],
    action: Annotated[
        str | None,
        typer.Option(
            "--action", help="The action it answers (not needed for moved/died/transferred/reinstate/reminded)."
        ),
    ] = None,
    disease: Annotated[DiseaseChoice | None, typer.Option("--disease", help="diabetes or hypertension.")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (required for declined).")] = None,
    note: Annotated[str | None, typer.Option("--note", help="A note for the team.")] = None,
    recorded_on: Annotated[
        dt.datetime | None,
        typer.Option(
            "--recorded-on", formats=["%Y-%m-%d"], help="When it happened (default: today).", show_default=False
        ),
    ] = None,
    store: StoreOption = None,
    model: ModelOption = None,
    config: ConfigOption = None,
) -> None:
    """Record what happened to a work-list action; the list hides, removes or tracks it from then on."""
    import getpass

    from riskmodel.store.batches import ResultStore
    from riskmodel.worklist.team import OutcomeError, record_outcome

    try:
        settings = _config(config)
        result_store = ResultStore(store or settings.store.url)
        row, _ = record_outcome(
            result_store,
            team,
            _load(model, settings),
            {
                "resident_id": resident,
                "disease": disease,
                "action": action,
                "outcome": outcome_code,
                "reason": reason,
                "note": note,
                "recorded_on": recorded_on.date() if recorded_on else None,
            },
            recorded_by=f"cli-{getpass.getuser()}",
            config=settings,
        )
        audit_write(result_store, settings, "outcome", teams=[team], residents=1)
    except (RiskModelError, LookupError, OutcomeError) as exc:
        raise fail(str(exc).strip("'\"")) from exc
    until = f", hidden until {row['hidden_until']}" if row["hidden_until"] else ""
    console.print(
        f"recorded {row['outcome']} for {resident} on {row['recorded_on']}{until} ({row['outcome_id']})", markup=False
    )


@app.command()
def outcomes(
    team: Annotated[str, typer.Option("--team", help="Team id.")],
    since: Annotated[
        dt.datetime | None,
        typer.Option(
            "--since", formats=["%Y-%m-%d"], help="Only outcomes recorded on or after this date.", show_default=False
        ),
    ] = None,
    output_format: Annotated[FormatChoice, typer.Option("--format", help="table, csv or json.")] = "table",
    store: StoreOption = None,
    config: ConfigOption = None,
) -> None:
    """List a team's recorded outcomes (the audit trail: who, what, when)."""
    import json

    import pandas as pd
    from rich.markup import escape
    from rich.table import Table

    from riskmodel.store.batches import ResultStore

    try:
        settings = _config(config)
        result_store = ResultStore(store or settings.store.url)
        rows = result_store.outcomes.for_team(
            team, since=since.date() if since else None, effective=False
        )  # the whole log: void records (and the outcomes they void) included
        if not rows and team not in result_store.teams():
            raise fail(f"team {team} has no residents in the latest batch and no recorded outcomes")
    except RiskModelError as exc:
        raise fail(str(exc)) from exc
    if output_format == "json":
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, default=str, indent=1) + "\n")
        return
    if output_format == "csv":
        sys.stdout.write(csv_safe(pd.DataFrame(rows)).to_csv(index=False))
        return
    table = Table(title=f"outcomes, team {escape(team)}")
    for name in ("recorded_on", "resident_id", "disease", "action", "outcome", "hidden_until", "recorded_by"):
        table.add_column(name)
    for row in rows:
        table.add_row(
            *(
                escape(str(row[name] or ""))
                for name in (
                    "recorded_on",
                    "resident_id",
                    "disease",
                    "action",
                    "outcome",
                    "hidden_until",
                    "recorded_by",
                )
            )
        )
    console.print(table)


# ------------------------------------------------------------------------------------------- indicators


@app.command()
def indicators(
    team: Annotated[str | None, typer.Option("--team", help="One team's indicators.", show_default=False)] = None,
    grid: Annotated[str | None, typer.Option("--grid", help="One grid's indicators.", show_default=False)] = None,
    all_units: Annotated[bool, typer.Option("--all", help="Every team, and the county total.")] = False,
    as_of: AsOfOption = None,
    months: Annotated[int, typer.Option("--months", min=1, max=36, help="Months of trend (month ends).")] = 12,
    output_format: Annotated[
        IndicatorFormatChoice,
        typer.Option("--format", help="table, csv, json or xlsx (an Excel workbook, with --output)."),
    ] = "table",
    output: Annotated[
        Path | None, typer.Option("--output", help="File for csv/json/xlsx (default: standard output; xlsx needs it).")
    ] = None,
    lang: Annotated[LangChoice, typer.Option("--lang", help="Language of the indicator names: zh or en.")] = "zh",
    store: StoreOption = None,
    config: ConfigOption = None,
) -> None:
    """Team indicators (SPEC 11): 管理率, 规范管理率, 控制率, high-risk screening and WHO HEARTS, with trends."""
    from riskmodel.cli.indicator_tables import indicator_frame, print_indicators, write_workbook
    from riskmodel.indicators.report import unit_indicators
    from riskmodel.store.batches import ResultStore

    chosen = [name for name, given in (("--team", team), ("--grid", grid), ("--all", all_units)) if given]
    if len(chosen) != 1:
        raise fail("give exactly one of --team ID, --grid ID or --all")
    if output_format == "xlsx" and output is None:
        raise fail("--format xlsx writes a workbook: name it with --output FILE.xlsx")
    try:
        settings = _config(config)
        result_store = ResultStore(store or settings.store.url)
        day = as_of.date() if as_of else None
        for level, unit in (("team", team), ("grid", grid)):
            if unit and result_store.latest_batch() is not None and unit not in result_store.units(level):
                raise fail(f"no {level} {unit} in the latest batch")  # an unknown unit, never an empty table
        results = []
        if team:
            results.append(
                unit_indicators(result_store, level="team", units=[team], as_of=day, months=months, config=settings)
            )
        elif grid:
            results.append(
                unit_indicators(result_store, level="grid", units=[grid], as_of=day, months=months, config=settings)
            )
        else:
            for level in ("team", "county"):
                results.append(
                    unit_indicators(result_store, level=level, units=None, as_of=day, months=months, config=settings)
                )
    except RiskModelError as exc:
        raise fail(str(exc)) from exc
    units = [unit for result in results for unit in result["units"]]
    if not units:
        raise fail(f"no residents of {team or grid} in the latest batch")
    frame = indicator_frame(units, lang)
    if output_format == "table":
        print_indicators(units, results[0], lang)
    elif output_format == "xlsx":
        write_workbook(output, units, results[0], lang)  # type: ignore[arg-type]
        console.print(f"wrote {output}")
    else:
        import json

        text = (
            csv_safe(frame).to_csv(index=False)
            if output_format == "csv"
            else json.dumps({**results[0], "units": units}, ensure_ascii=False, indent=1, default=str) + "\n"
        )
        if output is None:
            sys.stdout.write(text)
        else:
            write_owner_only(output, text)  # SPEC 16: an export is readable by its owner only
            console.print(f"wrote {output}")


# ------------------------------------------------------------------------------------------- monitoring


@app.command()
def monitor(
    batch: Annotated[
        str | None, typer.Option("--batch", help="Batch id (default: the served batch).", show_default=False)
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write an HTML report to this file.", show_default=False)
    ] = None,
    lang: Annotated[LangChoice, typer.Option("--lang", help="Language of the report: zh or en.")] = "zh",
    store: StoreOption = None,
    config: ConfigOption = None,
) -> None:
    """A published batch's monitoring (SPEC 12): drift (PSI) per feature against the model's training reference,
    missing shares, the P(chronic) distribution, performance on residents with fresh measurements, and whether
    retraining is recommended (and which rule fired)."""
    from riskmodel.cli.monitor_report import print_monitoring, write_html
    from riskmodel.store.batches import ResultStore

    try:
        settings = _config(config)
        found = ResultStore(store or settings.store.url).monitoring_report(batch)
    except RiskModelError as exc:
        raise fail(str(exc)) from exc
    if found is None:
        raise fail("no monitoring report for that batch (one is computed when 'score' or 'nightly' publishes a batch)")
    batch_id, figures = found
    print_monitoring(batch_id, figures, lang)
    if report is not None:
        write_html(report, batch_id, figures, lang)
        console.print(f"wrote {report}")


# ------------------------------------------------------------------------------------------- the service


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option("--host", help="Interface (default: serving.host).", show_default=False)
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", help="Port (default: serving.port).", show_default=False)
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port",
            min=1,
            max=65535,
            help="Serve /metrics, /readyz and /healthz on this port alone (then not /metrics on --port); "
            "default: serving.metrics_port.",
            show_default=False,
        ),
    ] = None,
    metrics_host: Annotated[
        str | None,
        typer.Option(
            "--metrics-host", help="Interface of --metrics-port (default: serving.metrics_host).", show_default=False
        ),
    ] = None,
    model: ModelOption = None,
    store: StoreOption = None,
    config: ConfigOption = None,
) -> None:
    """Serve the HTTP API (assessments, work lists, model info; OpenAPI at /docs). Every log line is JSON."""
    from riskmodel.model.pyfunc import DEFAULT_MODEL_URI
    from serving.app import create_app
    from serving.server import run_servers
    from serving.state import ModelHolder

    try:
        settings = _config(config)
        if metrics_port is not None or metrics_host is not None:
            metrics_settings = {"metrics_port": metrics_port or settings.serving.metrics_port}
            metrics_settings["metrics_host"] = metrics_host or settings.serving.metrics_host
            settings = settings.model_copy(update={"serving": settings.serving.model_copy(update=metrics_settings)})
        holder = ModelHolder(model or DEFAULT_MODEL_URI, settings)
        with err_console.status("loading the model"):
            holder.load()
        application = create_app(settings, model_uri=model, store_url=store, holder=holder)
    except RiskModelError as exc:
        raise fail(str(exc)) from exc
    run_servers(application, settings, host=host or settings.serving.host, port=port or settings.serving.port)


# ---------------------------------------------------------------------------------------------- the demo


@app.command()
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
        run_demo(_config(config), residents=residents, seed=seed, lang=cast("Lang", lang), folder=folder)
    except RiskModelError as exc:
        raise fail(str(exc)) from exc


from riskmodel.cli.imports import import_records  # noqa: E402  (records in, SPEC 14)

app.command("import")(import_records)

from riskmodel.cli.exports import export_records  # noqa: E402  (records out, SPEC 14.4)

app.command("export")(export_records)

# -------------------------------------------------------------------- the team's list at volume (SPEC 15)
from riskmodel.cli.team_list import contacts_app, reminders  # noqa: E402  (registers on the app above)

app.add_typer(contacts_app, name="contacts")
app.command()(reminders)

operations.register(app)  # keys, audit, void, erase (SPEC 16)
