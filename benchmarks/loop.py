"""SPEC section 10 (version 2): the work list with outcomes applied for a 1,500-resident team <= 200 ms;
POST outcome p99 <= 20 ms over a real server on loopback; indicators for 1 M residents with 3-year histories
and 12 monthly reference dates <= 30 s; the dashboard's team page usable within 1 s on loopback.

The work list is timed beside the same list without outcomes (side by side, one run). The server runs in a
child process with one worker; the load is bounded and talks only to 127.0.0.1.
Usage: python -m benchmarks.loop [--residents 1000000] [--posts 500]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.common import save
from benchmarks.fixtures import AS_OF, trained_model
from riskmodel.batch import score_file
from riskmodel.config import load_config
from riskmodel.indicators.compute import compute_indicators, month_ends
from riskmodel.records.event_files import BatchEvents
from riskmodel.store.batches import ResultStore
from riskmodel.synth import write_population
from riskmodel.synth.population import events_path
from riskmodel.worklist.entries import build_worklist
from riskmodel.worklist.team import team_worklist

KEY = "benchmark-key"


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))]


def indicators_seconds(folder: Path, model, residents: int) -> dict:  # type: ignore[no-untyped-def]
    """Score with histories into scratch tables, then time the indicators over 12 reference dates."""
    config = load_config()
    source = write_population(
        folder / "county.parquet", residents, teams=-(-residents // 1200), seed=4, as_of=AS_OF, history_years=3
    )
    events = BatchEvents(as_of=AS_OF, config=config, scratch=folder)
    try:
        import pyarrow as pa

        from riskmodel.batch import score_chunks
        from riskmodel.records.reading import iter_raw_tables, iter_validated

        for chunk in iter_validated(source):
            events.add_residents(pa.array(chunk.residents["resident_id"].to_numpy(dtype=object), pa.string()))
        events.load(events_path(source), lambda rejected: None)
        for _ in score_chunks(iter_raw_tables(source), model, as_of=AS_OF, config=config, events=events):
            pass
        events.ensure_events()  # the events' parts as the scratch database's events_all
        started = time.perf_counter()
        rows = compute_indicators(
            "scored_all", "events_all", month_ends(AS_OF, 12), config=config, connection=events.con
        )
        seconds = time.perf_counter() - started
    finally:
        events.close()
    return {
        "residents": residents,
        "events": events.events_read,
        "reference_dates": 12,
        "rows": len(rows),
        "seconds": round(seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--posts", type=int, default=500)
    args = parser.parse_args()
    config = load_config()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        model = trained_model(folder)
        model_dir = model.save(folder / "model")
        team = write_population(folder / "team.parquet", 3000, teams=2, seed=6, as_of=AS_OF, history_years=3)
        store_url = f"sqlite:///{folder / 'store.db'}"
        store = ResultStore(store_url)
        score_file(
            team,
            folder / "scored.parquet",
            model,
            config=config,
            as_of=AS_OF,
            store=store,
            events_path=events_path(team),
        )
        team_id = store.teams()[0]
        residents, _ = store.team_residents(team_id)
        # Outcomes on a fifth of the team's first actions, so the list has something to apply.
        listing, _ = team_worklist(
            store, team_id, model, today=config.deployment.today(), as_of=AS_OF, config=config, capacity=10_000
        )
        for entry in listing.entries[::5]:
            first = entry["actions"][0]
            store.outcomes.append(
                {
                    "team_id": team_id,
                    "resident_id": entry["resident_id"],
                    "disease": first["disease"],
                    "action": first["action"],
                    "outcome": "agreed",
                    "reason": None,
                    "note": None,
                    "recorded_on": AS_OF,
                    "recorded_by": "benchmark",
                    "hidden_until": AS_OF + dt.timedelta(days=7),
                }
            )
        plain, applied = [], []
        for _ in range(20):
            for lang in ("zh", "en"):
                started = time.perf_counter()
                build_worklist(residents, model, as_of=AS_OF, lang=lang, config=config)
                plain.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                team_worklist(
                    store, team_id, model, today=config.deployment.today(), as_of=AS_OF, lang=lang, config=config
                )
                applied.append((time.perf_counter() - started) * 1000)

        # A real server: POST outcome latency, and the dashboard's team page (its API calls and assets).
        port = _port()
        env = {
            **os.environ,
            "RISKMODEL_API_KEYS": json.dumps({hashlib.sha256(KEY.encode()).hexdigest(): ["*"]}),
            "RISKMODEL_STORE_URL": store_url,
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "riskmodel", "serve", "--port", str(port), "--model", str(model_dir)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(240):
                try:
                    if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.5)
            headers = {"X-API-Key": KEY}
            entries = httpx.get(
                f"{base}/v1/teams/{team_id}/worklist?as_of={AS_OF}&capacity=10000", headers=headers, timeout=30
            ).json()["entries"]
            posts = []
            with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
                for k in range(args.posts):
                    entry = entries[k % len(entries)]
                    first = entry["actions"][0]
                    body = {
                        "resident_id": entry["resident_id"],
                        "disease": first["disease"],
                        "action": first["action"],
                        "outcome": "unreachable",
                        "recorded_on": str(AS_OF),
                    }
                    started = time.perf_counter()
                    response = client.post(f"/v1/teams/{team_id}/outcomes", json=body)
                    posts.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 201, response.text
                pages = []
                for _ in range(10):
                    started = time.perf_counter()
                    for asset in ("/ui/", "/ui/app.js", "/ui/app.css"):
                        client.get(asset)
                    client.get("/v1/indicators?level=team&months=1")
                    client.get(f"/v1/teams/{team_id}/indicators?months=12")
                    client.get(f"/v1/teams/{team_id}/worklist?capacity=50")
                    pages.append((time.perf_counter() - started) * 1000)
        finally:
            server.terminate()
            server.wait(timeout=30)
        indicators = indicators_seconds(folder, model, args.residents)
    save(
        "loop",
        {
            "team_size": len(residents),
            "worklist_ms_median_without_outcomes": round(statistics.median(plain), 1),
            "worklist_ms_median_with_outcomes": round(statistics.median(applied), 1),
            "worklist_ms_p95_with_outcomes": round(_quantile(applied, 0.95), 1),
            "ratio_with_to_without": round(statistics.median(applied) / statistics.median(plain), 2),
            "outcome_post_ms_p50": round(_quantile(posts, 0.5), 2),
            "outcome_post_ms_p99": round(_quantile(posts, 0.99), 2),
            "posts": len(posts),
            "team_page_ms_median": round(statistics.median(pages), 1),
            "team_page_ms_max": round(max(pages), 1),
            "indicators": indicators,
            "targets": {
                "worklist_ms": "<= 200",
                "post_p99_ms": "<= 20",
                "indicators_s": "<= 30",
                "team_page_ms": "<= 1000",
            },
        },
    )


if __name__ == "__main__":
    main()
