"""Evaluation metrics a clinician can read (computing only; plots and reports are drawn elsewhere).

For each disease the headline population is the one the model serves: residents with no recorded
diagnosis or treatment and with a defining measurement. There, P(chronic) is judged as a screen for
undiagnosed disease (AUROC, AUPRC) beside the guideline baseline on the same residents (the CDRS for
diabetes, the count of non-BP BPHS criteria for hypertension), and its calibration by the expected
calibration error (10 equal-width bins, and 10 equal-frequency bins, which do not degenerate when most
predictions sit in one bin) and observed/expected, age alone as a second baseline, bootstrap 95 % intervals,
and a screening-yield table (cases found per 100 screened at 10-50 % capacity) for the model, the baseline,
age and random (SPEC 12).
"""

from __future__ import annotations

from collections.abc import Callable
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


def equal_frequency_ece(labels: np.ndarray, probabilities: np.ndarray, *, bins: int = 10) -> float:
    """ECE over equal-frequency bins (deciles of the predictions): it does not degenerate when most predictions
    sit in one equal-width bin (SPEC 12)."""
    labels = np.asarray(labels, dtype=float)
    if len(labels) < bins:
        return float("nan")
    order = np.argsort(probabilities, kind="stable")
    total = 0.0
    for part in np.array_split(order, bins):
        total += len(part) / len(labels) * abs(labels[part].mean() - probabilities[part].mean())
    return float(total)


