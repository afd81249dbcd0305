"""Indicators as a terminal table, a flat frame (CSV) and an Excel workbook (what a commission forwards)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from rich.table import Table

from riskmodel.cli.console import console
from riskmodel.worklist.labels import DISEASE_LABELS, pick


def _figure(item: dict[str, Any]) -> str:
    if item["is_rate"] and item["rate"] is not None:
        return f"{item['rate']:.1%}"
    if item["is_rate"]:
        return "-"
    return f"{item['numerator']:,.0f}" if float(item["numerator"]).is_integer() else f"{item['numerator']:,.1f}"


def indicator_frame(units: list[dict[str, Any]], lang: str) -> pd.DataFrame:
    """One row per unit, disease, indicator and reference date: numerator, denominator, rate, target."""
    rows = []
    for unit in units:
        for item in unit["indicators"]:
            for point in item["trend"]:
                rows.append(
                    {
                        "level": unit["level"],
                        "unit_id": unit["unit_id"],
                        "disease": item["disease"],
                        "indicator": item["indicator"],
                        "label": item["label_zh"] if lang == "zh" else item["label_en"],
                        "ref_date": point["ref_date"],
                        "numerator": point["numerator"],
                        "denominator": point["denominator"],
                        "rate": point["rate"],
                        "target": item["target"],
                    }
                )
    return pd.DataFrame(rows)


def print_indicators(units: list[dict[str, Any]], result: dict[str, Any], lang: str) -> None:
    """One table per unit: each indicator's figure, numerator / denominator and target, as of the date."""
    zh = lang == "zh"
    for unit in units:
        title = (
            f"{unit['unit_id']} 指标（截至 {result['as_of']}，批次 {result['batch_as_of']}）"
            if zh
            else f"{unit['unit_id']} indicators (as of {result['as_of']}, batch {result['batch_as_of']})"
        )
        table = Table(title=title)
        for name in (
            ("疾病 / 指标", "数值", "分子/分母", "目标")
            if zh
            else ("disease / indicator", "figure", "num/den", "target")
        ):
            table.add_column(
                name, justify="left" if "/" in name and "分子" not in name and "num" not in name else "right"
            )
        for item in unit["indicators"]:
            label = item["label_zh"] if zh else item["label_en"]
            denominator = item["denominator"]
            fraction = f"{item['numerator']:,.0f}/{denominator:,.0f}" if denominator else "-"
            target = f"{item['target']:.0%}" if item["target"] is not None else ""
            table.add_row(f"{pick(DISEASE_LABELS[item['disease']], lang)} {label}", _figure(item), fraction, target)  # type: ignore[arg-type]
        console.print(table)


def write_workbook(path: Path, units: list[dict[str, Any]], result: dict[str, Any], lang: str) -> None:
    """An Excel workbook: a summary sheet (the latest figures) and a trend sheet (every month end)."""
    frame = indicator_frame(units, lang)
    latest = frame[frame["ref_date"] == result["as_of"]]
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        latest.to_excel(writer, sheet_name="summary" if lang == "en" else "汇总", index=False)
        frame.to_excel(writer, sheet_name="trend" if lang == "en" else "趋势", index=False)
