"""SPEC section 10: a 1,500-resident team's work list, with reasons, from the store <= 200 ms.

Times :func:`riskmodel.worklist.team_worklist` (store read, re-assessment as of the date, selection, reasons
with TreeSHAP for listed residents) for every team of a scored population of 1,500-resident teams.
Usage: python benchmarks/worklist.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.common import save
from benchmarks.fixtures import AS_OF, population, trained_model
from riskmodel.batch import score_file
from riskmodel.config import load_config
from riskmodel.store.batches import ResultStore
from riskmodel.worklist.team import team_worklist


def main() -> None:
    config = load_config()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        model = trained_model(folder)
        source = population(folder, 30_000, per_team=1500)
        store = ResultStore(f"sqlite:///{folder / 'store.db'}")
        score_file(source, folder / "scored.parquet", model, config=config, as_of=AS_OF, store=store)
        timings, sizes = [], []
        for lang in ("zh", "en"):
            for team in store.teams():
                started = time.perf_counter()
                entries, _ = team_worklist(
                    store, team, model, today=config.deployment.today(), lang=lang, config=config
                )
                timings.append((time.perf_counter() - started) * 1000)
                sizes.append(len(entries))
        store.dispose()
    timings.sort()
    save(
        "worklist",
        {
            "team_size": 1500,
            "lists": len(timings),
            "entries_median": statistics.median(sizes),
            "capacity": config.worklist.capacity,
            "ms_median": round(statistics.median(timings), 1),
            "ms_p95": round(timings[int(0.95 * (len(timings) - 1))], 1),
            "ms_max": round(timings[-1], 1),
            "target_ms": 200,
        },
    )


if __name__ == "__main__":
    main()
