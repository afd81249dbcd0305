"""``riskmodel score`` and ``riskmodel nightly``: a file of resident records scored in batch into the store
(SPEC 8). The commands parse, call :func:`riskmodel.batch.score_file` (or the Spark glue) and print."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from riskmodel.cli.console import console, counting, err_console, print_score_summary
from riskmodel.cli.conventions import (
    EXIT_NOT_PUBLISHED,
    EXIT_OK,
    AsOfOption,
    ConfigOption,
    EncodingChoice,
    EngineChoice,
    ModelOption,
    StoreOption,
    exit_code,
    fail,
    load_fitted_model,
    load_settings,
)
from riskmodel.cli.operations import audit_write
from riskmodel.exceptions import InputFileError, RiskModelError

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


def stop_cleanly_on_sigterm() -> None:
    """Turn SIGTERM into KeyboardInterrupt so a stopped batch removes its temporary files."""
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)


def count_rows(path: Path) -> int | None:
    """How many records a file holds, for the progress bar (Parquet metadata, or lines less the header)."""
    if path.suffix.lower() == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            return int(pq.ParquetFile(path).metadata.num_rows)
        except (OSError, pa.ArrowException) as exc:
            raise InputFileError(
                f"{path}: not a readable Parquet file (save it as Parquet, or as CSV under a .csv name)"
            ) from exc
    with path.open("rb") as handle:
        lines = sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 24), b""))
    return max(lines - 1, 0)


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
    from riskmodel.store.batches import ResultStore

    if contacts is not None and no_store:
        raise fail("--contacts are kept in the result store: leave out --no-store")
    stop_cleanly_on_sigterm()
    try:
        settings = load_settings(config)
        for path in (input, events):
            if path is not None and not path.exists():
                raise fail(f"{path}: no such file")
        fitted = load_fitted_model(model, settings)
        result_store = (
            None if no_store else ResultStore(store or settings.store.url, keep_batches=settings.store.keep_batches)
        )
        day = as_of.date() if as_of else settings.deployment.today()
        summary = _score_with(
            engine,
            input,
            output,
            fitted,
            settings,
            day,
            result_store,
            events=events,
            spark_master=spark_master,
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
    print_score_summary(summary, model_version=fitted.version, as_of=day, with_events=events is not None)


def _score_with(
    engine: str,
    input: Path,
    output: Path,
    fitted: Any,
    settings: Any,
    day: dt.date,
    result_store: Any,
    *,
    events: Path | None,
    spark_master: str,
    encoding: str,
    allow_rejected: bool,
    wait: float,
) -> Any:
    """Score the file on the engine asked for (a status line on Spark, a progress bar locally)."""
    from riskmodel.batch import score_file

    # what both engines are told alike
    common: dict[str, Any] = {
        "config": settings,
        "as_of": day,
        "store": result_store,
        "events_path": events,
        "allow_rejected": allow_rejected,
        "wait": wait,
    }
    if engine == "spark":
        from serving.spark_engine import score_file_spark

        with err_console.status(f"scoring on Spark ({spark_master})"):
            return score_file_spark(input, output, fitted, master=spark_master, **common)
    with counting("scoring residents", count_rows(input)) as advance:
        return score_file(input, output, fitted, on_rows=advance, encoding=encoding, **common)


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
    stop_cleanly_on_sigterm()
    summary_line: dict[str, object] = {
        "command": "nightly",
        "input": str(input),
        "events": str(events) if events else None,
    }
    code = EXIT_OK
    try:
        settings = load_settings(config)
        for path in (input, events):
            if path is not None and not path.exists():
                raise InputFileError(f"{path}: no such file")
        fitted = load_fitted_model(model, settings)
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
        summary_line.update(summary_counts(summary))
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


def summary_counts(summary: Any) -> dict[str, object]:
    """The counts and files of a batch run, for the nightly JSON line."""
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
