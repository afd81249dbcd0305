"""Reading resident records (SPEC sections 2 and 8) and the column forms the rules work on.

Files are read in chunks (CSV through pyarrow's streaming reader, Parquet by row groups) and each chunk is
validated by :func:`riskmodel.records.validation.validate_table`. A file that cannot be used at all (unreadable,
unknown format, a required column missing) raises :class:`~riskmodel.exceptions.InputFileError` with one line.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from riskmodel.exceptions import InputFileError
from riskmodel.records.schema import (
    COLUMN_NAMES,
    RESIDENT_COLUMNS,
)
from riskmodel.records.validation import SeenIds, ValidatedChunk, check_required_columns, validate_table

DEFAULT_CHUNK_ROWS = 250_000
_NULL_SPELLINGS = ["", "NA", "NaN", "nan", "null", "NULL", "None"]


def input_format(path: Path) -> str:
    """``csv`` or ``parquet`` from the file name; anything else is an input error."""
    suffix = path.suffix.lower()
    if suffix in {".csv", ".txt"}:
        return "csv"
    if suffix in {".parquet", ".pq"}:
        return "parquet"
    raise InputFileError(f"{path}: unknown input format '{suffix}' (expected .csv or .parquet)")


ENCODINGS = ("utf-8", "gbk", "gb18030")
"""CSV encodings read: UTF-8 (with or without a BOM), and the ones Chinese spreadsheets save (SPEC 8)."""


def _not_utf8(path: Path, encoding: str) -> InputFileError:
    if encoding == "utf-8":
        return InputFileError(
            f"{path}: the file is not UTF-8 text: save it as UTF-8, or pass --encoding gbk (or gb18030)"
        )
    return InputFileError(f"{path}: the file is not {encoding} text: check its encoding (utf-8, gbk or gb18030)")


def _csv_header(path: Path, encoding: str = "utf-8") -> list[str]:
    try:
        with path.open(encoding="utf-8-sig" if encoding == "utf-8" else encoding, newline="") as handle:
            return next(csv.reader(handle))
    except StopIteration as exc:
        raise InputFileError(f"{path}: the file is empty (expected a header row)") from exc
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, encoding) from exc
    except (OSError, csv.Error) as exc:
        raise InputFileError(f"{path}: cannot read the file's header ({exc.__class__.__name__})") from exc


def file_columns(path: Path, encoding: str = "utf-8") -> list[str]:
    """The column names of an input file, read from its header or metadata; a repeated name is an error."""
    if not path.exists():
        raise InputFileError(f"{path}: no such file")
    if encoding not in ENCODINGS:
        raise InputFileError(f"unsupported encoding '{encoding}' (use {', '.join(ENCODINGS)})")
    if input_format(path) == "csv":
        names = [name.strip() for name in _csv_header(path, encoding)]
    else:
        try:
            names = list(pq.ParquetFile(path).schema_arrow.names)
        except (OSError, pa.ArrowException) as exc:
            raise InputFileError(
                f"{path}: not a readable Parquet file (save it as Parquet, or as CSV under a .csv name)"
            ) from exc
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InputFileError(f"{path}: column(s) {', '.join(repeated)} appear more than once in the header; keep one")
    return names


@dataclass
class RawChunk:
    """One chunk as read: the table, its rows' 1-based numbers in the file, and the lines that could not be read
    as rows (rejected by number, never by content)."""

    table: pa.Table
    row_numbers: np.ndarray
    malformed: pd.DataFrame


def iter_raw_tables(
    path: str | Path, *, chunk_rows: int = DEFAULT_CHUNK_ROWS, encoding: str = "utf-8"
) -> Iterator[RawChunk]:
    """Yield a residents file in chunks of at most about ``chunk_rows`` rows, columns as stored."""
    path = Path(path)
    check_required_columns(file_columns(path, encoding), str(path))
    yield from iter_file_tables(path, chunk_rows=chunk_rows, encoding=encoding)


def iter_file_tables(
    path: str | Path, *, chunk_rows: int = DEFAULT_CHUNK_ROWS, encoding: str = "utf-8"
) -> Iterator[RawChunk]:
    """Yield any CSV or Parquet file in chunks; a CSV line with the wrong number of fields is set aside."""
    path = Path(path)
    columns = file_columns(path, encoding)
    try:
        if input_format(path) == "parquet":
            parquet = pq.ParquetFile(path)
            first = 1
            for batch in parquet.iter_batches(batch_size=chunk_rows):
                numbers = np.arange(first, first + batch.num_rows)
                first += batch.num_rows
                yield RawChunk(pa.Table.from_batches([batch]), numbers, _malformed([], columns))
            return
        yield from _iter_csv(path, columns, chunk_rows, encoding)
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, encoding) from exc
    except pa.ArrowException as exc:
        if "decode" in str(exc).lower() or "utf8" in str(exc).lower() or "utf-8" in str(exc).lower():
            raise _not_utf8(path, encoding) from exc
        first_line = str(exc).splitlines()[0][:120] if str(exc) else exc.__class__.__name__
        raise InputFileError(f"{path}: cannot parse the file ({_without_values(first_line)})") from exc


def _without_values(message: str) -> str:
    """An Arrow parse message without the row's content (SPEC 8: no resident values in messages)."""
    return message.split(":")[0] if "Row #" in message or "row" in message.lower() else message


