"""A batch's monitoring in the terminal, and as an HTML report (self-contained: no external asset)."""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

from rich.table import Table

from riskmodel.cli.console import console
from riskmodel.records.writing import write_owner_only


def _number(value: float, digits: int = 3) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def print_monitoring(batch_id: str, figures: dict[str, Any]) -> None:
    for disease, part in figures["diseases"].items():
        performance = part["performance"]
        console.print(
            f"[bold]{disease}[/]: {part['residents']:,} residents of the served population; P(chronic) mean "
            f"{_number(part['p_chronic']['mean'])}, PSI {_number(part['p_chronic']['psi'])}; fresh labels "
            f"{performance['n']:,} ({performance['positives']:,} cases): AUROC {_number(performance['auroc'])} "
            f"(training {_number(performance['training_auroc'])}), observed/expected {_number(performance['observed_expected'], 2)}"
        )
        table = Table(title=f"{disease}: the features that moved most")
        for name in ("feature", "PSI", "missing", "missing at training"):
            table.add_column(name, justify="left" if name == "feature" else "right")
        for name, row in sorted(part["features"].items(), key=lambda item: -item[1]["psi"])[:8]:
            table.add_row(
                name, _number(row["psi"]), f"{row['missing_share']:.1%}", f"{row['reference_missing_share']:.1%}"
            )
        console.print(table)
    verdict = (
        "retraining recommended: " + "; ".join(figures["rules_fired"])
        if figures["retrain_recommended"]
        else "no retraining rule fired"
    )
    console.print(f"batch {batch_id}: {verdict}", highlight=False)


def write_html(path: Path, batch_id: str, figures: dict[str, Any]) -> None:
    """Tables with a bar per feature's PSI (inline SVG-free CSS bars), readable offline."""
    parts = [
        "<!doctype html><meta charset='utf-8'><title>riskmodel monitoring</title>",
        "<style>body{font:14px system-ui,sans-serif;margin:20px}td,th{padding:3px 8px;border-bottom:1px solid #ddd}"
        ".bar{display:inline-block;height:10px;background:#0b5394}.bad{color:#b42318}</style>",
        f"<h1>Monitoring, batch {html.escape(batch_id)}</h1>",
        f"<p class='{'bad' if figures['retrain_recommended'] else ''}'>"
        + (
            html.escape("Retraining recommended: " + "; ".join(figures["rules_fired"]))
            if figures["retrain_recommended"]
            else "No retraining rule fired."
        )
        + "</p>",
    ]
    for disease, part in figures["diseases"].items():
        performance = part["performance"]
        parts.append(
            f"<h2>{html.escape(disease)}</h2><p>{part['residents']:,} residents; P(chronic) mean {_number(part['p_chronic']['mean'])}, "
            f"PSI {_number(part['p_chronic']['psi'])}; fresh labels {performance['n']:,} ({performance['positives']:,} cases), "
            f"AUROC {_number(performance['auroc'])} (training {_number(performance['training_auroc'])}), "
            f"observed/expected {_number(performance['observed_expected'], 2)}</p>"
        )
        parts.append(
            "<table><tr><th>feature</th><th>PSI</th><th></th><th>missing</th><th>missing at training</th></tr>"
        )
        for name, row in sorted(part["features"].items(), key=lambda item: -item[1]["psi"]):
            width = min(300, int(row["psi"] * 600))
            parts.append(
                f"<tr><td>{html.escape(name)}</td><td>{_number(row['psi'])}</td><td><span class='bar' style='width:{width}px'></span></td>"
                f"<td>{row['missing_share']:.1%}</td><td>{row['reference_missing_share']:.1%}</td></tr>"
            )
        parts.append("</table>")
    write_owner_only(path, "\n".join(parts))
