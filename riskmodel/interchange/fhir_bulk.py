"""FHIR R4 in at county scale (SPEC 10, 14.2): bulk NDJSON imported in bounded memory.

The resources are read once by DuckDB (with a memory limit and a spill directory) and split by resident into
buckets of a bounded size: a Patient by its ``id``, every other resource by its ``subject`` reference, so that a
resident's Patient, Observations, Conditions, medicines, Encounters and referrals land in the same bucket. Each
bucket is then mapped by the one FHIR mapping (:mod:`riskmodel.interchange.fhir_mapping`, line by line) and validated
by SPEC 2's validators exactly as a small input is, in worker processes (one per core asked for); the buckets'
parts are joined into the output files, residents in the order of the input. Peak memory is that of a bucket
(times the workers), whatever the input's size.

A small input (under one bucket) takes the direct path (:func:`read_fhir` and :func:`write_import`).
"""

from __future__ import annotations

import datetime as dt
import gc
import math
import multiprocessing
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from riskmodel.exceptions import InputFileError
from riskmodel.interchange.fhir_in import NDJSON_SUFFIXES, MappedResources, assembled, check_encoding, read_fhir
from riskmodel.interchange.importing import (
    ImportSummary,
    checked_records,
    rejected_path,
    rejected_table,
    write_import,
)
from riskmodel.interchange.json_text import UTF8_REQUIRED
from riskmodel.interchange.settings import FhirSettings
from riskmodel.synth.population import events_path

BUCKET_BYTES = 48 * 2**20
"""NDJSON bytes per bucket (about 80,000 resources; a bucket's mapping peaks near 0.5 GiB)."""
MEMORY_LIMIT = "512MB"
"""DuckDB's memory limit while splitting, mapping a bucket and joining (it spills to the scratch directory beyond
it)."""
_NDJSON = (".ndjson", ".jsonl", ".ndjson.gz", ".jsonl.gz")
_LONG_NUMBER = r"[0-9]{19}"
"""A run of digits that may be an integer past 64 bits (orjson would read it as a float): such a line is parsed
by the standard library."""
_THRESHOLDS = (50_000, 20, 100)
"""The collector's thresholds while a bucket is mapped (Python's default: 700, 10, 10)."""