def _malformed(lines: list[tuple[int, int, int]], columns: list[str]) -> pd.DataFrame:
    # Built in one constructor: adding the columns one by one costs ~0.3 ms a column, every chunk.
    return pd.DataFrame(
        {
            "row_number": pd.Series([line - 1 for line, _, _ in lines], dtype="int64"),
            "errors": [
                f"line {line}: expected {expected} fields, found {found}; the line was not read"
                for line, expected, found in lines
            ],
            **{name: pd.Series([None] * len(lines), dtype="string") for name in columns},
        }
    )


def _iter_csv(path: Path, columns: list[str], chunk_rows: int, encoding: str) -> Iterator[RawChunk]:
    read = pacsv.ReadOptions(
        block_size=8 << 20, encoding="utf8" if encoding == "utf-8" else encoding, use_threads=False
    )
    convert = pacsv.ConvertOptions(
        column_types=dict.fromkeys(columns, pa.string()),
        null_values=_NULL_SPELLINGS,
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    skipped: list[tuple[int, int, int]] = []

    def set_aside(row: Any) -> str:
        skipped.append((int(row.number) if row.number is not None else -1, row.expected_columns, row.actual_columns))
        return "skip"

    parse = pacsv.ParseOptions(invalid_row_handler=set_aside)
    reader = pacsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert)
    pending: list[pa.RecordBatch] = []
    pending_rows = 0
    next_row = 1  # data row numbers: the header is not counted; set-aside lines keep their numbers
    reported = 0

    def numbered(n: int) -> np.ndarray:
        nonlocal next_row
        taken = {line - 1 for line, _, _ in skipped}
        numbers = []  # type: ignore[var-annotated]
        while len(numbers) < n:
            if next_row not in taken:
                numbers.append(next_row)
            next_row += 1
        return np.asarray(numbers, dtype=np.int64)

    def chunk(batches: list[pa.RecordBatch]) -> RawChunk:
        nonlocal reported
        table = pa.Table.from_batches(batches, schema=batches[0].schema)
        fresh = skipped[reported:]
        reported = len(skipped)
        return RawChunk(table, numbered(table.num_rows), _malformed(fresh, columns))

    for batch in reader:
        pending.append(batch)
        pending_rows += batch.num_rows
        if pending_rows >= chunk_rows:
            yield chunk(pending)
            pending, pending_rows = [], 0
    if pending:
        yield chunk(pending)
    elif len(skipped) > reported:
        yield RawChunk(
            pa.table({name: pa.array([], pa.string()) for name in columns}),
            np.array([], np.int64),
            _malformed(skipped[reported:], columns),
        )


# ---------------------------------------------------------------------------------------- coercion


def iter_validated(
    path: str | Path, *, chunk_rows: int = DEFAULT_CHUNK_ROWS, encoding: str = "utf-8"
) -> Iterator[ValidatedChunk]:
    """Read and validate a CSV or Parquet file chunk by chunk, with memory bounded by ``chunk_rows``."""
    seen = SeenIds()
    for raw in iter_raw_tables(path, chunk_rows=chunk_rows, encoding=encoding):
        chunk = validate_table(raw.table, row_numbers=raw.row_numbers, seen_ids=seen)
        if len(raw.malformed):
            chunk = ValidatedChunk(chunk.residents, pd.concat([chunk.rejected, raw.malformed], ignore_index=True))
        yield chunk


