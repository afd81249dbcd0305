"""SPEC section 10: synthetic population, 1 M residents <= 20 s; 10 M without exhausting memory.

Each size runs in a fresh process that reports its own wall time and peak RSS.
Usage: python benchmarks/synth.py [--big 10000000]
"""

from __future__ import annotations

import argparse
import tempfile

from benchmarks.common import PEAK_RSS, run_child, save

CHILD = (
    """
import json, sys, time, datetime as dt
from riskmodel.synth import write_population
n, path = int(sys.argv[1]), sys.argv[2]
started = time.perf_counter()
write_population(path, n, teams=-(-n // 1200), seed=1, as_of=dt.date(2026, 7, 1))
seconds = time.perf_counter() - started
"""
    + PEAK_RSS
    + """
print(json.dumps({"residents": n, "seconds": round(seconds, 2), "peak_rss_mib": round(peak_rss_mib, 1)}))
"""
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--big", type=int, default=10_000_000)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for n, suffix in ((1_000_000, "parquet"), (1_000_000, "csv"), (args.big, "parquet")):
            payload = run_child(CHILD, str(n), f"{folder}/population.{suffix}")
            payload["format"] = suffix
            payload["residents_per_second"] = round(n / payload["seconds"])
            results.append(payload)
    save("synth", {"runs": results, "target": "1 M <= 20 s; 10 M with flat memory"})


if __name__ == "__main__":
    main()