def import_fhir(
    paths: Sequence[str | Path],
    out: Path,
    *,
    as_of: dt.date,
    settings: FhirSettings | None = None,
    validate: str = "bundles",
    workers: int = min(2, os.cpu_count() or 1),
    bucket_bytes: int = BUCKET_BYTES,
    memory_limit: str = MEMORY_LIMIT,
    scratch: str | Path | None = None,
) -> ImportSummary:
    """Read Bundles and bulk NDJSON and write ``out`` with its events and rejected rows (as
    :func:`riskmodel.interchange.importing.write_import` writes them); memory bounded by the bucket size."""
    settings = settings or FhirSettings()
    files = [Path(p) for p in paths]
    for path in files:
        if not path.exists():
            raise InputFileError(f"{path}: no such file")
        check_encoding(path)  # DuckDB would read UTF-16 as lines of no JSON
    bulk = [p for p in files if p.name.lower().endswith(_NDJSON)]
    size = sum(p.stat().st_size for p in bulk)
    buckets = math.ceil(size / bucket_bytes)
    if buckets <= 1 or len(bulk) != len(files):  # small, or Bundles among the files: the direct path
        result = read_fhir(files, as_of=as_of, settings=settings, validate=validate)
        return write_import(result, out, as_of=as_of)
    folder = Path(tempfile.mkdtemp(prefix="riskmodel-fhir-", dir=scratch))
    try:
        _split(files, folder, buckets, memory_limit)
        jobs = [
            (folder, b, [str(p) for p in files], as_of, settings, validate)
            for b in range(buckets)
            if (folder / "lines" / f"bucket={b}").exists()
        ]
        if workers > 1 and len(jobs) > 1:
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
                parts = list(pool.map(_map_bucket, jobs))
        else:
            parts = [_map_bucket(job) for job in jobs]
        return _join(parts, folder, out, memory_limit)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _connect(folder: Path, memory_limit: str, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute(f"SET temp_directory = '{folder / 'spill'}'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con


def _split(files: Iterable[Path], folder: Path, buckets: int, memory_limit: str) -> None:
    """Every line of the files, with its file's rank and line number, into ``lines/bucket=<b>/`` by resident (a
    line with no resident, e.g. not JSON or a resource type without a subject, by its place: it is read alone).
    The three elements of the key are read from a line in one pass (one JSON parse besides the check)."""
    con = _connect(folder, memory_limit)
    try:
        selects = []
        params: list[Any] = []
        for rank, path in enumerate(files):
            selects.append(
                """
                SELECT ? AS rank, ? AS source, row_number() OVER () AS line, text
                  FROM read_csv(?, columns = {'text': 'VARCHAR'}, header = false, delim = '\x01', quote = '',
                                escape = '', auto_detect = false, strict_mode = false)
                """
            )
            params += [rank, str(path), str(path)]
        _copy_lines(con, selects, params, folder, buckets)
        _copy_owners(con, folder)
    finally:
        con.close()


def _copy_lines(
    con: duckdb.DuckDBPyConnection, selects: list[str], params: list[Any], folder: Path, buckets: int
) -> None:
    try:
        con.execute(
            f"""
            COPY (
                SELECT hash(coalesce(key, source || ':' || line)) % {buckets} AS bucket, rank, source, line, text
                  FROM (SELECT *, CASE WHEN read[1] = 'Patient' THEN read[2]
                                       ELSE regexp_extract(read[3], '([^/]*)$', 1) END AS key
                          FROM (SELECT *, CASE WHEN json_valid(text) THEN json_extract_string(
                                            text, ['$.resourceType', '$.id', '$.subject.reference']) END AS read
                                  FROM ({" UNION ALL ".join(selects)})))
            ) TO '{folder / "lines"}' (FORMAT parquet, PARTITION_BY (bucket))
            """,
            params,
        )
    except duckdb.InvalidInputException as error:
        raise _unreadable(error) from None  # its message shows the line: a resident's values


_LINKS = (("$.encounter.reference", "Encounter"), ("$.context.reference", "Encounter"),
          ("$.reasonReference[0].reference", "Condition"), ("$.basedOn[0].reference", "ServiceRequest"))  # fmt: skip
"""The references the assembly follows (:mod:`riskmodel.interchange.fhir_links`) and the type each names."""


def _copy_owners(con: duckdb.DuckDBPyConnection, folder: Path) -> None:
    """Into ``owners/bucket=<b>/``: the owner of each Encounter, Condition and ServiceRequest of another Patient that
    a line of bucket ``b`` names (wherever it lies), so that a bucket rejects a link to another Patient's resource as
    the direct import does; the resources a line's own Patient has, its bucket holds."""
    paths = ["$.resourceType", "$.id", "$.subject.reference", *(path for path, _ in _LINKS)]
    named = " UNION ALL ".join(
        f"SELECT bucket, owner AS subject, '{kind}' AS kind,"
        f" regexp_extract(v[{k}], '^(?:.*/)?{kind}/([^/]+)$', 1) AS id FROM parsed"
        for k, (_, kind) in enumerate(_LINKS, start=4)
    )
    con.execute(
        f"""
        COPY (
            WITH parsed AS (
                SELECT bucket, v, regexp_extract(v[3], '^(?:.*/)?Patient/([^/]+)$', 1) AS owner
                  FROM (SELECT bucket, json_extract_string(text, {paths!r}) AS v
                          FROM read_parquet(?, hive_partitioning = true) WHERE json_valid(text))),
            targets AS (
                SELECT DISTINCT v[1] AS kind, v[2] AS id, owner
                  FROM parsed WHERE v[1] IN ('Encounter', 'Condition', 'ServiceRequest') AND v[2] IS NOT NULL),
            named AS (SELECT DISTINCT * FROM ({named}) WHERE id <> '')
            SELECT named.bucket, targets.kind, targets.id, targets.owner
              FROM named JOIN targets ON named.kind = targets.kind AND named.id = targets.id
             WHERE targets.owner <> '' AND targets.owner IS DISTINCT FROM named.subject
        ) TO '{folder / "owners"}' (FORMAT parquet, PARTITION_BY (bucket))
        """,
        [str(folder / "lines" / "*" / "*.parquet")],
    )


def _owners(folder: Path, bucket: int) -> dict[tuple[str, str], set[str]]:
    """The owners of the resources bucket ``b``'s links name (:func:`_copy_owners`)."""
    place = folder / "owners" / f"bucket={bucket}"
    owners: dict[tuple[str, str], set[str]] = {}
    if place.exists():
        table = pq.read_table(place).select(["kind", "id", "owner"]).to_pylist()
        for row in table:
            owners.setdefault((row["kind"], row["id"]), set()).add(row["owner"])
    return owners


def _unreadable(error: duckdb.Error) -> InputFileError:
    """DuckDB's refusal of a file as one line naming the file and the fix, never the line it quotes."""
    message = str(error)
    found = re.search(r"^\s*file = (.+)$", message, re.MULTILINE)
    where = found.group(1).strip() if found else "an NDJSON file"
    if "Invalid unicode" in message:
        return InputFileError(f"{where}: not UTF-8 text: {UTF8_REQUIRED}; save it as UTF-8")
    return InputFileError(f"{where}: not a readable NDJSON file (DuckDB: {type(error).__name__})")


def _map_bucket(job: tuple[Path, int, list[str], dt.date, FhirSettings, str]) -> dict[str, Any]:
    """Map and validate one bucket; its residents (with their place in the input), events and rejected rows go
    to ``parts/``."""
    folder, bucket, sources, as_of, settings, validate = job
    with _few_collections():
        mapped = _mapped_lines(
            folder / "lines" / f"bucket={bucket}", as_of, settings, validate, _owners(folder, bucket)
        )
        records = assembled(mapped)
        residents, events, all_rejected = checked_records(records, as_of=as_of)
    rank = {source: k for k, source in enumerate(sources)}
    at = residents.index.to_numpy() - 1  # the validator's 1-based row numbers, in the mapping's order
    origin = [records.residents[k] for k in at]
    residents = residents.reset_index(drop=True)
    table = pa.Table.from_pandas(residents, preserve_index=False)
    table = table.append_column("_rank", pa.array([rank[row["_source"]] for row in origin], pa.int64()))
    table = table.append_column("_line", pa.array([row["_line"] for row in origin], pa.int64()))
    parts = folder / "parts"
    parts.mkdir(exist_ok=True)
    pq.write_table(table, parts / f"residents-{bucket}.parquet")
    pq.write_table(events, parts / f"events-{bucket}.parquet")
    pq.write_table(rejected_table(all_rejected), parts / f"rejected-{bucket}.parquet")
    return {
        "bucket": bucket,
        "counts": records.counts,
        "residents": len(residents),
        "events": events.num_rows,
        "rejected": len(all_rejected),
    }


def _mapped_lines(
    path: Path, as_of: dt.date, settings: FhirSettings, validate: str, owners: dict[tuple[str, str], set[str]]
) -> MappedResources:
    """A bucket's lines mapped in the order of the input (file, then line). A line without a run of 19 digits
    is parsed by orjson (:func:`riskmodel.interchange.fhir_in.decoded`); the runs are found for the whole
    bucket at once."""
    lines = pq.read_table(path).sort_by([("rank", "ascending"), ("line", "ascending")])
    texts = lines.column("text")
    plain = pc.invert(pc.match_substring_regex(texts, _LONG_NUMBER)).to_pylist()
    checked: dict[str, bool] = {}
    mapped = MappedResources(as_of=as_of, settings=settings, owners=owners)
    for source, line, line_text, is_plain in zip(
        lines.column("source").to_pylist(), lines.column("line").to_pylist(), texts.to_pylist(), plain, strict=True
    ):  # fmt: skip
        check = checked.get(source)
        if check is None:
            check = checked[source] = validate == "full" or not source.lower().endswith(NDJSON_SUFFIXES)
        mapped.add_line(line_text, source, line, check=check, plain=bool(is_plain))
    return mapped


@contextmanager
def _few_collections() -> Iterator[None]:
    """The cyclic garbage collector seldom while a bucket is mapped: the mapping makes millions of short-lived
    objects (freed as they go, by their counts) and keeps the records it made, which the default thresholds
    scanned again and again (about a tenth of the mapping's time). What was there before (the imported modules)
    is frozen: never scanned."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _unified(files: list[Path]) -> pa.Schema:
    """One schema for the buckets' parts (a column with no value in a bucket takes the others' type)."""
    schemas = [pq.read_schema(f) for f in files]
    unified = pa.unify_schemas([s.remove_metadata() for s in schemas], promote_options="permissive")
    return unified.with_metadata(schemas[0].metadata)


def _concat(files: list[Path], out: Path, drop: tuple[str, ...] = ()) -> None:
    schema = _unified(files)
    schema = pa.schema([f for f in schema if f.name not in drop], metadata=schema.metadata)
    with pq.ParquetWriter(out, schema) as writer:
        for path in files:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=65_536):
                table = pa.Table.from_batches([batch])
                writer.write_table(_cast(table, schema))


def _cast(table: pa.Table, schema: pa.Schema) -> pa.Table:
    columns = [
        table.column(f.name).cast(f.type) if f.name in table.column_names else pa.nulls(table.num_rows, f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def _join(parts: list[dict[str, Any]], folder: Path, out: Path, memory_limit: str) -> ImportSummary:
    """The buckets' parts as the output files: residents in the order of the input, events and rejected rows
    bucket by bucket; the counts summed."""
    parts = sorted(parts, key=lambda p: p["bucket"])
    where = folder / "parts"
    out.parent.mkdir(parents=True, exist_ok=True)
    residents = [where / f"residents-{p['bucket']}.parquet" for p in parts]
    schema = _unified(residents)
    target = pa.schema([f for f in schema if f.name not in ("_rank", "_line")], metadata=schema.metadata)
    con = _connect(folder, memory_limit)
    try:
        reader = con.sql(
            "SELECT * EXCLUDE (_rank, _line) FROM read_parquet(?, union_by_name = true) ORDER BY _rank, _line",
            params=[[str(p) for p in residents]],
        ).fetch_record_batch(65_536)
        with pq.ParquetWriter(out, target) as writer:
            for batch in reader:
                writer.write_table(_cast(pa.Table.from_batches([batch]), target))
    finally:
        con.close()
    _concat([where / f"events-{p['bucket']}.parquet" for p in parts], events_path(out))
    _concat([where / f"rejected-{p['bucket']}.parquet" for p in parts], rejected_path(out, "fhir"))
    counts: dict[str, dict[str, int]] = {}
    for part in parts:
        for kind, entry in part["counts"].items():
            total = counts.setdefault(kind, {"in": 0, "used": 0, "skipped": 0, "rejected": 0})
            for what, n in entry.items():
                total[what] += n
    return ImportSummary(
        sum(p["residents"] for p in parts),
        sum(p["events"] for p in parts),
        sum(p["rejected"] for p in parts),
        dict(sorted(counts.items())),
    )