def read_residents(paths: str | Path | Iterable[str | Path]) -> ValidatedChunk:
    """Read and validate whole files (one, several, or every CSV/Parquet file of a folder) into memory."""
    files = expand_paths(paths)
    chunks = [chunk for path in files for chunk in iter_validated(path)]
    residents = pd.concat([c.residents for c in chunks]) if chunks else pd.DataFrame(columns=COLUMN_NAMES)
    rejected = pd.concat([c.rejected for c in chunks]) if chunks else pd.DataFrame()
    if len(files) > 1:
        residents = residents.reset_index(drop=True)
        duplicated = residents["resident_id"].duplicated()
        if duplicated.any():
            raise InputFileError(
                f"{int(duplicated.sum())} resident_id values appear in more than one of the input files"
            )
    return ValidatedChunk(residents=residents, rejected=rejected)


def expand_paths(paths: str | Path | Iterable[str | Path]) -> list[Path]:
    """A file, a list of files, or a folder (its CSV and Parquet files, sorted) as a list of files."""
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    files: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in {".csv", ".parquet", ".pq"})
            if not found:
                raise InputFileError(f"{path}: the folder holds no .csv or .parquet files")
            files.extend(found)
        else:
            files.append(path)
    if not files:
        raise InputFileError("no input files given")
    return files


def cell_text(value: Any) -> str | None:
    """A record value as the text a CSV would hold; missing (None, NaN, NaT, NA) as null."""
    if value is None or (not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return str(value)


def validate_records(records: Sequence[Mapping[str, Any]]) -> ValidatedChunk:
    """Validate records given as mappings (the library's one-record path), with the same rules as files."""
    names = list(dict.fromkeys(name for record in records for name in record))
    columns = {name: pa.array([cell_text(r.get(name)) for r in records], pa.string()) for name in names}
    return validate_table(pa.table(columns) if columns else pa.table({}))


def resident_columns(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """The schema columns of a validated frame as numpy arrays, the form every rule works on.

    Numbers and booleans become float64 (booleans 1.0/0.0, missing NaN), dates ``datetime64[D]``
    (missing NaT) and categories an object array (missing ``None``). Identifiers are not rule inputs and
    stay in the frame.
    """
    columns: dict[str, np.ndarray] = {}
    for column in RESIDENT_COLUMNS:
        series = frame[column.name]
        if column.kind in ("float", "int", "bool"):
            columns[column.name] = series.to_numpy(dtype=np.float64, na_value=np.nan)
        elif column.kind == "date":
            columns[column.name] = series.to_numpy(dtype="datetime64[D]")
        elif column.kind == "category":
            columns[column.name] = series.to_numpy(dtype=object, na_value=None)
    return columns


def columns_from_values(records: Sequence[Mapping[str, Any]]) -> dict[str, np.ndarray]:
    """Rule-input columns from records whose values are already typed and checked (the API's pydantic models).

    The same column forms as :func:`resident_columns`, built without pandas so that one record costs little.
    """
    # One array per kind, each column a contiguous row of it: a few numpy calls for any number of records.
    numbers = np.array(
        [[np.nan if (v := record.get(name)) is None else float(v) for record in records] for name in _NUMBER_NAMES],
        dtype=np.float64,
    ).reshape(len(_NUMBER_NAMES), len(records))
    dates = np.array(
        [["NaT" if (v := record.get(name)) is None else v for record in records] for name in _DATE_NAMES],
        dtype="datetime64[D]",
    ).reshape(len(_DATE_NAMES), len(records))
    by_name = {**dict(zip(_NUMBER_NAMES, numbers, strict=True)), **dict(zip(_DATE_NAMES, dates, strict=True))}
    columns: dict[str, np.ndarray] = {}
    for column in RESIDENT_COLUMNS:
        if column.kind == "category":
            columns[column.name] = np.array([record.get(column.name) for record in records], dtype=object)
        elif column.name in by_name:
            columns[column.name] = by_name[column.name]
    return columns


_NUMBER_NAMES = tuple(c.name for c in RESIDENT_COLUMNS if c.kind in ("float", "int", "bool"))
_DATE_NAMES = tuple(c.name for c in RESIDENT_COLUMNS if c.kind == "date")


__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "SeenIds",
    "ValidatedChunk",
    "check_required_columns",
    "columns_from_values",
    "expand_paths",
    "file_columns",
    "iter_raw_tables",
    "iter_validated",
    "read_residents",
    "resident_columns",
    "validate_records",
    "validate_table",
]
