"""What the command line shows: progress bars, the metrics table, the printed work list.

Presentation only: every function here draws values computed elsewhere.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from riskmodel.worklist.labels import DISEASE_LABELS, counts_line, label, label_band

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
    """One block per entry under its band's name: a header line, the tiers, the contact (when the list carries
    them), then the reasons, wrapped at ``width`` cells without splitting a field; then the counts of every band
    in words. Every label a doctor reads is in the chosen language; data is never read as markup."""
    zh = lang == "zh"
    width = min(width, console.width or width)
    shown_team, version = escape(team), escape(str(batch["model_version"]))  # ids are data, never markup
    out = Console(width=max(width, 40), highlight=False, soft_wrap=True, file=console.file)
    data_date = batch.get("as_of") or batch["worklist_as_of"]  # the batch's date; the list's own when not given
    dates = (
        f"名单日期 {batch['worklist_as_of']}，数据日期 {data_date}，模型版本 {version}"
        if zh
        else f"list date {batch['worklist_as_of']}, data of {data_date}, model {version}"
    )
    out.print(
        f"[bold]团队 {shown_team} 工作清单[/]（{dates}）" if zh else f"[bold]Work list, team {shown_team}[/] ({dates})"
    )
    if batch.get("stale_batch"):
        out.print(("注意：" if zh else "Warning: ") + batch["stale_batch"]["message"], markup=False, style="bold red")
    entries = worklist.entries if limit is None else worklist.entries[:limit]
    band = None
    for entry in entries:
        if entry["band"] != band:
            band = entry["band"]
            out.print(f"[bold]── {label_band(band, lang)} ──[/]")
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
        if "contact" in entry:
            out.print("     " + contact_text(entry["contact"], lang), markup=False)
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


def contact_text(contact: dict[str, Any] | None, lang: str) -> str:
    """A contact in one line (name, phone, address), or that none is on file."""
    zh = lang == "zh"
    if not contact or not any(contact.values()):
        return "联系方式：未登记" if zh else "contact: none on file"
    parts = [contact[name] for name in ("name", "phone", "address") if contact.get(name)]
    return ("联系方式：" if zh else "contact: ") + ("，" if zh else ", ").join(parts)


def band_summary(worklist: Worklist, lang: str) -> list[str]:
    """The counts of every band in plain words: due, listed, left off by capacity, hidden by outcomes."""
    return [counts_line(worklist.bands, lang)]  # type: ignore[arg-type]


GATE_METRIC_WORDS = {"auroc": "AUROC", "auprc": "AUPRC", "ece": "ECE", "ece_equal_frequency": "ECE (equal-freq.)"}


def gate_table(rows: list[Any], *, tolerance: float, challenger: str, champion: str, evaluated_on: str) -> None:
    """The promotion gate side by side: both models on the same residents, the difference and its interval."""
    title = f"promotion gate (tolerance {tolerance}; {evaluated_on or 'no evaluation data'})"
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


OUTCOME_COLUMNS = ("recorded_on", "resident_id", "disease", "action", "outcome", "hidden_until", "recorded_by")


def print_outcomes(rows: list[dict[str, Any]], team: str) -> None:
    """A team's recorded outcomes as a table (the audit trail: who, what, when)."""
    table = Table(title=f"outcomes, team {escape(team)}")
    for name in OUTCOME_COLUMNS:
        table.add_column(name)
    for row in rows:
        table.add_row(*(escape(str(row[name] or "")) for name in OUTCOME_COLUMNS))
    console.print(table)


def print_score_summary(summary: Any, *, model_version: str, as_of: Any, with_events: bool) -> None:
    """What a batch read, scored, rejected and wrote (``riskmodel score``)."""
    console.print(
        f"read {summary.rows_read:,} rows = {summary.rows_scored:,} scored + {summary.rows_rejected:,} "
        f"rejected (model {model_version}, as of {as_of})"
    )
    for name, counts in summary.tiers.items():
        console.print(
            f"  {name}: " + ", ".join(f"{tier} {counts.get(tier, 0):,}" for tier in ("healthy", "high_risk", "chronic"))
        )
    console.print("  actions: " + ", ".join(f"{name} {count:,}" for name, count in summary.actions.most_common()))
    if with_events:
        console.print(
            f"read {summary.events_read:,} events = {summary.events_used:,} used + {summary.events_rejected:,} "
            f"rejected ({summary.events_rejected_output})"
        )
    console.print(
        f"wrote {summary.output} and {summary.rejected_output}"
        + (f"; store batch {summary.batch_id}" if summary.batch_id else "")
    )
