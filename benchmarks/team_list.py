"""SPEC section 10 (version 3): a 30,000-resident team's list and indicators.

- the first page of the team's list (50 entries, with reasons) from the store <= 300 ms;
- the team's indicators with 5,000 outcomes recorded <= 2 s.

A synthetic 30,000-resident team with 3-year histories is scored into a fresh store; 5,000 outcomes (agreed,
call_later, unreachable, declined, done) are recorded on its listed actions; then both are timed.
Times are wall and CPU (this process) milliseconds: cold (a fresh store object, the rows read from the database) and
warm (the next requests). Side by side: ``--prepared DIR --source ../before --source .`` times each checkout
on one prepared folder (``model/``, ``store.db`` with the outcomes recorded).
Usage: python -m benchmarks.team_list [--residents 30000] [--outcomes 5000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.common import save
from benchmarks.fixtures import AS_OF, trained_model
from riskmodel.batch import score_file
from riskmodel.config import load_config
from riskmodel.indicators.report import unit_indicators
from riskmodel.store.batches import ResultStore
from riskmodel.synth import write_population
from riskmodel.synth.population import events_path
from riskmodel.worklist.team import team_worklist

OUTCOME_CODES = ("agreed", "call_later", "unreachable", "declined", "done")


def _record_outcomes(store: ResultStore, team: str, model, config, count: int) -> int:  # type: ignore[no-untyped-def]
    """Append ``count`` outcomes on actions of the team's full list, spread over the 60 days before the batch."""
    listing, _ = team_worklist(
        store,
        team,
        model,
        today=config.deployment.today(),
        capacity=1_000_000,
        limit=None,
        config=config,
        reasons=False,
    )
    actions = [(e["resident_id"], a["disease"], a["action"]) for e in listing.entries for a in e["actions"]]
    rng = np.random.default_rng(3)
    written = 0
    for k in range(count):
        resident, disease, action = actions[k % len(actions)]
        code = OUTCOME_CODES[int(rng.integers(len(OUTCOME_CODES)))]
        store.outcomes.append(
            {
                "team_id": team,
                "resident_id": resident,
                "disease": disease,
                "action": action,
                "outcome": code,
                "reason": "benchmark" if code == "declined" else None,
                "note": None,
                "recorded_on": AS_OF - dt.timedelta(days=int(rng.integers(0, 60))),
                "recorded_by": "benchmark",
                "hidden_until": None,
            }
        )
        written += 1
    return written


def _one_team(source: Path) -> Path:
    """The generator keeps teams at 1,500 residents; SPEC 10's 30,000-resident unit (a township health centre's
    list) is its teams' residents under one team id. The events file beside it is keyed by resident and kept."""
    table = pq.read_table(source)
    column = table.schema.get_field_index("team_id")
    table = table.set_column(column, "team_id", pa.array(["T-BENCH"] * table.num_rows, pa.string()))
    pq.write_table(table, source)
    return source


# Times one checkout's code on a prepared folder (``model/``, ``store.db`` with the outcomes recorded), in a fresh
# interpreter: works with the code before and after ``today`` became an argument of the team functions.
SIDE_BY_SIDE = """
import inspect, json, statistics, sys, time, datetime as dt
from riskmodel.model.tier_model import RiskModel
from riskmodel.store.batches import ResultStore
from riskmodel.worklist.team import team_worklist
from riskmodel.indicators.report import unit_indicators
folder, repeats = sys.argv[1], int(sys.argv[2])
model = RiskModel.load(folder + "/model")
config, url, as_of = model.config, "sqlite:///" + folder + "/store.db", dt.date(2026, 7, 1)
extra = {"today": as_of} if "today" in inspect.signature(team_worklist).parameters else {}
def timed(call):
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000
store = ResultStore(url)
(team,) = store.teams()
page = lambda on: team_worklist(on, team, model, limit=50, config=config, **extra)
cold = []
for _ in range(repeats):
    fresh = ResultStore(url)
    cold.append(timed(lambda: page(fresh)))
    fresh.dispose()
warm = [timed(lambda: page(store)) for _ in range(repeats)]
ind = [timed(lambda: unit_indicators(store, level="team", units=[team], as_of=as_of, months=12, config=config))
       for _ in range(repeats)]
med = lambda xs, k: round(statistics.median(x[k] for x in xs), 1)
print(json.dumps({name: {"wall_ms": med(xs, 0), "cpu_ms": med(xs, 1)}
                  for name, xs in (("first_page_cold", cold), ("first_page_warm", warm), ("indicators", ind))}))
"""


