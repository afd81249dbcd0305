"""The API's start-up cost (SPEC 10, issue 22): import time and resident memory of ``serving.app``, and which heavy
packages it pulls in (MLflow, matplotlib, shap, the training code).

Each measurement is a fresh interpreter (``python -X importtime`` style, timed from inside). ``--source DIR`` runs
it against another checkout of the code (e.g. a ``git worktree`` of an earlier commit), so that before and after
are measured side by side in one run.

    python -m benchmarks.startup --repeat 5 [--source ../before]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks.common import save

HEAVY = ("mlflow", "matplotlib", "shap", "training", "sklearn", "lightgbm", "pyspark")
CODE = """
import json, resource, sys, time
started = time.perf_counter()
import serving.app
seconds = time.perf_counter() - started
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_rss_mib": rss, "loaded": [m for m in HEAVY if m in sys.modules]}))
"""


def measure(source: Path, repeat: int) -> dict[str, object]:
    runs = []
    for _ in range(repeat):
        completed = subprocess.run(
            [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{CODE}"],
            cwd=source,
            check=True,
            capture_output=True,
            text=True,
        )
        runs.append(json.loads(completed.stdout.strip().splitlines()[-1]))
    return {
        "source": str(source),
        "import_seconds_median": round(statistics.median(r["seconds"] for r in runs), 3),
        "peak_rss_mib_median": round(statistics.median(r["peak_rss_mib"] for r in runs), 1),
        "heavy_modules_loaded": runs[-1]["loaded"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--source", type=Path, action="append", help="another checkout to compare (repeatable)")
    args = parser.parse_args()
    here = Path(__file__).resolve().parent.parent
    results = {"this": measure(here, args.repeat)}
    for source in args.source or []:  # alternate so that noise hits both alike
        results[str(source)] = measure(source.resolve(), args.repeat)
    save("startup", results)


if __name__ == "__main__":
    main()
