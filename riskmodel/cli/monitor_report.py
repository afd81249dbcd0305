"""A batch's monitoring in the terminal, and as an HTML report (self-contained: no external asset), in Chinese
(default) or English, each feature's drift named by its PSI band."""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from riskmodel.cli.console import console
from riskmodel.records.writing import write_owner_only
from riskmodel.worklist.labels import DISEASE_LABELS, pick

PSI_STABLE_BELOW = 0.1
PSI_MAJOR_ABOVE = 0.25
"""Population stability index bands, the convention of credit-risk model monitoring (Siddiqi, *Credit Risk
Scorecards*, 2006): below 0.1 stable, 0.1-0.25 a moderate shift, above 0.25 a major shift."""
PSI_BANDS: dict[str, tuple[str, str]] = {
    "stable": ("stable", "稳定"),
    "moderate": ("moderate shift", "中度偏移"),
    "major": ("major shift", "显著偏移"),
}
_WORDS: dict[str, tuple[str, str]] = {
    "title": ("Monitoring, batch", "模型监测，批次"),
    "feature": ("feature", "特征"),
    "drift": ("drift", "偏移程度"),
    "missing": ("missing", "缺失比例"),
    "missing_training": ("missing at training", "训练时缺失比例"),
    "moved": ("the features that moved most", "变化最大的特征"),
    "retrain": ("Retraining recommended: ", "建议重新训练："),
    "no_retrain": ("No retraining rule fired.", "未触发重新训练规则。"),
    "bands": (
        "PSI bands: < 0.1 stable; 0.1-0.25 moderate shift; > 0.25 major shift.",
        "PSI 分级：< 0.1 稳定；0.1–0.25 中度偏移；> 0.25 显著偏移。",
    ),
}


def psi_band(value: float | None) -> str:
    """The PSI band of a value: ``stable`` (< 0.1), ``moderate`` (0.1-0.25) or ``major`` (> 0.25)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value < PSI_STABLE_BELOW:
        return "stable"
    return "major" if value > PSI_MAJOR_ABOVE else "moderate"


def _w(key: str, lang: str) -> str:
    return pick(_WORDS[key], lang)  # type: ignore[arg-type]


def _band_text(value: float | None, lang: str) -> str:
    return pick(PSI_BANDS[psi_band(value)], lang)  # type: ignore[arg-type]


def _number(value: float | None, digits: int = 3) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _summary(part: dict[str, Any], lang: str) -> str:
    performance = part["performance"]
    psi_p = part["p_chronic"]["psi"]
    if lang == "zh":
        return (
            f"服务人群 {part['residents']:,} 人；P(慢病) 均值 {_number(part['p_chronic']['mean'])}，"
            f"PSI {_number(psi_p)}（{_band_text(psi_p, lang)}）；有新近检测结果 {performance['n']:,} 人"
            f"（病例 {performance['positives']:,}）：AUROC {_number(performance['auroc'])}"
            f"（训练时 {_number(performance['training_auroc'])}），实际/预期 {_number(performance['observed_expected'], 2)}"
        )
    return (
        f"{part['residents']:,} residents of the served population; P(chronic) mean "
        f"{_number(part['p_chronic']['mean'])}, PSI {_number(psi_p)} ({_band_text(psi_p, lang)}); fresh labels "
        f"{performance['n']:,} ({performance['positives']:,} cases): AUROC {_number(performance['auroc'])} "
        f"(training {_number(performance['training_auroc'])}), observed/expected "
        f"{_number(performance['observed_expected'], 2)}"
    )


def _verdict(figures: dict[str, Any], lang: str) -> str:
    if figures["retrain_recommended"]:
        return _w("retrain", lang) + "; ".join(figures["rules_fired"])
    return _w("no_retrain", lang)


def print_monitoring(batch_id: str, figures: dict[str, Any], lang: str = "zh") -> None:
    for disease, part in figures["diseases"].items():
        name = pick(DISEASE_LABELS[disease], lang) if disease in DISEASE_LABELS else disease  # type: ignore[arg-type]
        console.print(f"[bold]{escape(name)}[/]: " + escape(_summary(part, lang)))
        table = Table(title=f"{name}: {_w('moved', lang)}")
        for column in ("feature", "PSI", "drift", "missing", "missing_training"):
            table.add_column(
                "PSI" if column == "PSI" else _w(column, lang),
                justify="left" if column in ("feature", "drift") else "right",
            )
        for feature, row in sorted(part["features"].items(), key=lambda item: -item[1]["psi"])[:8]:
            table.add_row(
                escape(feature),
                _number(row["psi"]),
                _band_text(row["psi"], lang),
                f"{row['missing_share']:.1%}",
                f"{row['reference_missing_share']:.1%}",
            )
        console.print(table)
    console.print(_w("bands", lang), highlight=False, markup=False)
    console.print(f"batch {batch_id}: {_verdict(figures, lang)}", highlight=False, markup=False)


def write_html(path: Path, batch_id: str, figures: dict[str, Any], lang: str = "zh") -> None:
    """Tables with a bar per feature's PSI (CSS bars) and its band named, readable offline."""
    colours = {"stable": "#0b5394", "moderate": "#b7791f", "major": "#b42318"}
    parts = [
        f"<!doctype html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><meta charset='utf-8'>"
        f"<title>{html.escape(_w('title', lang))} {html.escape(batch_id)}</title>",
        "<style>body{font:14px system-ui,sans-serif;margin:20px}td,th{padding:3px 8px;border-bottom:1px solid #ddd}"
        ".bar{display:inline-block;height:10px}.bad{color:#b42318}</style>",
        f"<h1>{html.escape(_w('title', lang))} {html.escape(batch_id)}</h1>",
        f"<p class='{'bad' if figures['retrain_recommended'] else ''}'>{html.escape(_verdict(figures, lang))}</p>",
        f"<p>{html.escape(_w('bands', lang))}</p>",
    ]
    for disease, part in figures["diseases"].items():
        name = pick(DISEASE_LABELS[disease], lang) if disease in DISEASE_LABELS else disease  # type: ignore[arg-type]
        parts.append(f"<h2>{html.escape(name)}</h2><p>{html.escape(_summary(part, lang))}</p>")
        parts.append(
            "<table><tr>"
            + "".join(
                f"<th>{html.escape(text)}</th>"
                for text in (
                    _w("feature", lang),
                    "PSI",
                    "",
                    _w("drift", lang),
                    _w("missing", lang),
                    _w("missing_training", lang),
                )
            )
            + "</tr>"
        )
        for feature, row in sorted(part["features"].items(), key=lambda item: -item[1]["psi"]):
            band = psi_band(row["psi"])
            width = min(300, int(row["psi"] * 600))
            parts.append(
                f"<tr class='psi-{band}'><td>{html.escape(feature)}</td><td>{_number(row['psi'])}</td>"
                f"<td><span class='bar' style='width:{width}px;background:{colours[band]}'></span></td>"
                f"<td>{html.escape(_band_text(row['psi'], lang))}</td>"
                f"<td>{row['missing_share']:.1%}</td><td>{row['reference_missing_share']:.1%}</td></tr>"
            )
        parts.append("</table>")
    write_owner_only(path, "\n".join(parts))
