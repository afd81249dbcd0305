"""SPEC section 10 (version 3): ``POST /v1/fhir/assessments`` with one patient's Bundle (the Patient and its
Observations, Conditions, medicines, Encounters and referrals from a 3-year synthetic history) on loopback over a
kept-alive connection: p50 <= 10 ms. The same Bundle is also timed in process, split into its steps (the FHIR
mapping, the assessment, the answer; wall and CPU milliseconds), to show where the time goes.

The server runs as a separate process with one worker (``riskmodel serve``), as in ``benchmarks/api.py``. The
in-process steps run in fresh interpreters, CPU time of the calling thread (the figure to read on a shared
machine); ``--source DIR`` (repeatable) measures another checkout (e.g. ``../before``) in the same run, alternating,
in process and on loopback.
Usage: python -m benchmarks.fhir_api [--requests 500] [--train-residents 20000] [--rounds 3] [--source ../before]
       [--no-loopback]
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

import httpx
import pyarrow.parquet as pq

from benchmarks.api import KEY, _port, _wait
from benchmarks.common import save, server_env
from benchmarks.fixtures import AS_OF, population
from riskmodel.config import load_config
from riskmodel.interchange import population_resources
from riskmodel.interchange.settings import FhirSettings
from riskmodel.records.reading import read_residents
from riskmodel.synth.population import events_path, write_population
from training.promote import promote
from training.tracking import log_training
from training.train import train_risk_model


def one_patient_bundle(folder: Path) -> dict[str, Any]:
    """The Bundle of the synthetic resident with the median number of resources (3-year history)."""
    path = write_population(folder / "fhir-population.parquet", 200, teams=1, seed=21, as_of=AS_OF, history_years=3)
    residents, events = pq.read_table(path).to_pandas(), pq.read_table(events_path(path)).to_pandas()
    sizes = events.groupby("resident_id").size().sort_values()
    rid = sizes.index[len(sizes) // 2]
    resources = population_resources(
        residents[residents["resident_id"] == rid], events[events["resident_id"] == rid], AS_OF, FhirSettings()
    )
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 2)


STEPS = r"""
import datetime as dt, json, sys, time
from riskmodel.model.tier_model import RiskModel
from riskmodel.intake import assess_records
from riskmodel.interchange.fhir_out import assessment_resources, basis_observations, bundle
from riskmodel.interchange.fhir_reading import fhir_problem
from serving.auth import Caller
from serving.routes import fhir as route
from serving.routes.assessments import payload

model = RiskModel.load(sys.argv[1])
document = json.loads(open(sys.argv[2], encoding="utf-8").read())
count, as_of = int(sys.argv[3]), dt.date.fromisoformat(sys.argv[4])
caller = Caller("benchmark", frozenset({"*"}), "benchmark")
resources = [entry["resource"] for entry in document["entry"]]


def steps():
    marks = [time.thread_time_ns()]
    if hasattr(route, "read_bundle"):  # this checkout: the plain-Python mapping, typed at the boundary
        mapped, checked = route.read_bundle(document, as_of=as_of)
        marks.append(time.thread_time_ns())
        result = assess_records(checked.residents, checked.events or None, as_of=as_of, model=model, checked=True,
                                num_threads=1)
        records, observations = checked.residents, mapped.observations
    else:  # an earlier checkout: DuckDB and pandas, the validators in assess_records
        from riskmodel.interchange.fhir_in import read_fhir
        from riskmodel.interchange.importing import text_table
        from riskmodel.records.local_connection import thread_connection
        from riskmodel.records.schema import COLUMN_NAMES, EVENT_COLUMN_NAMES

        imported = read_fhir([], as_of=as_of, documents=[("request", document)], connection=thread_connection())
        marks.append(time.thread_time_ns())
        result = assess_records(text_table(imported.residents, COLUMN_NAMES),
                                text_table(imported.events, EVENT_COLUMN_NAMES), as_of=as_of, model=model,
                                num_threads=1)
        records, observations = result.residents[["resident_id", "team_id"]].to_dict("records"), imported.observations
    marks.append(time.thread_time_ns())
    items = payload([{"resident_id": r["resident_id"], "team_id": r["team_id"]} for r in records], result.assessment,
                    model, explain=True, lang="zh")
    content = bundle(assessment_resources(items, as_of=as_of, lang="zh", basis=basis_observations(observations, as_of)))
    json.dumps(content, ensure_ascii=False)
    marks.append(time.thread_time_ns())
    return [(b - a) / 1e6 for a, b in zip(marks, marks[1:])]


