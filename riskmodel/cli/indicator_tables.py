"""Indicators as a terminal table, a flat frame (CSV) and an Excel workbook (what a commission forwards).

An estimated figure (``estimated_patients``, the denominator of 管理率) is shown rounded to whole residents
with 约 / "about" (SPEC 13.6): never a fraction of a person. The rate is the unrounded one.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
from rich.markup import escape
from rich.table import Table

from riskmodel.cli.console import console
from riskmodel.records.writing import owner_only
from riskmodel.worklist.labels import DISEASE_LABELS, pick

ABOUT = {"zh": "约", "en": "about "}
"""What an estimated figure is prefixed with."""


def whole_residents(value: float) -> int:
    """An estimated count rounded to whole residents (half up)."""
    return math.floor(value + 0.5)


def count_text(value: float, *, estimated: bool, lang: str) -> str:
    """A count as shown: an estimate rounded to whole residents with 约 / "about"; a count as it is."""
    if estimated:
        return f"{ABOUT.get(lang, ABOUT['en'])}{whole_residents(value):,}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _figure(item: dict[str, Any], lang: str) -> str:
    if item["is_rate"] and item["rate"] is not None:
        return f"{item['rate']:.1%}"
    if item["is_rate"]:
        return "-"
    return count_text(item["numerator"], estimated=item.get("estimated") == "numerator", lang=lang)


def _fraction(item: dict[str, Any], lang: str) -> str:
    denominator = item["denominator"]
    if not denominator:
        return "-"
    numerator = count_text(item["numerator"], estimated=item.get("estimated") == "numerator", lang=lang)
    return f"{numerator}/{count_text(denominator, estimated=item.get('estimated') == 'denominator', lang=lang)}"


def indicator_frame(units: list[dict[str, Any]], lang: str) -> pd.DataFrame:
    """One row per unit, disease, indicator and reference date: numerator, denominator, rate, target.

    An estimated numerator or denominator is rounded to whole residents, and ``estimate`` names it (约分母 /
    "about: denominator"); the rate is computed from the unrounded estimate."""
    rows = []
    for unit in units:
        for item in unit["indicators"]:
            estimated = item.get("estimated")
            for point in item["trend"]:
                figures = {"numerator": point["numerator"], "denominator": point["denominator"]}
                if estimated is not None and figures[estimated] is not None:
                    figures[estimated] = float(whole_residents(figures[estimated]))
                rows.append(
                    {
                        "level": unit["level"],
                        "unit_id": unit["unit_id"],
                        "disease": item["disease"],
                        "indicator": item["indicator"],
                        "label": item["label_zh"] if lang == "zh" else item["label_en"],
                        "ref_date": point["ref_date"],
                        **figures,
                        "estimate": _estimate_note(estimated, lang),
                        "rate": point["rate"],
                        "target": item["target"],
                    }
                )
    return pd.DataFrame(rows)


def _estimate_note(estimated: str | None, lang: str) -> str:
    if estimated is None:
        return ""
    if lang == "zh":
        return "分子为估计数（约）" if estimated == "numerator" else "分母为估计数（约）"
    return f"about: the {estimated} is an estimate"


def print_indicators(units: list[dict[str, Any]], result: dict[str, Any], lang: str) -> None:
    """One table per unit: each indicator's figure, numerator / denominator and target, as of the date."""
    zh = lang == "zh"
    for unit in units:
        title = (
            f"{escape(str(unit['unit_id']))} 指标（截至 {result['as_of']}，批次 {result['batch_as_of']}）"
            if zh
            else f"{escape(str(unit['unit_id']))} indicators (as of {result['as_of']}, batch {result['batch_as_of']})"
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
            target = f"{item['target']:.0%}" if item["target"] is not None else ""
            table.add_row(
                escape(f"{pick(DISEASE_LABELS[item['disease']], lang)} {label}"),  # type: ignore[arg-type]
                _figure(item, lang),
                _fraction(item, lang),
                target,
            )
        console.print(table)


HEADERS = {
    "zh": {
        "level": "层级",
        "unit_id": "单位",
        "disease": "疾病",
        "indicator": "指标代码",
        "label": "指标",
        "ref_date": "统计日期",
        "numerator": "分子",
        "denominator": "分母",
        "estimate": "估计说明",
        "rate": "率",
        "target": "目标",
    },
    "en": {
        "level": "level",
        "unit_id": "unit",
        "disease": "disease",
        "indicator": "indicator code",
        "label": "indicator",
        "ref_date": "reference date",
        "numerator": "numerator",
        "denominator": "denominator",
        "estimate": "estimate",
        "rate": "rate",
        "target": "target",
    },
}
"""The workbook's column headers in each language."""
LEVEL_LABELS = {"team": ("team", "团队"), "grid": ("grid", "网格"), "county": ("county", "全县")}


def write_workbook(path: Path, units: list[dict[str, Any]], result: dict[str, Any], lang: str) -> None:
    """An Excel workbook: a summary sheet (the latest figures) and a trend sheet (every month end); headers and
    names in the chosen language, rates and targets as percentages, widths set, formula-like text escaped."""
    from riskmodel.cli.workbook import Sheet
    from riskmodel.cli.workbook import write_workbook as write_sheets

    frame = indicator_frame(units, lang)
    frame["disease"] = [pick(DISEASE_LABELS[d], lang) for d in frame["disease"]]  # type: ignore[arg-type]
    frame["level"] = [pick(LEVEL_LABELS[v], lang) if v in LEVEL_LABELS else v for v in frame["level"]]  # type: ignore[arg-type]
    latest = frame[frame["ref_date"] == result["as_of"]]
    owner_only(path)  # SPEC 16: created readable by its owner only; openpyxl keeps the mode when it writes
    headers = HEADERS["zh" if lang == "zh" else "en"]
    percent = ("rate", "target")
    write_sheets(
        path,
        [
            Sheet("汇总" if lang == "zh" else "summary", latest, headers, percent),
            Sheet("趋势" if lang == "zh" else "trend", frame, headers, percent),
        ],
    )
