"""SPEC section 10: the models on real data, over several seeds, against the guideline baseline and age alone.

NHANES 2011-2014 train, 2015-2016 test (no glucose or HbA1c as diabetes inputs; no BP as hypertension
inputs), seeds 1, 2 and 3: diabetes AUROC against the CDRS, hypertension against age alone, with bootstrap
95 % intervals; equal-frequency ECE and observed/expected; the screening yield at 10 % and 20 % capacity;
the screen_cut chosen on held-out (out-of-fold) predictions; and the ECE after `recalibrate`, cross-fitted on the
two halves of the test cycle. The same on a synthetic population for comparison with the
published lab-free range (AUROC ~0.70-0.85). Nothing is chosen on the test cycle.
Usage: python -m benchmarks.accuracy [--seeds 1 2 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.common import save
from riskmodel.config import load_config
from riskmodel.model.evaluation import equal_frequency_ece, observed_expected
from riskmodel.model.features import derived_features, feature_matrix
from riskmodel.model.labels import served_labelled
from riskmodel.records.reading import read_residents, resident_columns
from riskmodel.synth import write_population
from training.promote import cross_fitted_p_chronic
from training.train import train_risk_model

NHANES = Path(__file__).resolve().parents[2] / "shared" / "data" / "nhanes"
KEYS = (
    "auroc",
    "auroc_ci_low",
    "auroc_ci_high",
    "baseline_auroc",
    "baseline_auroc_ci_low",
    "baseline_auroc_ci_high",
    "auroc_gain_over_baseline",
    "age_auroc",
    "auroc_gain_over_age",
    "ece",
    "ece_equal_frequency",
    "observed_expected",
    "screen_cut",
    "sensitivity_at_screen_cut",
    "yield10_model_per_100",
    "yield10_baseline_per_100",
    "yield10_age_per_100",
    "yield10_random_per_100",
    "yield20_model_per_100",
    "yield20_baseline_per_100",
    "yield20_age_per_100",
    "yield20_random_per_100",
    "evaluated_residents",
    "evaluated_positives",
)


def _pick(metrics: dict[str, float]) -> dict[str, dict[str, float]]:
    return {
        d: {k: round(metrics[f"{d}_{k}"], 4) for k in KEYS if f"{d}_{k}" in metrics}
        for d in ("diabetes", "hypertension")
    }


def cross_fitted_recalibration(model: Any, test: pd.DataFrame, config: Any) -> dict[str, dict[str, float]]:
    """SPEC 10's recalibrated figure: each half of the test cycle scored by the model recalibrated on the other
    half (the promotion gate's cross-fitting, `riskmodel recalibrate`'s code), equal-frequency ECE and
    observed/expected over both halves."""
    after = cross_fitted_p_chronic(model, test, config)
    columns = resident_columns(test)
    derived = derived_features(columns)
    out: dict[str, dict[str, float]] = {}
    for disease in ("diabetes", "hypertension"):
        rows, labels = served_labelled(columns, disease, config)
        before = model.disease(disease).probabilities(feature_matrix(columns, disease, derived=derived)[rows])[:, 2]
        y, p = (labels[rows] == 2).astype(float), after[disease][rows]
        out[disease] = {
            "ece_equal_frequency_before": round(equal_frequency_ece(y, before), 4),
            "ece_equal_frequency_after": round(equal_frequency_ece(y, p), 4),
            "observed_expected_before": round(observed_expected(y, before), 3),
            "observed_expected_after": round(observed_expected(y, p), 3),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="*", default=[1, 2, 3])
    args = parser.parse_args()
    base = load_config()
    train = read_residents([NHANES / "nhanes_2011_2012.csv", NHANES / "nhanes_2013_2014.csv"]).residents
    test = read_residents(NHANES / "nhanes_2015_2016.csv").residents
    by_seed = {}
    cross_fitted = {}
    for seed in args.seeds:
        config = base.model_copy(update={"model": base.model.model_copy(update={"seed": seed})})
        result = train_risk_model(train, config, test=test)
        by_seed[seed] = _pick(result.metrics)
        cross_fitted[seed] = cross_fitted_recalibration(result.model, test, config)
    with tempfile.TemporaryDirectory() as folder:
        path = write_population(Path(folder) / "p.parquet", 200_000, teams=167, seed=11, as_of=dt.date(2026, 7, 1))
        synthetic = _pick(train_risk_model(read_residents(path).residents, base).metrics)
    checks = {
        seed: {
            "diabetes_ge_cdrs_plus_0.04": m["diabetes"]["auroc_gain_over_baseline"] >= 0.04,
            "hypertension_ge_age_plus_0.02": m["hypertension"]["auroc_gain_over_age"] >= 0.02,
            "diabetes_ece_eq_freq_le_0.02": m["diabetes"]["ece_equal_frequency"] <= 0.02,
            "hypertension_ece_eq_freq_le_0.02": m["hypertension"]["ece_equal_frequency"] <= 0.02,
        }
        for seed, m in by_seed.items()
    }
    save(
        "accuracy",
        {
            "nhanes_2011_2014_to_2015_2016": by_seed,
            "recalibrated_cross_fitted": cross_fitted,
            "synthetic_200k_held_out": synthetic,
            "checks": checks,
        },
    )


if __name__ == "__main__":
    main()