def timed(fn):
    for _ in range(5):
        fn()
    out = []
    for _ in range(count):
        started = time.thread_time_ns()
        fn()
        out.append((time.thread_time_ns() - started) / 1e6)
    return sorted(out)[len(out) // 2]


split = [steps() for _ in range(count + 5)][5:]
median = lambda values: sorted(values)[len(values) // 2]
print(json.dumps({
    "route_cpu": timed(lambda: json.dumps(route.assess_bundle(document, model, caller, as_of=as_of, lang="zh"),
                                          ensure_ascii=False)),
    "mapping_cpu": median([s[0] for s in split]),
    "assessment_cpu": median([s[1] for s in split]),
    "answer_cpu": median([s[2] for s in split]),
    "fhir_validation_cpu": timed(lambda: [fhir_problem(r) for r in resources]),
}))
"""


def in_process(source: Path, model_dir: Path, document: Path, count: int) -> dict[str, float]:
    """Median CPU milliseconds (of the calling thread) of the route's work in a fresh interpreter in ``source``:
    the whole route function, and its steps (mapping and checking the Bundle, the assessment, the answer);
    ``fhir_validation`` is the FHIR model's check of the Bundle's resources, part of the mapping."""
    completed = subprocess.run(
        [sys.executable, "-c", STEPS, str(model_dir), str(document), str(count), str(AS_OF)],
        cwd=source,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(source)},
    )
    measured = json.loads(completed.stdout.strip().splitlines()[-1])
    return {k: round(v, 2) for k, v in measured.items()}


def loopback(source: Path, folder: Path, env: dict[str, str], body: bytes, requests: int) -> dict[str, float]:
    """p50/p99/mean wall milliseconds of ``POST /v1/fhir/assessments`` on loopback, the server run from ``source``."""
    port = _port()
    server = subprocess.Popen(
        [sys.executable, "-m", "riskmodel", "serve", "--port", str(port)],
        env={**env, "PYTHONPATH": str(source)},
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(f"http://127.0.0.1:{port}/readyz")
        url = f"http://127.0.0.1:{port}/v1/fhir/assessments?as_of={AS_OF}"
        headers = {"X-API-Key": KEY, "Content-Type": "application/fhir+json"}
        latency = []
        with httpx.Client(headers=headers, timeout=60) as client:
            for k in range(requests + 20):
                started = time.perf_counter()
                client.post(url, content=body).raise_for_status()
                if k >= 20:  # warm-up
                    latency.append((time.perf_counter() - started) * 1000)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"p50": _pct(latency, 0.5), "p99": _pct(latency, 0.99), "mean": round(statistics.mean(latency), 2)}


HERE = Path(__file__).resolve().parents[1]
"""This checkout, first on the server's path."""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--train-residents", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3, help="fresh interpreters per checkout, alternating")
    parser.add_argument("--source", type=Path, action="append", help="another checkout to compare (repeatable)")
    parser.add_argument("--no-loopback", action="store_true", help="only the in-process steps")
    args = parser.parse_args()
    sources = [HERE, *[s.resolve() for s in args.source or []]]
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        env = server_env(folder, KEY)
        config = load_config(environ=env)
        result = train_risk_model(read_residents(population(folder, args.train_residents, seed=9)).residents, config)
        model_dir = folder / "model"
        result.model.save(model_dir)
        document = one_patient_bundle(folder)
        body = json.dumps(document).encode()
        (folder / "bundle.json").write_bytes(body)
        steps: dict[Path, list[dict[str, float]]] = {s: [] for s in sources}
        for _ in range(args.rounds):
            for source in sources:
                steps[source].append(in_process(source, model_dir, folder / "bundle.json", max(20, args.requests // 5)))
        latency: dict[Path, dict[str, float]] = {}
        if not args.no_loopback:
            log_training(result, config, data_sources=["benchmark"])
            promote(config)
            for source in sources:
                latency[source] = loopback(source, folder, env, body, args.requests)
    runs = {}
    for source in sources:
        name = "this" if source == HERE else str(source)
        runs[name] = {
            "in_process_cpu_ms": {k: statistics.median(m[k] for m in steps[source]) for k in steps[source][0]},
            **({"loopback_ms": latency[source]} if source in latency else {}),
        }
    save(
        "fhir_api",
        {
            "one_patient_bundle": {"resources": len(document["entry"]), "bytes": len(body)},
            **runs,
            "requests": args.requests,
            "rounds": args.rounds,
            "targets": {"p50_ms": 10},
        },
    )


if __name__ == "__main__":
    main()