def observed_expected(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """Observed cases / expected cases (the sum of the predicted probabilities)."""
    expected = float(np.sum(probabilities))
    return float(np.sum(labels)) / expected if expected > 0 else float("nan")


def bootstrap_ci(
    labels: np.ndarray, scores: list[np.ndarray], *, resamples: int = 200, seed: int = 0
) -> list[tuple[float, float]]:
    """95 % percentile bootstrap intervals of the AUROC of each score, resampling residents (the same resamples
    for every score, so differences are paired)."""
    rng = np.random.default_rng(seed)
    n = len(labels)
    draws: list[list[float]] = [[] for _ in scores]
    for _ in range(resamples):
        pick = rng.integers(0, n, n)
        for k, score in enumerate(scores):
            value = auroc(labels[pick], score[pick])
            if not np.isnan(value):
                draws[k].append(value)
    return [
        (float(np.percentile(d, 2.5)), float(np.percentile(d, 97.5))) if d else (float("nan"), float("nan"))
        for d in draws
    ]


def paired_difference_ci(
    measure: Callable[[np.ndarray, np.ndarray], float],
    labels: np.ndarray,
    new: np.ndarray,
    old: np.ndarray,
    *,
    resamples: int,
    seed: int,
) -> tuple[float, float]:
    """95 % percentile bootstrap interval of ``measure(labels, new) - measure(labels, old)``, both scores measured
    on the same resamples of residents (paired)."""
    rng = np.random.default_rng(seed)
    n = len(labels)
    differences = []
    for _ in range(resamples):
        pick = rng.integers(0, n, n)
        value = measure(labels[pick], new[pick]) - measure(labels[pick], old[pick])
        if not np.isnan(value):
            differences.append(value)
    if not differences:
        return float("nan"), float("nan")
    return float(np.percentile(differences, 2.5)), float(np.percentile(differences, 97.5))


SCREENING_CAPACITIES = (0.10, 0.20, 0.30, 0.50)
SUBGROUP_CI_MIN_POSITIVES = 20
"""Subgroups with fewer cases than this get no bootstrap interval (it would mean little)."""


def screening_yield(labels: np.ndarray, scores: dict[str, np.ndarray], *, seed: int = 0) -> pd.DataFrame:
    """Cases found per 100 screened, and the share of all cases found, when the top X % by each score are
    screened (X = 10, 20, 30, 50 %); ``random`` is the expectation of screening at random."""
    labels = np.asarray(labels, dtype=bool)
    rows = []
    cases = max(int(labels.sum()), 1)
    for name, score in {**scores, "random": None}.items():
        for capacity in SCREENING_CAPACITIES:
            k = max(1, int(round(capacity * len(labels))))
            if score is None:
                found = labels.mean() * k
            else:
                order = np.lexsort((np.random.default_rng(seed).random(len(score)), -score))  # ties broken at random
                found = float(labels[order[:k]].sum())
            rows.append(
                {
                    "score": name,
                    "capacity": capacity,
                    "screened": k,
                    "cases_found": round(float(found), 1),
                    "per_100_screened": round(100 * found / k, 1),
                    "share_of_cases": round(float(found) / cases, 3),
                }
            )
    return pd.DataFrame(rows)


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
    screening_yield: pd.DataFrame | None = None


def evaluate_disease(
    disease: str,
    *,
    labels: np.ndarray,
    probabilities: np.ndarray,
    model_tier: np.ndarray,
    served: np.ndarray,
    baseline: np.ndarray,
    groups: dict[str, np.ndarray],
    age_years: np.ndarray | None = None,
    screen_cut: float | None = None,
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
    target = labels[served] == 2
    score = probabilities[:, 2][served]
    metrics = _overall_metrics(labels, probabilities, model_tier, served, baseline)
    scores = {"model": score, "baseline": baseline[served]}
    if age_years is not None:
        scores["age"] = age_years[served]
        metrics["age_auroc"] = auroc(target, age_years[served])
        metrics["auroc_gain_over_age"] = metrics["auroc"] - metrics["age_auroc"]
    intervals = bootstrap_ci(target, list(scores.values()))
    for name, (low, high) in zip(scores, intervals, strict=True):
        prefix = "" if name == "model" else f"{name}_"
        metrics[f"{prefix}auroc_ci_low"], metrics[f"{prefix}auroc_ci_high"] = low, high
    if screen_cut is not None:
        metrics["screen_cut"] = float(screen_cut)
        sensitivity_cut, specificity_cut = sensitivity_specificity(target, score >= screen_cut)
        metrics["sensitivity_at_screen_cut"], metrics["specificity_at_screen_cut"] = sensitivity_cut, specificity_cut
    yields = screening_yield(target, scores)
    for row in yields.itertuples():
        metrics[f"yield{int(row.capacity * 100)}_{row.score}_per_100"] = float(row.per_100_screened)
    return DiseaseEvaluation(
        metrics=metrics,
        confusion=confusion(labels, model_tier),
        calibration=calibration_table(target, score),
        subgroups=_subgroups(disease, groups, served, target, score, baseline[served]),
        roc_inputs={"target": target, "score": score, "baseline": baseline[served]},
        screening_yield=yields,
    )


def _overall_metrics(
    labels: np.ndarray, probabilities: np.ndarray, model_tier: np.ndarray, served: np.ndarray, baseline: np.ndarray
) -> dict[str, float]:
    """Discrimination, calibration and the tiers' sensitivity on the residents the model serves; the
    multiclass losses on all the labelled."""
    target = labels[served] == 2
    score = probabilities[:, 2][served]
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
    metrics["ece_equal_frequency"] = equal_frequency_ece(target, score)
    metrics["observed_expected"] = observed_expected(target, score)
    return metrics


def _subgroups(
    disease: str,
    groups: dict[str, np.ndarray],
    served: np.ndarray,
    target: np.ndarray,
    score: np.ndarray,
    baseline: np.ndarray,
) -> pd.DataFrame:
    """One row per subgroup value (served residents): AUROC with its CI where there are enough positives."""
    rows = []
    for group_name, values in groups.items():
        for value in sorted(pd.unique(values[served]), key=str):  # age bands and teams in order
            inside = values[served] == value
            enough = target[inside].sum() >= SUBGROUP_CI_MIN_POSITIVES and (~target[inside]).sum() >= 1
            low, high = (
                bootstrap_ci(target[inside], [score[inside]], resamples=100)[0] if enough else (float("nan"),) * 2
            )
            rows.append(
                {
                    "disease": disease,
                    "subgroup": group_name,
                    "value": str(value),
                    "residents": int(inside.sum()),
                    "positives": int(target[inside].sum()),
                    "auroc": auroc(target[inside], score[inside]),
                    "auroc_ci_low": low,
                    "auroc_ci_high": high,
                    "baseline_auroc": auroc(target[inside], baseline[inside]),
                    "mean_p_chronic": float(score[inside].mean()),
                    "observed_rate": float(target[inside].mean()),
                }
            )
    return pd.DataFrame(rows)


def age_band(age_years: np.ndarray) -> np.ndarray:
    """Ten-year age bands as text (18-29, 30-39, ..., 80+)."""
    edges = [18, 30, 40, 50, 60, 70, 80]
    labels = np.array(["18-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80+"], dtype=object)
    return labels[np.clip(np.searchsorted(edges, age_years, side="right") - 1, 0, len(labels) - 1)]
