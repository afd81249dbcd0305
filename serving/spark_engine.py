"""The Spark engine of batch scoring (``riskmodel score --engine spark``): the same scoring path, on Spark.

Spark glue only: reading, row numbering and cross-partition duplicate marking happen in Spark; each Arrow
batch is validated and scored by :func:`riskmodel.records.validate_table` and
:func:`riskmodel.scoring.assess` on the workers (``mapInArrow``), the model shipped once as a broadcast
and loaded once per worker process. The driver streams the ordered result into the single output file, the
rejected-rows file and the store, exactly as the local engine writes them.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from riskmodel.batch import BatchOutputs, BatchSummary, _output_frame, check_output, output_schema
from riskmodel.config import RiskConfig
from riskmodel.exceptions import InputFileError
from riskmodel.model.tier_model import RiskModel
from riskmodel.records.reading import file_columns, input_format, resident_columns
from riskmodel.records.schema import COLUMN_NAMES, OUTPUT_COLUMNS, RESIDENT_COLUMNS
from riskmodel.records.validation import check_required_columns, validate_table
from riskmodel.scoring import assess, with_outputs
from riskmodel.store.batches import ResultStore

_ROW, _DUP, _REJECTED, _ERRORS, _RAW = "_row_number", "_duplicate", "_rejected", "_errors", "_raw"
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
    base = output_schema(extras)
    return pa.schema(
        [
            *base,
            pa.field(_ROW, pa.int64()),
            pa.field(_REJECTED, pa.bool_()),
            pa.field(_ERRORS, pa.string()),
            pa.field(_RAW, pa.string()),
        ]
    )


def _score_batches(
    batches: Iterator[pa.RecordBatch],
    *,
    broadcast: Any,
    version: str,
    config: RiskConfig,
    as_of: dt.date,
    extras: list[str],
) -> Iterator[pa.RecordBatch]:
    model = _worker_model(broadcast, version)
    schema = _result_schema(extras)
    for batch in batches:
        table = pa.Table.from_batches([batch])
        rows = table.column(_ROW).to_numpy()
        duplicates = table.column(_DUP).to_numpy(zero_copy_only=False).astype(bool)
        raw = table.drop_columns([_ROW, _DUP])
        chunk = validate_table(raw, row_numbers=rows, known_duplicates=duplicates)
        parts = []
        if len(chunk.residents):
            scored = with_outputs(
                chunk.residents, assess(resident_columns(chunk.residents), model, as_of=as_of, config=config)
            )
            frame = _output_frame(scored, output_schema(extras))
            frame[_ROW] = scored.index.to_numpy()
            frame[_REJECTED] = False
            frame[_ERRORS] = None
            frame[_RAW] = None
            parts.append(pa.Table.from_pandas(frame, schema=schema, preserve_index=False, safe=False))
        if len(chunk.rejected):
            rejected = chunk.rejected
            values = rejected.drop(columns=["row_number", "errors"])
            frame = pd.DataFrame({name: pd.Series([None] * len(rejected), dtype=object) for name in schema.names})
            frame[_ROW] = rejected["row_number"].to_numpy()
            frame[_REJECTED] = True
            frame[_ERRORS] = rejected["errors"].to_numpy()
            frame[_RAW] = [
                json.dumps(record, ensure_ascii=False, default=str)
                for record in values.astype(object).where(values.notna(), None).to_dict(orient="records")
            ]
            parts.append(pa.Table.from_pandas(frame, schema=schema, preserve_index=False, safe=False))
        for part in parts:
            yield from part.to_batches()


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
    if master.startswith("local"):  # keep a local run on loopback
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
    return tagged.withColumn(_ROW, before + position + 1).drop("_partition", "_id")


def _read(spark: Any, path: Path, columns: list[str]) -> Any:
    from pyspark.sql import functions as F

    if input_format(path) == "csv":
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
) -> BatchSummary:
    """Score a file on Spark; the output, rejected rows and store batch equal the local engine's."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    input_path, output_path = Path(input_path), Path(output_path)
    columns = file_columns(input_path)
    check_required_columns(columns, str(input_path))
    check_output(output_path)  # before Spark starts
    known = set(COLUMN_NAMES)
    extras = [name for name in columns if name not in known and name not in OUTPUT_COLUMNS]
    spark = _session(master)
    raw = _read(spark, input_path, columns)
    numbered = _numbered(raw)
    first = F.row_number().over(Window.partitionBy("resident_id").orderBy(_ROW))
    marked = numbered.withColumn(_DUP, F.col("resident_id").isNotNull() & (first > 1))
    broadcast = spark.sparkContext.broadcast(_model_files(model))
    version = model.version

    def score(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        return _score_batches(batches, broadcast=broadcast, version=version, config=config, as_of=as_of, extras=extras)

    result = marked.mapInArrow(score, from_arrow_schema(_result_schema(extras))).orderBy(_ROW)
    with tempfile.TemporaryDirectory(prefix="riskmodel-spark-") as scratch:
        result.write.parquet(str(Path(scratch) / "parts"))
        with BatchOutputs(
            output_path, input_columns=columns, model=model, as_of=as_of, store=store, source=str(input_path)
        ) as outputs:
            for scored, rejected in _ordered_parts(Path(scratch) / "parts", columns):
                outputs.write(scored, rejected)
    return outputs.summary


def _ordered_parts(parts: Path, columns: list[str]) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Spark's ordered part files as (scored, rejected) frames, streamed in bounded batches."""
    for part in sorted(parts.glob("part-*.parquet")):
        for batch in pq.ParquetFile(part).iter_batches(batch_size=50_000):
            frame = batch.to_pandas()
            flags = frame[_REJECTED].astype(bool)
            scored = _typed(frame[~flags].drop(columns=[_REJECTED, _ERRORS, _RAW]))
            rejected = pd.DataFrame([json.loads(text) for text in frame.loc[flags, _RAW]], columns=columns)
            rejected.insert(0, "errors", frame.loc[flags, _ERRORS].to_numpy())
            rejected.insert(0, "row_number", frame.loc[flags, _ROW].to_numpy())
            yield scored, rejected


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Arrow-read output rows back into the scored-frame dtypes the writers and the store expect."""
    frame = frame.set_index(_ROW)
    frame.index.name = "row_number"
    for column in RESIDENT_COLUMNS:
        if column.kind == "date":
            frame[column.name] = pd.to_datetime(frame[column.name]).astype("datetime64[s]")
        elif column.kind == "bool":
            frame[column.name] = frame[column.name].astype("boolean")
        elif column.kind == "int":
            frame[column.name] = frame[column.name].astype("Int64")
    frame["due_date"] = pd.to_datetime(frame["due_date"]).astype("datetime64[s]")
    return frame
