"""SPEC section 10 (version 3), issue 22: one resident's assessment in process, the path the API runs.

Times, for one resident a call, after warm-up, each stage of what ``POST /v1/assessments`` runs once the request
is parsed: ``serving.routes.assessments._assess`` (records -> JSON text: ``assess_records`` -> ``assess`` -> the
payload; also with ``explain``), ``assess_records`` alone and ``assess`` alone (columns in). Target: the
assessment itself <= 1 ms. Each stage reports wall-clock percentiles and the median CPU time of the calling
thread (``cpu_p50_us``), which a machine shared with other jobs inflates less than the wall clock.

The model is the one ``benchmarks/api.py`` serves (trained on 100,000 synthetic residents, seed 9), saved once
under ``--model-cache``; the residents are the API benchmark's records (the first one, as ``api.py`` sends, and
the first 100 in turn). Each measurement runs in a fresh interpreter with its working directory in a checkout:
``--source DIR`` (repeatable) measures another checkout (e.g. a ``git worktree`` of an earlier commit) in the same
run, alternating, so that the machine's noise hits both alike. ``--profile`` prints a cProfile of ``_assess``.

    python -m benchmarks.assess_one [--calls 3000] [--rounds 3] [--source ../before] [--profile]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.common import save

CODE = r"""
import cProfile, datetime as dt, io, json, pstats, sys, time
import numpy as np
from riskmodel.model.tier_model import RiskModel
from riskmodel.intake import assess_records
from riskmodel.records.reading import columns_from_values
from riskmodel.scoring import assess
from serving.models import AssessmentRequest
from serving.routes.assessments import _assess

model_dir, records_path, calls, profile = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
model = RiskModel.load(model_dir)
raw = json.loads(open(records_path, encoding="utf-8").read())
as_of = dt.date.fromisoformat(raw["as_of"])
records = [r.model_dump() for r in AssessmentRequest.model_validate({"records": raw["records"]}).records]


def timed(fn, args_list, n):
    for i in range(min(200, n)):
        fn(args_list[i % len(args_list)])
    out, cpu = [], []
    for i in range(n):
        a = args_list[i % len(args_list)]
        c = time.thread_time_ns()
        t = time.perf_counter_ns()
        fn(a)
        out.append((time.perf_counter_ns() - t) / 1000)
        cpu.append((time.thread_time_ns() - c) / 1000)
    out.sort()
    cpu.sort()
    return {"p50_us": round(out[len(out) // 2], 1), "p10_us": round(out[len(out) // 10], 1),
            "p90_us": round(out[int(0.9 * len(out))], 1), "mean_us": round(sum(out) / len(out), 1),
            "cpu_p50_us": round(cpu[len(cpu) // 2], 1)}


one = [[records[0]]]
each = [[r] for r in records]
handler = lambda recs: _assess(recs, model, as_of=as_of, explain=False, lang="zh")
intake = lambda recs: assess_records(recs, None, as_of=as_of, model=model, checked=True, num_threads=1)
columns_one = [columns_from_values(recs) for recs in one]
columns_each = [columns_from_values(recs) for recs in each]
scoring = lambda cols: assess(cols, model, as_of=as_of, num_threads=1)
result = {
    "handler_first_record": timed(handler, one, calls),
    "handler_100_records_in_turn": timed(handler, each, calls),
    "assess_records_first_record": timed(intake, one, calls),
    "assess_first_record": timed(scoring, columns_one, calls),
    "assess_100_records_in_turn": timed(scoring, columns_each, calls),
    "handler_explain_first_record": timed(
        lambda recs: _assess(recs, model, as_of=as_of, explain=True, lang="zh"), one, max(200, calls // 5)
    ),
}
if profile:
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(2000):
        handler(each[i % len(each)])
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(40)
    print(text.getvalue(), file=sys.stderr)
print(json.dumps(result))
"""


def prepare(folder: Path, model_cache: Path) -> tuple[Path, Path]:
    """The API benchmark's model (saved under ``model_cache`` once) and its records as JSON."""
    from benchmarks.api import _records
    from benchmarks.fixtures import AS_OF

    if not (model_cache / "riskmodel.json").exists():
        from benchmarks.fixtures import population
        from riskmodel.config import load_config
        from riskmodel.records.reading import read_residents
        from training.train import train_risk_model

        result = train_risk_model(read_residents(population(folder, 100_000, seed=9)).residents, load_config())
        result.model.save(model_cache)
    records_path = folder / "records.json"
    records_path.write_text(json.dumps({"as_of": str(AS_OF), "records": _records(folder, 100)}), encoding="utf-8")
    return model_cache, records_path


def measure(source: Path, model_dir: Path, records: Path, calls: int, profile: bool) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-c", CODE, str(model_dir), str(records), str(calls), "1" if profile else "0"],
        cwd=source,
        check=True,
        capture_output=True,
        text=True,
    )
    if profile:
        print(f"--- profile of {source}\n{completed.stderr}", file=sys.stderr)
    return json.loads(completed.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3, help="fresh interpreters per checkout, alternating")
    parser.add_argument("--source", type=Path, action="append", help="another checkout to compare (repeatable)")
    parser.add_argument("--model-cache", type=Path, default=Path(tempfile.gettempdir()) / "riskmodel-assess-one-model")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    here = Path(__file__).resolve().parent.parent
    sources = [here, *[s.resolve() for s in args.source or []]]
    with tempfile.TemporaryDirectory() as scratch:
        model_dir, records = prepare(Path(scratch), args.model_cache)
        runs: dict[Path, list[dict[str, Any]]] = {s: [] for s in sources}
        for round_ in range(args.rounds):
            for source in sources:
                runs[source].append(measure(source, model_dir, records, args.calls, args.profile and round_ == 0))
    results = {}
    for source, measured in runs.items():
        results["this" if source == here else str(source)] = {
            stage: {k: round(statistics.median(m[stage][k] for m in measured), 1) for k in measured[0][stage]}
            for stage in measured[0]
        }
    if len(sources) > 1:
        for source in sources[1:]:
            results[f"ratio_p50_this_to_{source}"] = {
                stage: round(results["this"][stage]["p50_us"] / results[str(source)][stage]["p50_us"], 3)
                for stage in results["this"]
            }
    save(
        "assess_one",
        {"calls": args.calls, "rounds": args.rounds, **results, "targets": {"assessment_in_process_us": 1000}},
    )


if __name__ == "__main__":
    main()
