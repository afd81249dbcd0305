"""SPEC section 10 (version 3): FHIR import, 1 M residents with 5 M observations from bulk NDJSON <= 5 min on 2 cores,
memory flat from 1 M to 5 M.

For each size N: a synthetic population of N residents without histories (each with about 5 Observations: BP
panel, glucose, body measures, lipids, smoking, as their records hold them) is exported as bulk NDJSON (one
file per resource type, :func:`riskmodel.interchange.write_ndjson`), then the CLI's import
(:func:`riskmodel.interchange.fhir_bulk.import_fhir`: buckets of bounded size, ``--workers`` processes) runs in a
fresh process that reports its wall and CPU seconds (user + system of it and its workers: the figure to read on a
shared machine), its own peak RSS and its largest worker's; ``peak_rss_bound_mib`` (own + workers x largest
worker) bounds what the import held at once. Flat memory: the peaks stay the same from the smaller to the larger
size.
``--data DIR`` keeps each size's NDJSON in ``DIR/<size>`` and re-uses it on the next run (exporting 1 M residents
takes minutes; the import is what is timed). ``--source DIR`` (repeatable) imports the same files with another
checkout too (e.g. a ``git worktree`` of an earlier commit), ``--rounds`` times each, alternating, so that both
see the same machine; each run gives the load average at its start and end (the machine is shared).
Usage: python -m benchmarks.fhir_import [--sizes 100000 200000] [--history-years 0] [--workers 2] [--data DIR]
       [--source ../before] [--rounds 1]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from benchmarks.common import PEAK_RSS, save
from benchmarks.fixtures import AS_OF
from riskmodel.interchange import population_resources, write_ndjson
from riskmodel.interchange.settings import FhirSettings
from riskmodel.synth import write_population
from riskmodel.synth.population import events_path

IMPORT_CHILD = (
    """
import json, os, sys, time, datetime as dt
from pathlib import Path
from riskmodel.interchange.fhir_bulk import import_fhir
folder, out, workers = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
load_before = os.getloadavg()[0]
started = time.perf_counter()
summary = import_fhir(sorted(folder.glob("*.ndjson")), out, as_of=dt.date(2026, 7, 1), workers=workers)
seconds = time.perf_counter() - started
import resource
usage = resource.getrusage(resource.RUSAGE_SELF)
children = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu_seconds = usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime
"""
    + PEAK_RSS
    + """
worker_rss_mib = children.ru_maxrss / 1024
print(json.dumps({"residents": summary.residents, "events": summary.events, "rejected": summary.rejected,
                  "seconds": round(seconds, 1), "cpu_seconds": round(cpu_seconds, 1), "workers": workers,
                  "peak_rss_mib": round(peak_rss_mib, 1), "worker_peak_rss_mib": round(worker_rss_mib, 1),
                  "peak_rss_bound_mib": round(peak_rss_mib + workers * worker_rss_mib, 1),
                  "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)]}))
"""
)


def export(folder: Path, residents: int, history_years: int) -> dict[str, object]:
    """The synthetic population as bulk NDJSON in ``folder``; counts of resources per type (kept in
    ``folder/made.json``: a folder that already holds them is re-used as it is)."""
    made_path = folder / "made.json"
    if made_path.exists():
        return dict(json.loads(made_path.read_text()))
    synth = folder / "synth.parquet"
    write_population(synth, residents, teams=-(-residents // 1200), seed=5, as_of=AS_OF, history_years=history_years)
    frame = pq.read_table(synth).to_pandas()
    events = pq.read_table(events_path(synth)).to_pandas() if history_years else None
    started = time.perf_counter()
    files = write_ndjson(population_resources(frame, events, AS_OF, FhirSettings()), folder / "ndjson")
    seconds = time.perf_counter() - started
    counts = {}
    for path in files:
        with open(path, "rb") as handle:
            counts[path.stem] = sum(1 for _ in handle)
    size = sum(p.stat().st_size for p in files)
    synth.unlink()
    made = {"export_seconds": round(seconds, 1), "resources": counts, "ndjson_mib": round(size / 2**20, 1)}
    made_path.write_text(json.dumps(made))
    return made


def measure(checkout: Path, folder: Path, out: Path, workers: int) -> dict[str, Any]:
    """The import of ``folder`` by the code of ``checkout``, in a fresh process."""
    path = os.pathsep.join(filter(None, [str(checkout), os.environ.get("PYTHONPATH")]))
    completed = subprocess.run(
        [sys.executable, "-c", IMPORT_CHILD, str(folder), str(out), str(workers)],
        cwd=checkout,
        env={**os.environ, "PYTHONPATH": path},
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000, 200_000])
    parser.add_argument("--history-years", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data", type=Path, help="keep (and re-use) each size's NDJSON in DATA/<size>")
    parser.add_argument("--source", type=Path, action="append", help="another checkout to compare (repeatable)")
    parser.add_argument("--rounds", type=int, default=1, help="imports per checkout and size, alternating")
    args = parser.parse_args()
    here = Path(__file__).resolve().parent.parent
    checkouts = [here, *[s.resolve() for s in args.source or []]]
    runs = []
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch)
            if args.data:
                folder = args.data / f"{n}-{args.history_years}y"
                folder.mkdir(parents=True, exist_ok=True)
            made = export(folder, n, args.history_years)
            for _ in range(args.rounds):
                for checkout in checkouts:
                    measured = measure(checkout, folder / "ndjson", Path(scratch) / "imported.parquet", args.workers)
                    runs.append(_run(made, measured, "this" if checkout == here else str(checkout)))
                    print(runs[-1], flush=True)
    target = {"residents": 1_000_000, "observations": 5_000_000, "seconds": 300, "cores": 2}
    save("fhir_import", {"target": target, "runs": runs})


def _run(made: dict[str, Any], measured: dict[str, Any], checkout: str) -> dict[str, Any]:
    observations = made["resources"].get("Observation", 0)
    return {
        "checkout": checkout,
        **made,
        **measured,
        "resources_per_s": round(sum(made["resources"].values()) / measured["seconds"]),
        "observations": observations,
        # what 5 M observations would take at the rate measured (CPU seconds per observation)
        "cpu_seconds_at_5m_observations": round(measured["cpu_seconds"] * 5_000_000 / max(1, observations)),
    }


if __name__ == "__main__":
    main()
