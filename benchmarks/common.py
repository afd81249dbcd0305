"""Shared by the benchmark scripts: machine description, results files, peak memory of a child process."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "out"


def machine() -> dict[str, Any]:
    import psutil

    return {
        "date": dt.date.today().isoformat(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
    }


def save(name: str, result: dict[str, Any]) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **result}, indent=2, default=str), encoding="utf-8")
    print(json.dumps(result, indent=2, default=str))
    return path


def run_child(code: str, *args: str) -> dict[str, Any]:
    """Run Python code in a fresh process; returns the JSON it prints on its last line (which reports its own
    peak RSS through :data:`PEAK_RSS`)."""
    completed = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, text=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


PEAK_RSS = "import resource; peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024"


def server_env(folder: Path, key: str, **extra: str) -> dict[str, str]:
    """The environment of a benchmark's servers: scratch MLflow and result stores in ``folder``, and one API key
    for every team; ``extra`` adds or replaces variables."""
    tracking = f"sqlite:///{folder / 'mlflow.db'}"
    return {
        **os.environ,
        "RISKMODEL_TRACKING_URI": tracking,
        "RISKMODEL_STORE_URL": f"sqlite:///{folder / 's.db'}",
        "RISKMODEL_API_KEYS": json.dumps({hashlib.sha256(key.encode()).hexdigest(): ["*"]}),
        "MLFLOW_TRACKING_URI": tracking,
        **extra,
    }
