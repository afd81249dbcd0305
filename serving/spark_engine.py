"""The Spark engine of batch scoring (``riskmodel score --engine spark``): the same scoring path, on Spark.

Spark glue only: reading, row numbering and cross-partition duplicate marking happen in Spark; residents and
their events meet by resident (``cogroup`` on a hash bucket of ``resident_id``, so a resident's events are
always in the resident's group), and each group is validated, derived (:mod:`riskmodel.records.derivation`)
and scored by :func:`riskmodel.scoring.assess` on the workers, the model shipped once as a broadcast and
loaded once per worker process. The driver streams the result, in input order, into the single output file,
the rejected-rows files and the store, exactly as the local engine writes them, and publishes the batch's
indicators the same way.

Submitting to an existing cluster: ``riskmodel score --engine spark --spark-master spark://HOST:7077 …`` from a
machine where the driver can be reached by the workers, with riskmodel installed in the same Python on every
worker (``PYSPARK_PYTHON``).
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from riskmodel.batch import BatchOutputs, BatchSummary, _output_frame, check_output, output_schema, publish_history
from riskmodel.config import RiskConfig
from riskmodel.exceptions import InputFileError
from riskmodel.indicators.compute import resident_table
from riskmodel.intake import assess_records
from riskmodel.model.tier_model import RiskModel
from riskmodel.monitoring.batch import BatchMonitor
from riskmodel.records.event_files import BatchEvents
from riskmodel.records.events import EVENT_ARROW_SCHEMA, check_event_columns, validate_events
from riskmodel.records.history import STATE_DATE_COLUMNS, STATE_NUMBER_COLUMNS
from riskmodel.records.reading import file_columns, input_format, resident_columns
from riskmodel.records.schema import COLUMN_NAMES, OUTPUT_COLUMNS, RESIDENT_COLUMNS
from riskmodel.records.validation import check_required_columns
from riskmodel.scoring import assess_rules, with_outputs
from riskmodel.store.batches import ResultStore, stored_probabilities, stored_state
from serving.spark_parts import (
    BUCKET,
    DUPLICATE,
    ERRORS,
    EVENT_FIELDS,
    EVENT_REJECTED,
    EVENT_USED,
    KIND,
    RAW,
    REJECTED,
    REJECTED_EVENTS,
    RESIDENT,
    RESIDENT_ROWS,
    ROW,
    USED_EVENT_COUNT,
    USED_EVENTS,
    parts_view,
)

BUCKETS = 64
"""Residents and events are grouped by a hash of resident_id into this many groups."""
STATE_FIELDS = [pa.field(f"state_{n}", pa.float64()) for n in STATE_NUMBER_COLUMNS] + [
    pa.field(f"state_{n}", pa.date32()) for n in STATE_DATE_COLUMNS
]
_MODELS: dict[int, RiskModel] = {}


def _model_files(model: RiskModel) -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as folder:
        saved = model.save(Path(folder) / "model")
        return {path.name: path.read_bytes() for path in saved.iterdir()}


def _worker_model(broadcast: Any, version: str) -> RiskModel:
    """Load the broadcast model once per worker process."""
    key = broadcast.id if hasattr(broadcast, "id") else id(broadcast)
    if key not in _MODELS:
        folder = Path(tempfile.mkdtemp(prefix="riskmodel-model-"))
        for name, content in broadcast.value.items():
            (folder / name).write_bytes(content)
        _MODELS[key] = RiskModel.load(folder, version=version)
    return _MODELS[key]


def _result_schema(extras: list[str]) -> pa.Schema:
    return pa.schema(
        [
            *output_schema(extras),
            *STATE_FIELDS,
            *EVENT_FIELDS,
            pa.field(KIND, pa.string()),
            pa.field(ROW, pa.int64()),
            pa.field(REJECTED, pa.bool_()),
            pa.field(ERRORS, pa.string()),
            pa.field(RAW, pa.string()),
        ]
    )


def _rejected_rows(rejected: pd.DataFrame, schema: pa.Schema, kind: str) -> pa.Table:
    values = rejected.drop(columns=["row_number", "errors"])
    frame = pd.DataFrame({name: pd.Series([None] * len(rejected), dtype=object) for name in schema.names})
    frame[KIND] = kind
    frame[ROW] = rejected["row_number"].to_numpy()
    frame[REJECTED] = True
    frame[ERRORS] = rejected["errors"].to_numpy()
    frame[RAW] = [
        json.dumps(record, ensure_ascii=False, default=str)
        for record in values.astype(object).where(values.notna(), None).to_dict(orient="records")
    ]
    return pa.Table.from_pandas(frame, schema=schema, preserve_index=False, safe=False)


def _score_group(
    residents: pa.Table,
    events: pa.Table | None,
    *,
    model: RiskModel,
    config: RiskConfig,
    as_of: dt.date,
    extras: list[str],
) -> list[pa.Table]:
    """One group of residents (and their events): the result rows of SPEC 7, rejected rows, and the events."""
    schema = _result_schema(extras)
    parts: list[pa.Table] = []
    rows = residents.column(ROW).to_numpy()
    duplicates = residents.column(DUPLICATE).to_numpy(zero_copy_only=False).astype(bool)
    raw = residents.drop_columns([c for c in (ROW, DUPLICATE, BUCKET) if c in residents.column_names])
    raw_events = None
    if events is not None and events.num_rows:
        raw_events = events.drop_columns([c for c in (ROW, BUCKET) if c in events.column_names])
    result = assess_records(
        raw,
        raw_events,
        as_of=as_of,
        model=model,
        config=config,
        row_numbers=rows,
        known_duplicates=duplicates,
        event_row_numbers=events.column(ROW).to_numpy() if raw_events is not None else None,
    )
    if len(result.rejected_events):
        parts.append(_rejected_rows(result.rejected_events, schema, EVENT_REJECTED))
    valid_events = result.events
    if valid_events.num_rows:
        frame = {f"ev_{name}": valid_events.column(name) for name in EVENT_ARROW_SCHEMA.names}
        table = pa.table(
            {name: frame.get(name, pa.nulls(valid_events.num_rows, schema.field(name).type)) for name in schema.names},
            schema=schema,
        )
        kind = pa.array([EVENT_USED] * valid_events.num_rows)
        parts.append(table.set_column(schema.get_field_index(KIND), KIND, kind))
    if result.assessment is not None and result.residents is not None:
        scored = with_outputs(result.residents, result.assessment)
        frame = _output_frame(scored, schema)
        frame[KIND] = RESIDENT
        frame[ROW] = scored.index.to_numpy()
        frame[REJECTED] = False
        parts.append(pa.Table.from_pandas(frame, schema=schema, preserve_index=False, safe=False))
    if len(result.rejected):
        parts.append(_rejected_rows(result.rejected, schema, RESIDENT))
    return parts


def _session(master: str) -> Any:
    import os
    import sys

    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise InputFileError("--engine spark needs PySpark: pip install 'riskmodel[spark]'") from exc

    # Workers must run the interpreter that has riskmodel installed; a cluster sets PYSPARK_PYTHON itself.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder
    if master.startswith(("local", "spark://127.", "spark://localhost")):  # keep a loopback run on loopback
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = builder.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
    return (
        builder.master(master)
        .appName("riskmodel-score")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "20000")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "8")
        .getOrCreate()
    )


def _numbered(frame: Any) -> Any:
    """Add 1-based input row numbers without leaving the JVM.

    ``monotonically_increasing_id`` is the partition index shifted left by 33 bits plus the row's position in
    its partition; a file's partitions are read in order, so the row number is the count of rows in earlier
    partitions plus that position plus one.
    """
    from pyspark.sql import functions as F

    tagged = frame.withColumn("_partition", F.spark_partition_id()).withColumn("_id", F.monotonically_increasing_id())
    counts = dict(sorted((row["_partition"], row["count"]) for row in tagged.groupBy("_partition").count().collect()))
    offsets, total = [], 0
    for partition, count in counts.items():
        offsets += [F.lit(partition), F.lit(total)]
        total += count
    before = F.create_map(*offsets)[F.col("_partition")] if offsets else F.lit(0)
    position = F.col("_id") - F.shiftleft(F.col("_partition").cast("long"), 33)
    return tagged.withColumn(ROW, before + position + 1).drop("_partition", "_id")


def _files(path: Path) -> list[Path]:
    """A file, or the Parquet / CSV files of a partitioned dataset folder (sorted by name)."""
    if not path.is_dir():
        return [path]
    found = sorted(p for p in path.rglob("*") if p.suffix.lower() in {".parquet", ".csv"})
    if not found:
        raise InputFileError(f"{path}: the folder holds no .parquet or .csv files")
    return found


def _read(spark: Any, path: Path, columns: list[str]) -> Any:
    from pyspark.sql import functions as F

    first = _files(path)[0]
    if input_format(first) == "csv":
        frame = (
            spark.read.option("header", True)
            .option("inferSchema", False)
            .option("encoding", "UTF-8")
            .option("multiLine", False)
            .csv(str(path))
        )
    else:
        frame = spark.read.parquet(str(path))
        frame = frame.select([F.col(name).cast("string").alias(name) for name in frame.columns])
    return frame.select(columns)


def score_file_spark(
    input_path: str | Path,
    output_path: str | Path,
    model: RiskModel,
    *,
    config: RiskConfig,
    as_of: dt.date,
    store: ResultStore | None = None,
    master: str = "local[2]",
    events_path: str | Path | None = None,
    allow_rejected: bool = False,
    wait: float = 0.0,
) -> BatchSummary:
    """Score a file (or a partitioned dataset folder) on Spark, with its events; the output, the rejected rows
    and the store batch equal the local engine's."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    input_path, output_path = Path(input_path), Path(output_path)
    columns = file_columns(_files(input_path)[0])
    check_required_columns(columns, str(input_path))
    event_columns = None
    if events_path is not None:
        events_path = Path(events_path)
        event_columns = file_columns(_files(events_path)[0])
        check_event_columns(event_columns, str(events_path))
    check_output(output_path)  # before Spark starts
    known = set(COLUMN_NAMES)
    extras = [name for name in columns if name not in known and name not in OUTPUT_COLUMNS]
    spark = _session(master)
    numbered = _numbered(_read(spark, input_path, columns))
    first = F.row_number().over(Window.partitionBy("resident_id").orderBy(ROW))
    marked = numbered.withColumn(DUPLICATE, F.col("resident_id").isNotNull() & (first > 1))
    marked = marked.withColumn(BUCKET, F.pmod(F.hash("resident_id"), F.lit(BUCKETS)))
    broadcast = spark.sparkContext.broadcast(_model_files(model))
    version = model.version
    schema = _result_schema(extras)

    if events_path is None:

        def score(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            model_here = _worker_model(broadcast, version)
            for batch in batches:
                for part in _score_group(
                    pa.Table.from_batches([batch]), None, model=model_here, config=config, as_of=as_of, extras=extras
                ):
                    yield from part.to_batches()

        result = marked.drop(BUCKET).mapInArrow(score, from_arrow_schema(schema))
    else:
        events = _numbered(_read(spark, events_path, event_columns or []))
        events = events.withColumn(BUCKET, F.pmod(F.hash("resident_id"), F.lit(BUCKETS)))

        def score_with_events(residents: pa.Table, history: pa.Table) -> pa.Table:
            if residents.num_rows:
                model_here = _worker_model(broadcast, version)
                parts = _score_group(residents, history, model=model_here, config=config, as_of=as_of, extras=extras)
            else:
                parts = _orphans(history, schema, as_of)
            return pa.concat_tables(parts) if parts else schema.empty_table()

        result = (
            marked.groupBy(BUCKET)
            .cogroup(events.groupBy(BUCKET))
            .applyInArrow(score_with_events, from_arrow_schema(schema))
        )
    with tempfile.TemporaryDirectory(prefix="riskmodel-spark-", dir=output_path.parent) as scratch:
        parts = Path(scratch) / "parts"
        result.write.parquet(str(parts))
        return _write_outputs(
            parts,
            output_path,
            columns,
            event_columns,
            model,
            as_of=as_of,
            store=store,
            source=str(input_path),
            config=config,
            allow_rejected=allow_rejected,
            wait=wait,
        )


def _orphans(events: pa.Table, schema: pa.Schema, as_of: dt.date) -> list[pa.Table]:
    """Events of a group without any resident: every one is rejected as unknown (validated first)."""
    if not events.num_rows:
        return []
    checked = validate_events(
        events.drop_columns([c for c in (ROW, BUCKET) if c in events.column_names]),
        as_of=as_of,
        row_numbers=events.column(ROW).to_numpy(),
        known_residents=lambda ids: np.zeros(len(ids), dtype=bool),
    )
    return [_rejected_rows(checked.rejected, schema, EVENT_REJECTED)] if len(checked.rejected) else []


def _write_outputs(
    parts: Path,
    output_path: Path,
    columns: list[str],
    event_columns: list[str] | None,
    model: RiskModel,
    *,
    as_of: dt.date,
    store: ResultStore | None,
    source: str,
    config: RiskConfig,
    allow_rejected: bool,
    wait: float,
) -> BatchSummary:
    """The driver's part: Spark's result, in input order (DuckDB over the part files, spilling to disk), into
    the outputs and the store; the batch's indicators from the same rows and events."""
    con = duckdb.connect()
    con.execute(parts_view(f"{parts}/*.parquet"))
    history = BatchEvents(as_of=as_of, config=config, scratch=output_path.parent) if store is not None else None
    monitor = BatchMonitor(model, config)
    try:
        with BatchOutputs(
            output_path,
            input_columns=columns,
            model=model,
            as_of=as_of,
            store=store,
            source=source,
            event_columns=event_columns,
            max_rejected_share=config.batch.max_rejected_share,
            allow_rejected=allow_rejected,
            wait=wait,
        ) as outputs:
            if event_columns is not None:
                rejected = con.sql(REJECTED_EVENTS)
                for batch in rejected.fetch_record_batch(100_000):
                    frame = batch.to_pandas()
                    events_rejected = pd.DataFrame([json.loads(t) for t in frame[RAW]], columns=event_columns)
                    events_rejected.insert(0, "errors", frame[ERRORS].to_numpy())
                    events_rejected.insert(0, "row_number", frame[ROW].to_numpy())
                    outputs.write_rejected_events(events_rejected)
                    outputs.summary.events_rejected += len(frame)
                used = con.execute(USED_EVENT_COUNT).fetchall()
                outputs.summary.events_used = int(used[0][0])
                outputs.summary.events_read = outputs.summary.events_used + outputs.summary.events_rejected
            ordered = con.sql(RESIDENT_ROWS)
            for batch in ordered.fetch_record_batch(50_000):
                scored, rejected_rows = _split(batch.to_pandas(), columns)
                outputs.write(scored, rejected_rows)
                if history is not None and len(scored):
                    assessment = _rules_assessment(scored, config, as_of)
                    history.add_scored(resident_table(scored, assessment.columns, assessment))
                    monitor.add(assessment)
            if history is not None and store is not None and outputs.batch_id is not None and outputs.refusal() is None:
                if event_columns is not None:
                    used_events = con.sql(USED_EVENTS).to_arrow_table()
                    history.add_events(used_events)
                publish_history(history, store, outputs.batch_id)
                report = monitor.report()
                if report is not None and store is not None:
                    store.write_monitoring(outputs.batch_id, report)
                    outputs.summary.monitoring = report
    finally:
        con.close()
        if history is not None:
            history.close()
    return outputs.summary


def _rules_assessment(scored: pd.DataFrame, config: RiskConfig, as_of: dt.date) -> Any:
    """The rules over Spark's scored rows (their stored probabilities and state), for indicators and monitoring."""
    return assess_rules(
        resident_columns(scored), stored_probabilities(scored), as_of=as_of, config=config, state=stored_state(scored)
    )


def _split(frame: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Spark's ordered rows as (scored, rejected) frames."""
    flags = frame[REJECTED].astype(bool)
    scored = _typed(frame[~flags].drop(columns=[REJECTED, ERRORS, RAW, KIND]))
    rejected = pd.DataFrame([json.loads(text) for text in frame.loc[flags, RAW]], columns=columns)
    rejected.insert(0, "errors", frame.loc[flags, ERRORS].to_numpy())
    rejected.insert(0, "row_number", frame.loc[flags, ROW].to_numpy())
    return scored, rejected


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Arrow-read output rows back into the scored-frame dtypes the writers and the store expect."""
    frame = frame.set_index(ROW)
    frame.index.name = "row_number"
    for column in RESIDENT_COLUMNS:
        if column.kind == "date":
            frame[column.name] = pd.to_datetime(frame[column.name]).astype("datetime64[s]")
        elif column.kind == "bool":
            frame[column.name] = frame[column.name].astype("boolean")
        elif column.kind == "int":
            frame[column.name] = frame[column.name].astype("Int64")
    frame["due_date"] = pd.to_datetime(frame["due_date"]).astype("datetime64[s]")
    for name in STATE_DATE_COLUMNS:
        frame[f"state_{name}"] = pd.to_datetime(frame[f"state_{name}"]).astype("datetime64[s]")
    return frame
