"""The bulk FHIR import of this checkout against another's (e.g. a ``git worktree`` of an earlier commit): both
import the same files, each in a fresh process, and the three output files (residents, events, rejected rows) are
compared byte for byte (else as tables), with the summaries (residents, events, rejected rows, counts per type).
A speed change to the import must keep them identical: every resource read is mapped, skipped or rejected as
before.
Usage: python -m benchmarks.fhir_import_same --source ../before FILE_OR_FOLDER... [--bucket-mib 48] [--workers 2]
       [--direct bundles|full] (the direct path, :func:`read_fhir`, instead of buckets)
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

CHILD = """
import datetime as dt, json, sys
from pathlib import Path
from riskmodel.interchange import read_fhir, write_import
from riskmodel.interchange.fhir_bulk import import_fhir
out, mode, bucket_mib, workers, *files = sys.argv[1:]
as_of = dt.date(2026, 7, 1)
if mode == "bulk":
    s = import_fhir(files, Path(out), as_of=as_of, workers=int(workers), bucket_bytes=int(float(bucket_mib) * 2**20))
else:
    s = write_import(read_fhir(files, as_of=as_of, validate=mode), Path(out), as_of=as_of)
print(json.dumps({"residents": s.residents, "events": s.events, "rejected": s.rejected, "counts": s.counts}))
"""
OUTPUTS = ("r.parquet", "r.events.parquet", "r.fhir.rejected.parquet")


def imported(checkout: Path, out: Path, files: list[str], mode: str, bucket_mib: float, workers: int) -> Any:
    path = os.pathsep.join(filter(None, [str(checkout), os.environ.get("PYTHONPATH")]))
    completed = subprocess.run(
        [sys.executable, "-c", CHILD, str(out), mode, str(bucket_mib), str(workers), *files],
        cwd=checkout,
        env={**os.environ, "PYTHONPATH": path},
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("inputs", type=Path, nargs="+", help="NDJSON files, or folders of them")
    parser.add_argument("--source", type=Path, required=True, help="the other checkout")
    parser.add_argument("--bucket-mib", type=float, default=48)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--direct", choices=["bundles", "full"], help="the direct path instead of buckets")
    args = parser.parse_args()
    files = sorted(str(f) for p in args.inputs for f in (p.iterdir() if p.is_dir() else [p]) if ".ndjson" in f.name)
    here = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as scratch:
        summaries = {}
        for name, checkout in (("this", here), ("other", args.source.resolve())):
            out = Path(scratch) / name / "r.parquet"
            summaries[name] = imported(checkout, out, files, args.direct or "bulk", args.bucket_mib, args.workers)
        same = summaries["this"] == summaries["other"]
        print("summaries", "identical" if same else f"differ: {summaries}")
        for output in OUTPUTS:
            a, b = Path(scratch) / "this" / output, Path(scratch) / "other" / output
            identical = filecmp.cmp(a, b, shallow=False)
            equal = identical or pq.read_table(a).equals(pq.read_table(b), check_metadata=True)
            same &= equal
            print(output, "bytes identical" if identical else "tables equal" if equal else "DIFFER")
    print("SAME" if same else "DIFFERENT")
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
