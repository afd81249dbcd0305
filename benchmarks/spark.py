"""Spark local[2] throughput beside the local engine's, on the same input and model (issue 4).

Usage: python benchmarks/spark.py [--rows 500000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks.common import save
from benchmarks.fixtures import AS_OF, population, trained_model
from riskmodel.batch import score_file
from riskmodel.config import load_config
from serving.spark_engine import score_file_spark


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=500_000)
    args = parser.parse_args()
    config = load_config()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        model = trained_model(folder)
        source = population(folder, args.rows, suffix="csv")
        score_file_spark(
            population(folder, 2000, suffix="csv", seed=1), folder / "warm.parquet", model, config=config, as_of=AS_OF
        )  # JVM and workers started before timing
        started = time.perf_counter()
        score_file(source, folder / "local.parquet", model, config=config, as_of=AS_OF)
        local = time.perf_counter() - started
        started = time.perf_counter()
        score_file_spark(source, folder / "spark.parquet", model, config=config, as_of=AS_OF, master="local[2]")
        spark = time.perf_counter() - started
    save(
        "spark",
        {
            "rows": args.rows,
            "local_rows_per_s": round(args.rows / local),
            "spark_local2_rows_per_s": round(args.rows / spark),
            "spark_to_local_ratio": round(local / spark, 3),
        },
    )


if __name__ == "__main__":
    main()
