"""SPEC section 10 (version 3): ``POST /v1/fhir/assessments`` with one patient's Bundle (the Patient and its
Observations, Conditions, medicines, Encounters and referrals from a 3-year synthetic history) on loopback over a
kept-alive connection: p50 <= 10 ms. The same Bundle is also timed in process, split into its steps (the FHIR
mapping, the assessment, the answer; wall and CPU milliseconds), to show where the time goes.

The server runs as a separate process with one worker (``riskmodel serve``), as in ``benchmarks/api.py``.
Usage: python -m benchmarks.fhir_api [--requests 500] [--train-residents 20000]
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


def in_process(model: Any, document: dict[str, Any], count: int) -> dict[str, float]:
    """p50 of each step of the route's work, in this process (no HTTP)."""
    from riskmodel.intake import assess_records
    from riskmodel.interchange.fhir_in import read_fhir
    from riskmodel.interchange.fhir_out import assessment_resources, basis_observations, bundle
    from riskmodel.interchange.importing import text_table
    from riskmodel.records.local_connection import thread_connection
    from riskmodel.records.schema import COLUMN_NAMES, EVENT_COLUMN_NAMES
    from serving.routes.assessments import payload

    steps: dict[str, list[float]] = {"mapping": [], "assessment": [], "answer": []}
    cpu: dict[str, list[float]] = {"mapping": [], "assessment": [], "answer": []}
    for k in range(count + 5):
        started, cpu_started = time.perf_counter(), time.process_time()
        imported = read_fhir([], as_of=AS_OF, documents=[("request", document)], connection=thread_connection())
        mapped, cpu_mapped = time.perf_counter(), time.process_time()
        result = assess_records(
            text_table(imported.residents, COLUMN_NAMES),
            text_table(imported.events, EVENT_COLUMN_NAMES),
            as_of=AS_OF,
            model=model,
            num_threads=1,
        )
        assessed, cpu_assessed = time.perf_counter(), time.process_time()
        records = result.residents[["resident_id", "team_id"]].to_dict("records")  # type: ignore[index]
        items = payload(records, result.assessment, model, explain=True, lang="zh")  # type: ignore[arg-type]
        content = bundle(assessment_resources(items, as_of=AS_OF, lang="zh",
                                              basis=basis_observations(imported.observations, AS_OF)))  # fmt: skip
        json.dumps(content, ensure_ascii=False)
        done, cpu_done = time.perf_counter(), time.process_time()
        if k >= 5:  # warm-up
            steps["mapping"].append((mapped - started) * 1000)
            steps["assessment"].append((assessed - mapped) * 1000)
            steps["answer"].append((done - assessed) * 1000)
            cpu["mapping"].append((cpu_mapped - cpu_started) * 1000)
            cpu["assessment"].append((cpu_assessed - cpu_mapped) * 1000)
            cpu["answer"].append((cpu_done - cpu_assessed) * 1000)
    # CPU milliseconds too: the figure to read on a shared machine
    return {
        **{step: _pct(times, 0.5) for step, times in steps.items()},
        **{f"{step}_cpu": _pct(times, 0.5) for step, times in cpu.items()},
    }


HERE = Path(__file__).resolve().parents[1]
"""This checkout, first on the server's path."""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--train-residents", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        env = server_env(  # the server imports this checkout's package, whatever the venv's install points at
            folder,
            KEY,
            PYTHONPATH=os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
        )
        config = load_config(environ=env)
        result = train_risk_model(read_residents(population(folder, args.train_residents, seed=9)).residents, config)
        log_training(result, config, data_sources=["benchmark"])
        promote(config)
        document = one_patient_bundle(folder)
        body = json.dumps(document).encode()
        steps = in_process(result.model, document, max(20, args.requests // 10))
        port = _port()
        server = subprocess.Popen(
            [sys.executable, "-m", "riskmodel", "serve", "--port", str(port)],
            env=env,
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
                for k in range(args.requests + 20):
                    started = time.perf_counter()
                    client.post(url, content=body).raise_for_status()
                    if k >= 20:  # warm-up
                        latency.append((time.perf_counter() - started) * 1000)
        finally:
            server.terminate()
            server.wait(timeout=30)
    save(
        "fhir_api",
        {
            "one_patient_bundle": {"resources": len(document["entry"]), "bytes": len(body)},
            "loopback_ms": {
                "p50": _pct(latency, 0.5),
                "p99": _pct(latency, 0.99),
                "mean": round(statistics.mean(latency), 2),
            },  # fmt: skip
            "in_process_p50_ms": steps,
            "requests": args.requests,
            "targets": {"p50_ms": 10},
        },
    )


if __name__ == "__main__":
    main()
