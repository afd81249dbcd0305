"""SPEC section 10: batch scoring end to end >= 0.7 x raw LightGBM Booster.predict rows/s on the same rows;
peak memory flat in input size (5 M rows within 1.2 x the peak at 1 M).

End to end = read, validate, features, predict, tiers, actions, write (Parquet in, Parquet out; CSV too).
The anchor is the two boosters' ``predict`` on the feature matrices of the same rows, timed in the same
process, interleaved with the end-to-end runs. Memory: each size scored in a fresh process.
Usage: python benchmarks/batch_scoring.py [--rows 1000000] [--memory-sizes 1000000 5000000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.common import PEAK_RSS, run_child, save
from benchmarks.fixtures import AS_OF, population, trained_model
from riskmodel.batch import score_file
from riskmodel.config import load_config
from riskmodel.model.features import derived_features, feature_matrix
from riskmodel.records.reading import read_residents, resident_columns

MEMORY_CHILD = (
    """
import json, sys, time, datetime as dt
from riskmodel.batch import score_file
from riskmodel.config import load_config
from riskmodel.model.tier_model import RiskModel
model = RiskModel.load(sys.argv[1])
started = time.perf_counter()
summary = score_file(sys.argv[2], sys.argv[3], model, config=load_config(), as_of=dt.date(2026, 7, 1))
seconds = time.perf_counter() - started
"""
    + PEAK_RSS
    + """
print(json.dumps({"rows": summary.rows_read, "seconds": round(seconds, 1), "peak_rss_mib": round(peak_rss_mib, 1)}))
"""
)


def raw_predict_seconds(model, columns) -> float:  # type: ignore[no-untyped-def]
    derived = derived_features(columns)
    matrices = {d: feature_matrix(columns, d, derived=derived) for d in ("diabetes", "hypertension")}
    started = time.perf_counter()
    for disease, matrix in matrices.items():
        model.disease(disease).booster.predict(matrix)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory-sizes", type=int, nargs="*", default=[1_000_000, 5_000_000])
    args = parser.parse_args()
    config = load_config()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        model = trained_model(folder)
        model_dir = model.save(folder / "model")
        source = population(folder, args.rows)
        csv_source = population(folder, args.rows, suffix="csv")
        columns = resident_columns(read_residents(source).residents)
        raw, e2e, e2e_csv = [], [], []
        for _ in range(args.repeats):
            raw.append(raw_predict_seconds(model, columns))
            started = time.perf_counter()
            score_file(source, folder / "out.parquet", model, config=config, as_of=AS_OF)
            e2e.append(time.perf_counter() - started)
            started = time.perf_counter()
            score_file(csv_source, folder / "out.csv", model, config=config, as_of=AS_OF)
            e2e_csv.append(time.perf_counter() - started)
        raw_rate = args.rows / statistics.median(raw)
        e2e_rate = args.rows / statistics.median(e2e)
        csv_rate = args.rows / statistics.median(e2e_csv)
        del columns
        memory = []
        for size in args.memory_sizes:
            source_n = population(folder, size, seed=8)
            payload = run_child(MEMORY_CHILD, str(model_dir), str(source_n), str(folder / "m.parquet"))
            memory.append(payload)
            source_n.unlink()
    save(
        "batch_scoring",
        {
            "rows": args.rows,
            "raw_predict_rows_per_s": round(raw_rate),
            "end_to_end_parquet_rows_per_s": round(e2e_rate),
            "end_to_end_csv_rows_per_s": round(csv_rate),
            "ratio_parquet": round(e2e_rate / raw_rate, 3),
            "ratio_csv": round(csv_rate / raw_rate, 3),
            "memory": memory,
            "memory_ratio_largest_to_smallest": round(memory[-1]["peak_rss_mib"] / memory[0]["peak_rss_mib"], 3)
            if len(memory) > 1
            else None,
            "targets": {"ratio": ">= 0.7", "memory_ratio": "<= 1.2"},
        },
    )


if __name__ == "__main__":
    main()
