"""What the command line shows: progress bars, the metrics table, the printed work list.

Presentation only: every function here draws values computed elsewhere.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console()
err_console = Console(stderr=True)


def progress_bar(description: str) -> Progress:
    """A progress bar on standard error, quiet when standard error is not a terminal."""
    return Progress(
        TextColumn(f"[bold]{description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
        disable=not sys.stderr.isatty(),
    )


@contextmanager
def counting(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar for rows or residents; yields the callback that advances it by a count."""
    with progress_bar(description) as bar:
        task = bar.add_task(description, total=total)
        yield lambda count: bar.advance(task, count)


def metrics_table(metrics: dict[str, float], title: str) -> None:
    """The headline metrics of both disease models, side by side."""
    from training.report import metrics_rows

    table = Table(title=title)
    for name in ("metric", "diabetes", "hypertension"):
        table.add_column(name, justify="left" if name == "metric" else "right")
    for row in metrics_rows(metrics):
        table.add_row(*row)
    console.print(table)


def print_worklist(
    worklist: pd.DataFrame, team: str, batch: dict[str, Any], lang: str, *, limit: int | None = None
) -> None:
    """One block per resident: a header line, then the reasons; readable on paper and in a narrow terminal."""
    from riskmodel.worklist.entries import action_counts

    zh = lang == "zh"
    console.print(
        f"[bold]团队 {team} 工作清单[/]（截至 {batch['worklist_as_of']}，模型 {batch['model_version']}）"
        if zh
        else f"[bold]Work list, team {team}[/] (as of {batch['worklist_as_of']}, model {batch['model_version']})"
    )
    due, tests, tiers = ("截止", "检查", "糖尿病/高血压") if zh else ("due", "tests", "DM/HTN")
    shown = worklist if limit is None else worklist.head(limit)
    for row in shown.itertuples():
        console.print(
            f"[bold]{row.rank:>3}. {row.resident_id}[/]  [cyan]{row.action}[/]  {due} {row.due_date}  "
            f"{tests}: {row.tests or '-'}  {tiers}: {row.diabetes_tier}/{row.hypertension_tier}",
            highlight=False,
        )
        for reason in row.reasons:
            console.print(f"       - {reason}", highlight=False, soft_wrap=True)
    if len(shown) < len(worklist):
        more = len(worklist) - len(shown)
        console.print(
            f"… 另有 {more} 条：riskmodel worklist --team {team}"
            if zh
            else f"… {more} more: riskmodel worklist --team {team}",
            highlight=False,
        )
    console.print(", ".join(f"{name} {count}" for name, count in action_counts(worklist).items()), highlight=False)
