"""Plots, tables and the evaluation report, drawn from a :class:`~training.train.TrainingResult`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import precision_recall_curve, roc_curve  # noqa: E402

from riskmodel.model.evaluation import DiseaseEvaluation  # noqa: E402
from riskmodel.model.features import feature_names  # noqa: E402
from riskmodel.records.schema import TIERS  # noqa: E402
from training.train import TrainingResult  # noqa: E402

BASELINE_NAMES = {"diabetes": "CDRS", "hypertension": "BPHS criteria count"}
HEADLINE = (
    "auroc",
    "auroc_ci_low",
    "auroc_ci_high",
    "baseline_auroc",
    "auroc_gain_over_baseline",
    "age_auroc",
    "auroc_gain_over_age",
    "auprc",
    "ece",
    "ece_equal_frequency",
    "observed_expected",
    "screen_cut",
    "sensitivity_at_screen_cut",
    "yield10_model_per_100",
    "yield10_baseline_per_100",
    "yield10_age_per_100",
    "yield20_model_per_100",
    "yield20_age_per_100",
    "log_loss",
    "brier",
    "sensitivity_chronic",
    "specificity_chronic",
    "sensitivity_high_risk_or_above",
    "specificity_high_risk_or_above",
    "evaluated_residents",
    "evaluated_positives",
)


def _roc_pr(disease: str, evaluation: DiseaseEvaluation, folder: Path) -> Path:
    target, score, baseline = (evaluation.roc_inputs[k] for k in ("target", "score", "baseline"))
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4.5))
    if target.any() and not target.all():
        for values, name in ((score, "model P(chronic)"), (baseline, BASELINE_NAMES[disease])):
            fpr, tpr, _ = roc_curve(target, values)
            left.plot(fpr, tpr, label=name)
            precision, recall, _ = precision_recall_curve(target, values)
            right.plot(recall, precision, label=name)
    left.plot([0, 1], [0, 1], ls=":", color="grey")
    left.set(xlabel="1 - specificity", ylabel="sensitivity", title=f"{disease}: ROC, undiagnosed residents")
    right.set(xlabel="recall (sensitivity)", ylabel="precision (PPV)", title=f"{disease}: precision-recall")
    left.legend(loc="lower right")
    right.legend(loc="upper right")
    path = folder / f"{disease}_roc_pr.png"
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _calibration(disease: str, evaluation: DiseaseEvaluation, folder: Path) -> Path:
    table = evaluation.calibration
    figure, axis = plt.subplots(figsize=(5, 5))
    axis.plot([0, 1], [0, 1], ls=":", color="grey", label="perfect")
    axis.plot(table["predicted"], table["observed"], marker="o", label="model")
    axis.set(
        xlabel="mean predicted P(chronic)",
        ylabel="observed share chronic",
        title=f"{disease}: calibration (ECE {evaluation.metrics['ece']:.3f})",
    )
    axis.legend()
    path = folder / f"{disease}_calibration.png"
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _shap_summary(disease: str, matrix: np.ndarray, contributions: np.ndarray, folder: Path, top: int = 15) -> Path:
    """A SHAP beeswarm from LightGBM's ``pred_contrib`` values (no explainer re-run), drawn with matplotlib.

    One row per feature (the ``top`` with the largest mean absolute contribution, largest first); each resident a
    dot at its contribution, jittered vertically, coloured by the feature's value (low blue, high red, missing
    grey), as ``shap.summary_plot`` draws it, without a 200 MB dependency for one figure."""
    names = [str(name) for name in feature_names(disease)]  # type: ignore[arg-type]
    values = np.asarray(contributions, dtype=np.float64)[:, : len(names)]  # the last column is the bias
    order = np.argsort(np.abs(values).mean(axis=0))[::-1][:top]
    rng = np.random.default_rng(0)
    figure, axis = plt.subplots(figsize=(7.5, 0.4 * len(order) + 1.5))
    colours = plt.get_cmap("coolwarm")
    for row, feature in enumerate(order[::-1]):
        x = values[:, feature]
        raw = np.asarray(matrix[:, feature], dtype=np.float64)
        known = np.isfinite(raw)
        shade = np.full(len(raw), 0.5)
        if known.sum() > 1:
            low, high = np.nanpercentile(raw[known], [5, 95])
            shade[known] = np.clip((raw[known] - low) / (high - low if high > low else 1.0), 0, 1)
        y = row + rng.uniform(-0.3, 0.3, len(x))
        axis.scatter(x[~known], y[~known], s=6, color="#999999", alpha=0.6, linewidths=0)
        axis.scatter(x[known], y[known], s=6, c=colours(shade[known]), alpha=0.7, linewidths=0)
    axis.axvline(0, color="#666666", linewidth=0.8)
    axis.set_yticks(range(len(order)), [names[i] for i in order[::-1]])
    axis.set(
        xlabel="SHAP contribution to the chronic-class score (log-odds)", title=f"{disease}: feature contributions"
    )
    bar = figure.colorbar(plt.cm.ScalarMappable(cmap=colours), ax=axis, ticks=[0, 1], fraction=0.04)
    bar.ax.set_yticklabels(["low", "high"])
    bar.set_label("feature value")
    path = folder / f"{disease}_shap_summary.png"
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _confusion(disease: str, evaluation: DiseaseEvaluation, folder: Path) -> Path:
    matrix = evaluation.confusion
    figure, axis = plt.subplots(figsize=(4.8, 4.2))
    axis.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        axis.text(j, i, str(count), ha="center", va="center")
    axis.set_xticks(range(3), TIERS)
    axis.set_yticks(range(3), TIERS)
    axis.set(xlabel="model tier", ylabel="tier by measurement / record", title=f"{disease}: tier confusion")
    path = folder / f"{disease}_tier_confusion.png"
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def metrics_rows(metrics: dict[str, float]) -> list[tuple[str, str, str]]:
    """(metric, diabetes, hypertension) rows of the headline metrics."""
    rows = []
    for key in HEADLINE:
        values = []
        for disease in ("diabetes", "hypertension"):
            value = metrics.get(f"{disease}_{key}", float("nan"))
            values.append(f"{value:.0f}" if key.startswith("evaluated") else f"{value:.4f}")
        rows.append((key, values[0], values[1]))
    return rows


def _selection_lines(summary: dict[str, Any]) -> list[str]:
    """The model selection by cross-validation, per disease: each candidate's fold AUROCs and the choice."""
    lines: list[str] = []
    for disease in ("diabetes", "hypertension"):
        selection = summary.get(f"{disease}_selection")
        if not selection:
            continue
        lines += [
            "",
            f"## Model selection, {disease} (cross-validation on the training residents)",
            "",
            "| settings | CV AUROC (mean ± SD over folds) | trees per fold | chosen |",
            "|---|---|---|---|",
            *[
                f"| {c['settings']} | {c['cv_auroc']:.4f} ± {c['cv_auroc_sd']:.4f} | "
                f"{', '.join(map(str, c['trees_per_fold']))} | {'yes' if c['chosen'] else ''} |"
                for c in selection["candidates"]
            ],
            "",
            f"Refitted on all training residents with {selection['trees_per_class']} trees per class.",
        ]
    return lines


