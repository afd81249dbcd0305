"""What the command line shows: progress bars, the metrics table, the printed work list.

Presentation only: every function here draws values computed elsewhere.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from riskmodel.rules.actions import ACTION_BANDS, ACTIONS
from riskmodel.worklist.labels import ACTION_LABELS, BAND_LABELS, DISEASE_LABELS, label, pick

if TYPE_CHECKING:
    from riskmodel.worklist.entries import Worklist

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


_TOKEN = re.compile(r"[\x21-\x7e]+|\s+|.")


def wrap_cells(text: str, width: int, indent: int) -> list[str]:
    """Wrap text to ``width`` terminal cells without splitting a number, date, code or word (CJK characters
    break anywhere; an ASCII run never does)."""
    lines: list[str] = []
    line, used = "", indent
    for token in _TOKEN.findall(text):
        size = cell_len(token)
        if token.isspace():
            if line:
                line, used = line + " ", used + 1
            continue
        if used + size > width and line.strip():
            lines.append(line.rstrip())
            line, used = "", indent
        line, used = line + token, used + size
    if line.strip():
        lines.append(line.rstrip())
    return lines


def print_worklist(
    worklist: Worklist, team: str, batch: dict[str, Any], lang: str, *, limit: int | None = None, width: int = 80
) -> None:
    """One block per entry: a header line, the actions, then the reasons, wrapped at ``width`` cells without
    splitting a field; then one summary line per band. Every label a doctor reads is in the chosen language."""
    zh = lang == "zh"
    width = min(width, console.width or width)
    shown_team, version = escape(team), escape(str(batch["model_version"]))  # ids are data, never markup
    out = Console(width=max(width, 40), highlight=False, soft_wrap=True, file=console.file)
    out.print(
        f"[bold]团队 {shown_team} 工作清单[/]（截至 {batch['worklist_as_of']}，模型版本 {version}）"
        if zh
        else f"[bold]Work list, team {shown_team}[/] (as of {batch['worklist_as_of']}, model {version})"
    )
    entries = worklist.entries if limit is None else worklist.entries[:limit]
    for entry in entries:
        disease = label(DISEASE_LABELS, entry["action_disease"], lang)  # type: ignore[arg-type]
        late = entry["overdue_days"]
        overdue = (f"  逾期 {late} 天" if zh else f"  {late} days overdue") if late else ""
        out.print(
            f"[bold]{entry['rank']:>3}. {escape(str(entry['resident_id']))}[/]  "
            f"[cyan]{escape(entry['action_label'])}[/] {escape(disease)}  "
            f"{'截止' if zh else 'due'} {entry['due_date']}{overdue}"
        )
        tiers = "；".join if zh else " · ".join
        out.print(
            "     "
            + tiers(
                f"{label(DISEASE_LABELS, d, lang)} {entry[d]['tier_label']}"  # type: ignore[arg-type]
                + (
                    f"（{entry[d]['tier_source_label']}）"  # type: ignore[arg-type]
                    if zh
                    else f" ({entry[d]['tier_source_label']})"  # type: ignore[arg-type]
                )
                for d in ("diabetes", "hypertension")
            ),
            markup=False,
        )
        for reason in entry["reasons"]:
            for k, line in enumerate(wrap_cells(reason, width, 9)):
                out.print(("     - " if k == 0 else "       ") + line, markup=False)
    if len(entries) < len(worklist.entries):
        more = len(worklist.entries) - len(entries)
        out.print(
            f"… 另有 {more} 条：riskmodel worklist --team {team}"
            if zh
            else f"… {more} more: riskmodel worklist --team {team}",
            markup=False,
        )
    for line in band_summary(worklist, lang):
        for k, part in enumerate(wrap_cells(line, width, 2)):
            out.print(("" if k == 0 else "  ") + part, markup=False)


def band_summary(worklist: Worklist, lang: str) -> list[str]:
    """One line per band: due, listed and hidden per action, and where capacity cut it."""
    zh = lang == "zh"
    cuts = {cut["band"]: cut for cut in worklist.cuts}
    lines = []
    for band in (1, 2, 3, 4):
        names = [a for a, b in zip(ACTIONS, ACTION_BANDS, strict=True) if b == band]
        parts = []
        for name in names:
            c = worklist.counts[name]
            if c["due"] == 0:
                continue
            text = label(ACTION_LABELS, name, lang)  # type: ignore[arg-type]
            parts.append(
                f"{text} 应办 {c['due']}、列出 {c['listed']}、暂缓 {c['hidden']}"
                if zh
                else f"{text}: {c['due']} due, {c['listed']} listed, {c['hidden']} hidden"
            )
        line = (
            f"{label_band(band, lang)}：" + ("；".join(parts) if parts else "无")
            if zh
            else (f"{label_band(band, lang)}: " + ("; ".join(parts) if parts else "none"))
        )
        if band in cuts:
            cut = cuts[band]
            left = cut["first_left_off"]
            line += (
                f"。按容量列出 {cut['listed']}/{cut['entries_due']} 人，截止优先级 {cut['cut_off_priority']:.1f}；"
                f"首位未列入 {left['resident_id']}（优先级 {left['priority']:.1f}）"
                if zh
                else f". Capacity lists {cut['listed']} of {cut['entries_due']}, cut-off priority "
                f"{cut['cut_off_priority']:.1f}; first left off {left['resident_id']} (priority {left['priority']:.1f})"
            )
        lines.append(line)
    return lines


def label_band(band: int, lang: str) -> str:
    return pick(BAND_LABELS[band], lang)  # type: ignore[arg-type]
