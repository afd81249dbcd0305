"""SPEC section 10 (version 3): a 30,000-resident team's list and indicators.

- the first page of the team's list (50 entries, with reasons) from the store <= 300 ms;
- the team's indicators with 5,000 outcomes recorded <= 2 s.

A synthetic 30,000-resident team with 3-year histories is scored into a fresh store; 5,000 outcomes (agreed,
call_later, unreachable, declined, done) are recorded on its listed actions; then both are timed.
Usage: python benchmarks/team_list.py [--residents 30000] [--outcomes 5000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=30_000)
    parser.add_argument("--outcomes", type=int, default=5_000)
    parser.add_argument("--training-residents", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    config = load_config()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        model = trained_model(folder, residents=args.training_residents, config=config)
        source = write_population(
            folder / "team.parquet", args.residents, teams=1, seed=11, as_of=AS_OF, history_years=3
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
        page_ms: list[float] = []
        sizes: list[int] = []
        for k in range(args.repeats):
            started = time.perf_counter()
            listing, _ = team_worklist(
                store, team, model, today=config.deployment.today(), limit=50, lang=("zh", "en")[k % 2], config=config
            )
            page_ms.append((time.perf_counter() - started) * 1000)
            sizes.append(len(listing.entries))
        recorded = _record_outcomes(store, team, model, config, args.outcomes)
        indicator_ms: list[float] = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            unit_indicators(store, level="team", units=[team], as_of=AS_OF, months=12, config=config)
            indicator_ms.append((time.perf_counter() - started) * 1000)
        after_ms = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            team_worklist(store, team, model, today=config.deployment.today(), limit=50, config=config)
            after_ms.append((time.perf_counter() - started) * 1000)
        total = listing.total
        store.dispose()
    save(
        "team_list",
        {
            "team_size": args.residents,
            "entries_on_list": total,
            "page_entries": statistics.median(sizes),
            "first_page_ms_median": round(statistics.median(page_ms), 1),
            "first_page_ms_max": round(max(page_ms), 1),
            "first_page_with_outcomes_ms_median": round(statistics.median(after_ms), 1),
            "first_page_target_ms": 300,
            "outcomes": recorded,
            "indicators_ms_median": round(statistics.median(indicator_ms), 1),
            "indicators_ms_max": round(max(indicator_ms), 1),
            "indicators_target_ms": 2000,
        },
    )


if __name__ == "__main__":
    main()