def side_by_side(folder: Path, sources: list[Path], repeats: int) -> dict[str, object]:
    """Each checkout's figures on the same prepared folder, alternating checkouts twice (noise hits all alike)."""
    results: dict[str, list[dict[str, object]]] = {str(source): [] for source in sources}
    for _ in range(2):
        for source in sources:
            completed = subprocess.run(
                [sys.executable, "-c", SIDE_BY_SIDE, str(folder), str(repeats)],
                cwd=source,
                env={**os.environ, "PYTHONPATH": str(source.resolve())},
                check=True,
                capture_output=True,
                text=True,
            )
            results[str(source)].append(json.loads(completed.stdout.strip().splitlines()[-1]))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=30_000)
    parser.add_argument("--outcomes", type=int, default=5_000)
    parser.add_argument("--training-residents", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--prepared", type=Path, help="with --source: a folder with model/ and store.db (outcomes recorded)"
    )
    parser.add_argument("--source", type=Path, action="append", help="checkouts to compare side by side")
    args = parser.parse_args()
    if args.source:
        save(
            "team_list_side_by_side",
            {"folder": str(args.prepared), **side_by_side(args.prepared, args.source, args.repeats)},
        )
        return
    config = load_config()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        model = trained_model(folder, residents=args.training_residents, config=config)
        source = _one_team(
            write_population(
                folder / "team.parquet",
                args.residents,
                teams=-(-args.residents // 1500),
                seed=11,
                as_of=AS_OF,
                history_years=3,
            )
        )
        store = ResultStore(f"sqlite:///{folder / 'store.db'}")
        score_file(
            source,
            folder / "scored.parquet",
            model,
            config=config,
            as_of=AS_OF,
            store=store,
            events_path=events_path(source),
        )
        (team,) = store.teams()
        url = f"sqlite:///{folder / 'store.db'}"

        def page(on: ResultStore, k: int = 0):  # type: ignore[no-untyped-def]
            return team_worklist(on, team, model, today=AS_OF, limit=50, lang=("zh", "en")[k % 2], config=config)[0]

        cold = []  # a fresh store object each time: the team's rows read from the database, nothing kept
        for _ in range(args.repeats):
            fresh = ResultStore(url)
            cold.append(_timed(lambda fresh=fresh: page(fresh)))
            fresh.dispose()
        warm = [_timed(lambda k=k: page(store, k)) for k in range(args.repeats)]
        listing = page(store)
        recorded = _record_outcomes(store, team, model, config, args.outcomes)
        indicators_timed = [
            _timed(lambda: unit_indicators(store, level="team", units=[team], as_of=AS_OF, months=12, config=config))
            for _ in range(args.repeats)
        ]
        after = [_timed(lambda: page(store)) for _ in range(args.repeats)]
        store.dispose()
    save(
        "team_list",
        {
            "team_size": args.residents,
            "entries_on_list": listing.total,
            "page_entries": len(listing.entries),
            "first_page_cold": _summary(cold),
            "first_page_warm": _summary(warm),
            "first_page_with_5000_outcomes": _summary(after),
            "first_page_target_ms": 300,
            "outcomes": recorded,
            "indicators": _summary(indicators_timed),
            "indicators_target_ms": 2000,
        },
    )


def _timed(call) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(wall ms, CPU ms of this process) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def _summary(timings: list[tuple[float, float]]) -> dict[str, float]:
    walls, cpus = [w for w, _ in timings], [c for _, c in timings]
    return {
        "wall_ms_median": round(statistics.median(walls), 1),
        "wall_ms_max": round(max(walls), 1),
        "cpu_ms_median": round(statistics.median(cpus), 1),
    }


if __name__ == "__main__":
    main()