def write_report(result: TrainingResult, folder: str | Path) -> list[Path]:
    """Draw every plot, write the subgroup tables and a Markdown report; return the files written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for disease, evaluation in result.evaluations.items():
        written += [
            _roc_pr(disease, evaluation, folder),
            _calibration(disease, evaluation, folder),
            _confusion(disease, evaluation, folder),
        ]
        matrix, contributions = result.explanation_sample[disease]
        written.append(_shap_summary(disease, matrix, contributions, folder))
        subgroups = folder / f"{disease}_subgroups.csv"
        evaluation.subgroups.to_csv(subgroups, index=False)
        written.append(subgroups)
        if evaluation.screening_yield is not None:
            yields = folder / f"{disease}_screening_yield.csv"
            evaluation.screening_yield.to_csv(yields, index=False)
            written.append(yields)
    lines = [
        "# riskmodel evaluation report",
        "",
        "Population: test residents with no recorded diagnosis or treatment of the disease and with a defining",
        "measurement; target: undiagnosed chronic disease by the guideline measurement rules. Baselines: CDRS",
        "(diabetes), count of non-BP BPHS high-risk criteria (hypertension), on the same residents.",
        "",
        "| metric | diabetes | hypertension |",
        "|---|---|---|",
        *[f"| {name} | {d} | {h} |" for name, d, h in metrics_rows(result.metrics)],
        "",
        "## Training data",
        "",
        *[f"- {k}: {v}" for k, v in result.data_summary.items() if not k.endswith("_selection")],
        "",
        "## Plots",
        "",
        *[f"![{p.stem}]({p.name})" for p in written if p.suffix == ".png"],
        "",
        "## Subgroups",
        "",
        "Per-subgroup AUROC is in `diabetes_subgroups.csv` and `hypertension_subgroups.csv`; the screening yield",
        "(cases found per 100 screened at 10, 20, 30 and 50 % capacity, by the model, the baseline, age and random)",
        "in `*_screening_yield.csv`.",
    ]
    lines += _selection_lines(result.data_summary)
    report = folder / "evaluation_report.md"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    written.append(report)
    return written
