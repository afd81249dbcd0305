"""SPEC section 10: training on 1 M residents <= 10 min on 2 cores (read, validate, both models, evaluation).

Usage: python benchmarks/training.py [--residents 1000000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from benchmarks.common import save
from riskmodel.config import load_config
from riskmodel.records.reading import read_residents
from riskmodel.synth import write_population
from training.train import train_risk_model


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = write_population(
            Path(folder) / "p.parquet",
            args.residents,
            teams=-(-args.residents // 1200),
            seed=3,
            as_of=dt.date(2026, 7, 1),
        )
        started = time.perf_counter()
        residents = read_residents(path).residents
        read_seconds = time.perf_counter() - started
        result = train_risk_model(residents, load_config())
        total = time.perf_counter() - started
    save(
        "training",
        {
            "residents": args.residents,
            "read_validate_seconds": round(read_seconds, 1),
            "total_seconds": round(total, 1),
            "target_seconds": 600,
            "trees_per_class": {d: result.data_summary[f"{d}_trees_per_class"] for d in ("diabetes", "hypertension")},
            "diabetes_auroc": round(result.metrics["diabetes_auroc"], 4),
            "hypertension_auroc": round(result.metrics["hypertension_auroc"], 4),
        },
    )


if __name__ == "__main__":
    main()
