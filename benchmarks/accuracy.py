"""SPEC section 10: undiagnosed-diabetes AUROC on real data against the CDRS, and calibration.

NHANES 2011-2014 train, 2015-2016 test (no glucose or HbA1c as inputs); the same measures on a
synthetic population for comparison with the published range (lab-free AUROC ~0.70-0.85).
Usage: python benchmarks/accuracy.py
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from benchmarks.common import save
from riskmodel.config import load_config
from riskmodel.records.reading import read_residents
from riskmodel.synth import write_population
from training.report import HEADLINE
from training.train import train_risk_model

NHANES = Path(__file__).resolve().parents[2] / "shared" / "data" / "nhanes"
KEYS = HEADLINE


def _pick(metrics: dict[str, float]) -> dict[str, dict[str, float]]:
    return {d: {k: round(metrics[f"{d}_{k}"], 4) for k in KEYS} for d in ("diabetes", "hypertension")}


def main() -> None:
    config = load_config()
    train = read_residents([NHANES / "nhanes_2011_2012.csv", NHANES / "nhanes_2013_2014.csv"]).residents
    test = read_residents(NHANES / "nhanes_2015_2016.csv").residents
    nhanes = _pick(train_risk_model(train, config, test=test).metrics)
    with tempfile.TemporaryDirectory() as folder:
        path = write_population(Path(folder) / "p.parquet", 200_000, teams=167, seed=11, as_of=dt.date(2026, 7, 1))
        synthetic = _pick(train_risk_model(read_residents(path).residents, config).metrics)
    dm = nhanes["diabetes"]
    save(
        "accuracy",
        {
            "nhanes_2011_2014_to_2015_2016": nhanes,
            "synthetic_200k_held_out": synthetic,
            "checks": {
                "diabetes_auroc_ge_cdrs_plus_0.03": dm["auroc"] >= dm["baseline_auroc"] + 0.03,
                "diabetes_ece_le_0.02": dm["ece"] <= 0.02,
            },
        },
    )


if __name__ == "__main__":
    main()
