"""SPEC section 10 (version 2): scoring with histories, and synthetic histories.

- Scoring 1 M residents with 3-year histories: >= 0.5 x the rows/s of the same residents without events,
  side by side in one run (alternating, median of the repeats).
- Peak memory with events flat from 1 M to 5 M residents (each size scored in a fresh process).
- Synthetic 1 M residents with 3-year histories <= 60 s (a fresh process).
Usage: python -m benchmarks.history_scoring [--rows 1000000] [--memory-sizes 1000000 5000000] [--repeats 2]

``--source DIR`` (repeatable) measures checkouts side by side instead (e.g. a ``git worktree`` of an earlier
commit): the same residents and events are scored by each checkout in a fresh process, without and with events,
the checkouts alternating ``--repeats`` times; wall and CPU seconds and rows/s per checkout. ``--model DIR`` uses
a saved model instead of training one.
    python -m benchmarks.history_scoring --rows 300000 --repeats 2 --source ../before --source . [--model DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import PEAK_RSS, run_child, save
from benchmarks.fixtures import AS_OF, trained_model
from riskmodel.batch import score_file
from riskmodel.config import load_config
from riskmodel.synth import write_population
from riskmodel.synth.population import events_path

SYNTH_CHILD = (
    """
import json, sys, time, datetime as dt
from riskmodel.synth import write_population
n, path = int(sys.argv[1]), sys.argv[2]
started = time.perf_counter()
write_population(path, n, teams=-(-n // 1200), seed=3, as_of=dt.date(2026, 7, 1), history_years=3)
seconds = time.perf_counter() - started
"""
    + PEAK_RSS
    + """
print(json.dumps({"residents": n, "seconds": round(seconds, 1), "peak_rss_mib": round(peak_rss_mib, 1)}))
"""
)
SCORE_CHILD = (
    """
import json, sys, time, datetime as dt
from riskmodel.batch import score_file
from riskmodel.config import load_config
from riskmodel.model.tier_model import RiskModel
model = RiskModel.load(sys.argv[1])
started = time.perf_counter()
summary = score_file(sys.argv[2], sys.argv[3], model, config=load_config(), as_of=dt.date(2026, 7, 1),
                     events_path=sys.argv[4])
seconds = time.perf_counter() - started
"""
    + PEAK_RSS
    + """
print(json.dumps({"residents": summary.rows_read, "events": summary.events_read, "seconds": round(seconds, 1),
                  "peak_rss_mib": round(peak_rss_mib, 1)}))
"""
)
SIDE_BY_SIDE = """
import json, sys, time, datetime as dt
from riskmodel.batch import score_file
from riskmodel.config import load_config
from riskmodel.model.tier_model import RiskModel
model_dir, source, events, out = sys.argv[1:5]
model, config = RiskModel.load(model_dir), load_config()
def timed(**extra):
    wall, cpu = time.perf_counter(), time.process_time()
    score_file(source, out, model, config=config, as_of=dt.date(2026, 7, 1), **extra)
    return {"wall_s": round(time.perf_counter() - wall, 2), "cpu_s": round(time.process_time() - cpu, 2)}
print(json.dumps({"without_events": timed(), "with_events": timed(events_path=events)}))
"""


def side_by_side(rows: int, sources: list[Path], repeats: int, model_dir: Path | None) -> dict[str, Any]:
    """Each checkout scores the same residents without and with their events, checkouts alternating."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        if model_dir is None:
            model_dir = trained_model(folder).save(folder / "model")
        source = write_population(
            folder / "residents.parquet", rows, teams=-(-rows // 1200), seed=5, as_of=AS_OF, history_years=3
        )
        runs: dict[str, list[dict[str, Any]]] = {str(s): [] for s in sources}
        for _ in range(repeats):
            for checkout in sources:
                completed = subprocess.run(
                    [
                        sys.executable,
                        "-c",
                        SIDE_BY_SIDE,
                        str(model_dir),
                        str(source),
                        str(events_path(source)),
                        str(folder / "out.parquet"),
                    ],
                    cwd=checkout,
                    env={**os.environ, "PYTHONPATH": str(checkout.resolve())},
                    check=True,
                    capture_output=True,
                    text=True,
                )
                runs[str(checkout)].append(json.loads(completed.stdout.strip().splitlines()[-1]))
    figures = {}
    for checkout, results in runs.items():
        plain = statistics.median(r["without_events"]["wall_s"] for r in results)
        with_events = statistics.median(r["with_events"]["wall_s"] for r in results)
        figures[checkout] = {
            "runs": results,
            "rows_per_s_without_events": round(rows / plain),
            "rows_per_s_with_events": round(rows / with_events),
            "ratio": round(plain / with_events, 3),
            "cpu_ratio": round(
                statistics.median(r["without_events"]["cpu_s"] for r in results)
                / statistics.median(r["with_events"]["cpu_s"] for r in results),
                3,
            ),
        }
    return {"residents": rows, "load_average": os.getloadavg(), "checkouts": figures}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--memory-sizes", type=int, nargs="*", default=[1_000_000, 5_000_000])
    parser.add_argument("--source", type=Path, action="append", help="checkouts to compare side by side")
    parser.add_argument("--model", type=Path, help="with --source: a saved model (else one is trained)")
    args = parser.parse_args()
    if args.source:
        save("history_scoring_side_by_side", side_by_side(args.rows, args.source, args.repeats, args.model))
        return
    config = load_config()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        synth = run_child(SYNTH_CHILD, str(args.rows), str(folder / "synth.parquet"))
        (folder / "synth.parquet").unlink()
        events_path(folder / "synth.parquet").unlink()
        model = trained_model(folder)
        model_dir = model.save(folder / "model")
        source = write_population(
            folder / "residents.parquet", args.rows, teams=-(-args.rows // 1200), seed=5, as_of=AS_OF, history_years=3
        )
        plain, with_events = [], []
        events = 0
        for _ in range(args.repeats):
            started = time.perf_counter()
            score_file(source, folder / "plain.parquet", model, config=config, as_of=AS_OF)
            plain.append(time.perf_counter() - started)
            started = time.perf_counter()
            summary = score_file(
                source, folder / "events.parquet", model, config=config, as_of=AS_OF, events_path=events_path(source)
            )
            with_events.append(time.perf_counter() - started)
            events = summary.events_read
        memory = []
        for size in args.memory_sizes:
            path = write_population(
                folder / f"m{size}.parquet", size, teams=-(-size // 1200), seed=8, as_of=AS_OF, history_years=3
            )
            memory.append(
                run_child(SCORE_CHILD, str(model_dir), str(path), str(folder / "m.parquet"), str(events_path(path)))
            )
            path.unlink()
            events_path(path).unlink()
    plain_rate = args.rows / statistics.median(plain)
    events_rate = args.rows / statistics.median(with_events)
    save(
        "history_scoring",
        {
            "residents": args.rows,
            "events": events,
            "rows_per_s_without_events": round(plain_rate),
            "rows_per_s_with_events": round(events_rate),
            "ratio": round(events_rate / plain_rate, 3),
            "memory": memory,
            "memory_ratio_largest_to_smallest": round(memory[-1]["peak_rss_mib"] / memory[0]["peak_rss_mib"], 3)
            if len(memory) > 1
            else None,
            "synth_with_histories": synth,
            "targets": {"ratio": ">= 0.5", "memory": "flat 1 M -> 5 M", "synth_1m_seconds": "<= 60"},
        },
    )


if __name__ == "__main__":
    main()
