"""SPEC section 10: the API on loopback. Single-resident POST /v1/assessments p50 <= 5 ms, p99 <= 20 ms;
requests/s for 1 and 100 records a request; the same model under ``mlflow models serve`` with the same load,
side by side in one run (target: >= 3 x its throughput).

Both servers run as separate processes with one worker on this machine; the load generator is bounded (a
fixed number of requests per measurement) and talks only to 127.0.0.1. Each ``riskmodel serve`` imports the
package of the checkout it measures (``PYTHONPATH``), not whatever the virtual environment's install points at;
``--source DIR`` (repeatable) serves another checkout (e.g. a ``git worktree`` of an earlier commit) beside this
one, on the same registered model, measured alternately with this one in each of ``--rounds`` rounds.
Usage: python -m benchmarks.api [--requests 2000] [--rounds 1] [--source ../before]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from benchmarks.common import save, server_env
from benchmarks.fixtures import AS_OF, population
from riskmodel.config import load_config
from riskmodel.records.reading import read_residents
from training.promote import promote
from training.tracking import log_training
from training.train import train_risk_model

KEY = "benchmark-key"


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, seconds: float = 120) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up")


def _records(folder: Path, n: int) -> list[dict[str, Any]]:
    """Synthetic residents as JSON-ready records (missing values left out, dates as ISO text)."""
    import pandas as pd

    frame = read_residents(population(folder, 2000, seed=4)).residents.head(n)
    out = []
    for record in frame.to_dict(orient="records"):
        clean = {}
        for key, value in record.items():
            if pd.api.types.is_scalar(value) and pd.isna(value):
                continue
            clean[key] = value.date().isoformat() if isinstance(value, pd.Timestamp) else value
        out.append(clean)
    return out


def _latencies(url: str, body: dict[str, Any], headers: dict[str, str], count: int) -> list[float]:
    with httpx.Client(headers=headers, timeout=30) as client:
        for _ in range(50):
            client.post(url, json=body).raise_for_status()
        times = []
        for _ in range(count):
            started = time.perf_counter()
            client.post(url, json=body).raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
    return times


def _throughput(url: str, body: dict[str, Any], headers: dict[str, str], count: int, connections: int = 4) -> float:
    per = count // connections
    errors: list[str] = []

    def worker() -> None:
        with httpx.Client(headers=headers, timeout=60) as client:
            for _ in range(per):
                response = client.post(url, json=body)
                if response.status_code != 200:
                    errors.append(response.text[:200])

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(errors[0])
    return per * connections / elapsed


def _bench_config(folder: Path) -> Path:
    """The default config with request rates (SPEC 16) high enough for the load: the benchmark measures the
    assessment, not the 429 that a real deployment's limit of 1,200 a minute per key would answer it with."""
    raw = yaml.safe_load((Path(__file__).resolve().parent.parent / "configs" / "default.yaml").read_text("utf-8"))
    raw["serving"]["limits"].update({"per_key_per_minute": 10**9, "per_address_per_minute": 10**9})
    path = folder / "benchmark.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _serve(source: Path, env: dict[str, str], folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    """``riskmodel serve`` on a free port with the package of ``source``."""
    port = _port()
    process = subprocess.Popen(
        [sys.executable, "-m", "riskmodel", "serve", "--port", str(port), "--config", str(_bench_config(folder))],
        env={**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(source), env.get("PYTHONPATH")]))},
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return process, port


def _ours(url: str, one: dict[str, Any], hundred: dict[str, Any], headers: dict[str, str], n: int) -> dict[str, Any]:
    latency = sorted(_latencies(url, one, headers, n))
    return {
        "latency": latency,
        "ours_1_record_rps": _throughput(url, one, headers, n),
        "ours_100_records_rps": _throughput(url, hundred, headers, max(100, n // 10)),
    }


def _pct(values: list[float], q: float) -> float:
    return round(values[min(len(values) - 1, int(q * len(values)))], 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=1, help="measurements of each riskmodel server, alternating")
    parser.add_argument("--source", type=Path, action="append", help="another checkout to serve (repeatable)")
    args = parser.parse_args()
    here = Path(__file__).resolve().parent.parent
    sources = {"this": here, **{str(s): s.resolve() for s in args.source or []}}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        env = server_env(  # mlflow models serve starts `uvicorn` by name: the venv's bin must be on PATH
            folder, KEY, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        )
        config = load_config(environ=env)
        result = train_risk_model(read_residents(population(folder, 100_000, seed=9)).residents, config)
        version = log_training(result, config, data_sources=["benchmark"])
        promote(config)
        records = _records(folder, 100)
        servers = {name: _serve(source, env, folder) for name, source in sources.items()}
        mlflow_port = _port()
        theirs = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mlflow",
                "models",
                "serve",
                "-m",
                f"models:/riskmodel/{version}",
                "--env-manager",
                "local",
                "--host",
                "127.0.0.1",
                "--port",
                str(mlflow_port),
            ],
            env=env,
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        measured: dict[str, list[dict[str, Any]]] = {name: [] for name in servers}
        try:
            for _, port in servers.values():
                _wait(f"http://127.0.0.1:{port}/readyz")
            _wait(f"http://127.0.0.1:{mlflow_port}/ping")
            theirs_url = f"http://127.0.0.1:{mlflow_port}/invocations"
            headers = {"X-API-Key": KEY}
            one, hundred = {"records": records[:1]}, {"records": records}
            mlflow_one, mlflow_hundred = {"dataframe_records": records[:1]}, {"dataframe_records": records}
            for _ in range(args.rounds):
                for name, (_, port) in servers.items():
                    url = f"http://127.0.0.1:{port}/v1/assessments?as_of={AS_OF}"
                    measured[name].append(_ours(url, one, hundred, headers, args.requests))
            mlflow_latency = sorted(_latencies(theirs_url, mlflow_one, {}, max(200, args.requests // 10)))
            mlflow_rates = {
                "mlflow_1_record_rps": _throughput(theirs_url, mlflow_one, {}, max(200, args.requests // 5)),
                "mlflow_100_records_rps": _throughput(theirs_url, mlflow_hundred, {}, max(40, args.requests // 40)),
            }
        finally:
            for process in [*(p for p, _ in servers.values()), theirs]:
                process.terminate()
                process.wait(timeout=30)

    def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
        latency = sorted(v for run in runs for v in run["latency"])
        rates = {k: statistics.median(run[k] for run in runs) for k in ("ours_1_record_rps", "ours_100_records_rps")}
        return {
            "single_resident_ms": {
                "p50": _pct(latency, 0.5),
                "p99": _pct(latency, 0.99),
                "mean": round(statistics.mean(latency), 2),
                "p50_per_round": [_pct(sorted(run["latency"]), 0.5) for run in runs],
            },
            **{k: round(v, 1) for k, v in rates.items()},
            "throughput_ratio_1_record": round(rates["ours_1_record_rps"] / mlflow_rates["mlflow_1_record_rps"], 2),
            "throughput_ratio_100_records": round(
                rates["ours_100_records_rps"] / mlflow_rates["mlflow_100_records_rps"], 2
            ),
        }

    this = summary(measured["this"])
    others = {name: summary(runs) for name, runs in measured.items() if name != "this"}
    save(
        "api",
        {
            **this,
            "mlflow_single_resident_ms": {"p50": _pct(mlflow_latency, 0.5), "p99": _pct(mlflow_latency, 0.99)},
            **{k: round(v, 1) for k, v in mlflow_rates.items()},
            "connections": 4,
            "rounds": args.rounds,
            **({"sources": others} if others else {}),
            **{
                f"this_vs_{name}": {
                    "p50_ratio": round(this["single_resident_ms"]["p50"] / other["single_resident_ms"]["p50"], 3),
                    "rps_1_record_ratio": round(this["ours_1_record_rps"] / other["ours_1_record_rps"], 3),
                }
                for name, other in others.items()
            },
            "targets": {"p50_ms": 2, "p99_ms": 20, "ratio": 20},
        },
    )


if __name__ == "__main__":
    main()
