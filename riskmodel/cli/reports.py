"""``riskmodel indicators`` and ``riskmodel monitor``: what the store reports on a published batch (SPEC 11, 12)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from riskmodel.cli.console import console
from riskmodel.cli.conventions import (
    AsOfOption,
    ConfigOption,
    IndicatorFormatChoice,
    LangChoice,
    StoreOption,
    fail,
    load_settings,
)
from riskmodel.exceptions import RiskModelError
from riskmodel.records.writing import csv_safe, write_owner_only


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
        settings = load_settings(config)
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
        settings = load_settings(config)
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
