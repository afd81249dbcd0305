"""SPEC section 10: the models on real data, over several seeds, against the guideline baseline and age alone.

NHANES 2011-2014 train, 2015-2016 test (no glucose or HbA1c as diabetes inputs; no BP as hypertension
inputs), seeds 1, 2 and 3: diabetes AUROC against the CDRS, hypertension against age alone, with bootstrap
95 % intervals; equal-frequency ECE and observed/expected; the screening yield at 10 % and 20 % capacity;
the screen_cut chosen on validation residents. The same on a synthetic population for comparison with the
published lab-free range (AUROC ~0.70-0.85). Nothing is chosen on the test cycle.
Usage: python -m benchmarks.accuracy [--seeds 1 2 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from pathlib import Path

from benchmarks.common import save
from riskmodel.config import load_config
from riskmodel.records.reading import read_residents
from riskmodel.synth import write_population
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="*", default=[1, 2, 3])
    args = parser.parse_args()
    base = load_config()
    train = read_residents([NHANES / "nhanes_2011_2012.csv", NHANES / "nhanes_2013_2014.csv"]).residents
    test = read_residents(NHANES / "nhanes_2015_2016.csv").residents
    by_seed = {}
    for seed in args.seeds:
        config = base.model_copy(update={"model": base.model.model_copy(update={"seed": seed})})
        by_seed[seed] = _pick(train_risk_model(train, config, test=test).metrics)
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
    save("accuracy", {"nhanes_2011_2014_to_2015_2016": by_seed, "synthetic_200k_held_out": synthetic, "checks": checks})


if __name__ == "__main__":
    main()
