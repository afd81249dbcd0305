"""Evaluation metrics a clinician can read (computing only; plots and reports are drawn elsewhere).

For each disease the headline population is the one the model serves: residents with no recorded
diagnosis or treatment and with a defining measurement. There, P(chronic) is judged as a screen for
undiagnosed disease (AUROC, AUPRC) beside the guideline baseline on the same residents (the CDRS for
diabetes, the count of non-BP BPHS criteria for hypertension), and its calibration by the expected
calibration error (10 equal-width bins).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score


def auroc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve; NaN when only one class is present."""
    labels = np.asarray(labels, dtype=bool)
    if labels.all() or not labels.any():
        return float("nan")
    return float(roc_auc_score(labels, scores))


def auprc(labels: np.ndarray, scores: np.ndarray) -> float:
    labels = np.asarray(labels, dtype=bool)
    if not labels.any():
        return float("nan")
    return float(average_precision_score(labels, scores))


def expected_calibration_error(labels: np.ndarray, probabilities: np.ndarray, *, bins: int = 10) -> float:
    """ECE: the bin-share-weighted mean |observed rate - mean predicted| over equal-width bins."""
    labels = np.asarray(labels, dtype=float)
    if len(labels) == 0:
        return float("nan")
    which = np.minimum((probabilities * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            total += inside.mean() * abs(labels[inside].mean() - probabilities[inside].mean())
    return float(total)


def calibration_table(labels: np.ndarray, probabilities: np.ndarray, *, bins: int = 10) -> pd.DataFrame:
    """Per-bin mean predicted and observed rate, for calibration plots."""
    which = np.minimum((probabilities * bins).astype(int), bins - 1)
    frame = pd.DataFrame({"bin": which, "predicted": probabilities, "observed": np.asarray(labels, dtype=float)})
    table = frame.groupby("bin").agg(
        predicted=("predicted", "mean"), observed=("observed", "mean"), residents=("observed", "size")
    )
    return table.reset_index()


def multiclass_log_loss(labels: np.ndarray, probabilities: np.ndarray) -> float:
    picked = probabilities[np.arange(len(labels)), labels.astype(int)]
    return float(-np.mean(np.log(np.clip(picked, 1e-15, 1.0))))


def multiclass_brier(labels: np.ndarray, probabilities: np.ndarray) -> float:
    onehot = np.eye(probabilities.shape[1])[labels.astype(int)]
    return float(np.mean(np.sum((probabilities - onehot) ** 2, axis=1)))


def sensitivity_specificity(truth: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    truth = np.asarray(truth, dtype=bool)
    predicted = np.asarray(predicted, dtype=bool)
    sensitivity = float(predicted[truth].mean()) if truth.any() else float("nan")
    specificity = float((~predicted[~truth]).mean()) if (~truth).any() else float("nan")
    return sensitivity, specificity


def confusion(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """3x3 tier confusion matrix, rows true tier, columns predicted tier."""
    matrix = np.zeros((3, 3), dtype=np.int64)
    np.add.at(matrix, (labels.astype(int), predicted.astype(int)), 1)
    return matrix


@dataclass
class DiseaseEvaluation:
    """Everything measured for one disease on one test set."""

    metrics: dict[str, float]
    confusion: np.ndarray
    calibration: pd.DataFrame
    subgroups: pd.DataFrame
    roc_inputs: dict[str, np.ndarray]


def evaluate_disease(
    disease: str,
    *,
    labels: np.ndarray,
    probabilities: np.ndarray,
    model_tier: np.ndarray,
    served: np.ndarray,
    baseline: np.ndarray,
    groups: dict[str, np.ndarray],
) -> DiseaseEvaluation:
    """Measure one disease model on labelled test residents.

    Parameters
    ----------
    labels
        True tiers 0-2 from measurements or records.
    probabilities
        Calibrated (n, 3) probabilities.
    model_tier
        The tiers the probability policy gives.
    served
        Residents with no recorded diagnosis or treatment (the population the model is used on).
    baseline
        The guideline score to compare against on the same residents.
    groups
        Subgroup columns (e.g. sex, age band, team) for the per-subgroup table.
    """
    p_chronic = probabilities[:, 2]
    target = labels[served] == 2
    score = p_chronic[served]
    sensitivity, specificity = sensitivity_specificity(target, model_tier[served] == 2)
    sens_hr, spec_hr = sensitivity_specificity(labels[served] >= 1, model_tier[served] >= 1)
    metrics = {
        "auroc": auroc(target, score),
        "auprc": auprc(target, score),
        "baseline_auroc": auroc(target, baseline[served]),
        "ece": expected_calibration_error(target, score),
        "ece_all_classes": float(
            np.mean([expected_calibration_error(labels == k, probabilities[:, k]) for k in range(3)])
        ),
        "log_loss": multiclass_log_loss(labels, probabilities),
        "brier": multiclass_brier(labels, probabilities),
        "sensitivity_chronic": sensitivity,
        "specificity_chronic": specificity,
        "sensitivity_high_risk_or_above": sens_hr,
        "specificity_high_risk_or_above": spec_hr,
        "mean_p_chronic_served": float(score.mean()) if len(score) else float("nan"),
        "observed_chronic_served": float(target.mean()) if len(target) else float("nan"),
        "evaluated_residents": float(served.sum()),
        "evaluated_positives": float(target.sum()),
        "test_residents": float(len(labels)),
    }
    metrics["auroc_gain_over_baseline"] = metrics["auroc"] - metrics["baseline_auroc"]
    rows = []
    for group_name, values in groups.items():
        for value in pd.unique(values[served]):
            inside = values[served] == value
            rows.append(
                {
                    "disease": disease,
                    "subgroup": group_name,
                    "value": str(value),
                    "residents": int(inside.sum()),
                    "positives": int(target[inside].sum()),
                    "auroc": auroc(target[inside], score[inside]),
                    "baseline_auroc": auroc(target[inside], baseline[served][inside]),
                    "mean_p_chronic": float(score[inside].mean()),
                    "observed_rate": float(target[inside].mean()),
                }
            )
    return DiseaseEvaluation(
        metrics=metrics,
        confusion=confusion(labels, model_tier),
        calibration=calibration_table(target, score),
        subgroups=pd.DataFrame(rows),
        roc_inputs={"target": target, "score": score, "baseline": baseline[served]},
    )


def age_band(age_years: np.ndarray) -> np.ndarray:
    """Ten-year age bands as text (18-29, 30-39, ..., 80+)."""
    edges = [18, 30, 40, 50, 60, 70, 80]
    labels = np.array(["18-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80+"], dtype=object)
    return labels[np.clip(np.searchsorted(edges, age_years, side="right") - 1, 0, len(labels) - 1)]
