"""Validation of resident records, column-wise (SPEC sections 2 and 8).

Every column is coerced with pyarrow compute kernels (strings from CSV, typed columns from Parquet) and
checked against the schema: type, plausible range, required values, SBP above DBP, unique resident ids.
Each bad row is set aside with its row number, the column and the reason; the other rows go on.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskmodel.exceptions import InputFileError
from riskmodel.records.schema import (
    COLUMNS_BY_NAME,
    FALSE_SPELLINGS,
    MAX_IDENTIFIER_LENGTH,
    REQUIRED_COLUMNS,
    RESIDENT_COLUMNS,
    TRUE_SPELLINGS,
    Column,
)

_NUMBER_PATTERN = r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$"


@dataclass
class ValidatedChunk:
    """One chunk of input after validation.

    Attributes
    ----------
    residents
        Valid rows, typed per the schema (booleans as pandas ``boolean``, dates as ``datetime64``), every
        schema column present, extra input columns kept after them; the index is the 1-based row number.
    rejected
        One row per rejected input row: ``row_number``, ``errors`` and the input values as read.
    """

    residents: pd.DataFrame
    rejected: pd.DataFrame


# --------------------------------------------------------------------------------------------- reading


def check_required_columns(
    columns: Sequence[str], source: str, required: Sequence[str] = REQUIRED_COLUMNS, kind: str = "column"
) -> None:
    """Raise a one-line error naming the required columns (of residents, or of another ``kind``) that are missing."""
    missing = [name for name in required if name not in columns]
    if missing:
        raise InputFileError(
            f"{source}: missing required {kind}(s) {', '.join(missing)} "
            f"(expected at least {', '.join(required)}; found {', '.join(columns) or 'none'})"
        )


@dataclass
class _Coerced:
    values: pa.ChunkedArray
    bad: np.ndarray  # non-empty input that could not be read as the column's kind
    reason: str


def _trimmed(array: pa.ChunkedArray) -> pa.ChunkedArray:
    trimmed = pc.utf8_trim_whitespace(array)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def _is_string(array: pa.ChunkedArray) -> bool:
    return pa.types.is_string(array.type) or pa.types.is_large_string(array.type)


def _mask(array: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(array, False).to_numpy(zero_copy_only=False), dtype=bool)


def _coerce_number(array: pa.ChunkedArray, column: Column) -> _Coerced:
    if _is_string(array):
        text = _trimmed(array)
        try:  # fast path: a clean column casts in one kernel; the regex below only runs on a bad one
            values = pc.cast(text, pa.float64())
            finite = pc.fill_null(pc.is_finite(values), True)
            if pc.all(finite).as_py() is not False:
                return _Coerced(values, np.zeros(len(array), dtype=bool), "")
        except pa.ArrowInvalid:
            pass
        looks_numeric = pc.match_substring_regex(text, _NUMBER_PATTERN)
        bad = _mask(pc.and_(pc.is_valid(text), pc.invert(pc.fill_null(looks_numeric, False))))
        values = pc.cast(pc.if_else(looks_numeric, text, pa.scalar(None, pa.string())), pa.float64())
    elif pa.types.is_integer(array.type) or pa.types.is_floating(array.type) or pa.types.is_decimal(array.type):
        values, bad = pc.cast(array, pa.float64()), np.zeros(len(array), dtype=bool)
    elif pa.types.is_null(array.type):
        values, bad = pa.chunked_array([pa.nulls(len(array), pa.float64())]), np.zeros(len(array), dtype=bool)
    else:
        values = pa.chunked_array([pa.nulls(len(array), pa.float64())])
        bad = _mask(pc.is_valid(array))
    kind = "a whole number" if column.kind == "int" else "a number"
    return _Coerced(values, bad, f"not {kind}")


def _coerce_bool(array: pa.ChunkedArray) -> _Coerced:
    if pa.types.is_boolean(array.type):
        return _Coerced(array, np.zeros(len(array), dtype=bool), "")
    if pa.types.is_null(array.type):
        return _Coerced(pa.chunked_array([pa.nulls(len(array), pa.bool_())]), np.zeros(len(array), bool), "")
    text = pc.utf8_lower(_trimmed(pc.cast(array, pa.string())))
    is_true = pc.is_in(text, value_set=pa.array(sorted(TRUE_SPELLINGS)))
    is_false = pc.is_in(text, value_set=pa.array(sorted(FALSE_SPELLINGS)))
    known = pc.or_(is_true, is_false)
    values = pc.if_else(known, is_true, pa.scalar(None, pa.bool_()))
    bad = _mask(pc.and_(pc.is_valid(text), pc.invert(known)))
    return _Coerced(values, bad, "not a boolean (use true/false, 1/0, yes/no or 是/否)")


def _coerce_date(array: pa.ChunkedArray) -> _Coerced:
    if pa.types.is_date(array.type) or pa.types.is_timestamp(array.type):
        return _Coerced(pc.cast(array, pa.date32()), np.zeros(len(array), dtype=bool), "")
    if pa.types.is_null(array.type):
        return _Coerced(pa.chunked_array([pa.nulls(len(array), pa.date32())]), np.zeros(len(array), bool), "")
    text = _trimmed(pc.cast(array, pa.string()))
    # SPEC 8's forms: YYYY-MM-DD and YYYY-M-D (ISO 8601, optionally with a time), YYYY/M/D and YYYY/MM/DD (the
    # Chinese spreadsheet default); normalised to YYYY-MM-DD before parsing.
    if pc.all(pc.fill_null(pc.match_substring_regex(text, r"^\d{4}-\d{2}-\d{2}$"), True)).as_py():
        normal = text  # the common case, without the regular expression below
    else:
        split = pc.extract_regex(
            text,
            r"^(?P<y>\d{4})(?P<s1>[-/])(?P<m>\d{1,2})(?P<s2>[-/])(?P<d>\d{1,2})"
            r"(?P<t>(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?)$",
        )
        same = pc.fill_null(pc.equal(pc.struct_field(split, "s1"), pc.struct_field(split, "s2")), False)
        normal = pc.if_else(
            same,
            pc.binary_join_element_wise(
                pc.struct_field(split, "y"),
                pc.utf8_lpad(pc.struct_field(split, "m"), 2, "0"),
                pc.utf8_lpad(pc.struct_field(split, "d"), 2, "0"),
                "-",
            ),
            pa.scalar(None, pa.string()),
        )
    parsed = pc.strptime(normal, format="%Y-%m-%d", unit="s", error_is_null=True)
    # strptime rolls 2026-02-30 over to 2026-03-02: the parsed day must be the day written.
    written_day = pc.cast(pc.utf8_slice_codeunits(normal, 8, 10), pa.int64())
    same_day = pc.fill_null(pc.equal(pc.day(parsed), written_day), False)
    parsed = pc.if_else(same_day, parsed, pa.scalar(None, parsed.type))
    bad = _mask(pc.and_(pc.is_valid(text), pc.is_null(parsed)))
    return _Coerced(
        pc.cast(parsed, pa.date32()), bad, "not a calendar date (use YYYY-MM-DD, or YYYY/M/D as Excel saves it)"
    )


def _coerce_text(array: pa.ChunkedArray, column: Column) -> _Coerced:
    if column.kind != "category":
        # An identifier is kept exactly as written (a control character is a row error, never trimmed away);
        # only a blank one is empty.
        text = pc.cast(array, pa.string())
        blank = pc.equal(pc.utf8_trim_whitespace(text), "")
        return _Coerced(pc.if_else(blank, pa.scalar(None, pa.string()), text), np.zeros(len(array), dtype=bool), "")
    choices = pa.array(column.choices)
    as_written = pc.cast(array, pa.string())
    if (pc.sum(pc.is_in(as_written, value_set=choices)).as_py() or 0) == len(as_written) - as_written.null_count:
        # Every value is a choice as written (the common case): trimming and case change nothing.
        return _Coerced(as_written, np.zeros(len(array), dtype=bool), f"not one of {', '.join(column.choices)}")
    text = _trimmed(as_written)
    text = pc.utf8_upper(text) if column.name == "sex" else pc.utf8_lower(text)
    allowed = pc.is_in(text, value_set=choices)
    bad = _mask(pc.and_(pc.is_valid(text), pc.invert(allowed)))
    values = pc.if_else(allowed, text, pa.scalar(None, pa.string()))
    return _Coerced(values, bad, f"not one of {', '.join(column.choices)}")


def check_column_type(array: pa.ChunkedArray, column: Column, source: str = "input") -> None:
    """A column stored as a type that cannot hold its values (a struct, a list, binary bytes) stops the file with
    one line: it is the file that is wrong, not a row."""
    kind = array.type
    readable = (
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_date(kind)
        or pa.types.is_timestamp(kind)
        or pa.types.is_null(kind)
        or pa.types.is_dictionary(kind)
    )
    if not readable:
        raise InputFileError(
            f"{source}: column {column.name} is stored as {kind}, which cannot hold it; "
            f"save it as text{'' if column.kind in ('str', 'category') else ' or numbers'}"
        )


def _coerce(array: pa.ChunkedArray, column: Column) -> _Coerced:
    if pa.types.is_dictionary(array.type):
        array = pc.cast(array, array.type.value_type)
    if column.kind in ("float", "int"):
        return _coerce_number(array, column)
    if column.kind == "bool":
        return _coerce_bool(array)
    if column.kind == "date":
        return _coerce_date(array)
    return _coerce_text(array, column)


# -------------------------------------------------------------------------------------- validation


class _Problems:
    """Per-row problems, gathered column-wise as (mask, column, reason) and rendered only for bad rows."""

    def __init__(self, n_rows: int) -> None:
        self.n_rows = n_rows
        self.any = np.zeros(n_rows, dtype=bool)
        self._checks: list[tuple[np.ndarray, str, str, np.ndarray | None]] = []

    def add(self, mask: np.ndarray, column: str, reason: str, values: np.ndarray | None = None) -> None:
        if mask.any():
            self.any |= mask
            self._checks.append((mask, column, reason, values))

    def messages(self) -> list[str]:
        rows = np.flatnonzero(self.any)
        position = {row: i for i, row in enumerate(rows)}
        parts: list[list[str]] = [[] for _ in rows]
        for mask, column, reason, values in self._checks:
            for row in np.flatnonzero(mask):
                shown = "" if values is None else f" ({_show(values[row])})"
                parts[position[row]].append(f"{column}: {reason}{shown}")
        return ["; ".join(items) for items in parts]


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _range_check(values: np.ndarray, column: Column, problems: _Problems) -> None:
    if column.low is None or column.high is None:
        return
    with np.errstate(invalid="ignore"):
        outside = (values < column.low) | (values > column.high)
    problems.add(outside, column.name, f"out of range {column.low:g}-{column.high:g}", values)
    if column.kind == "int":
        with np.errstate(invalid="ignore"):
            fractional = ~np.isnan(values) & (np.floor(values) != values)
        problems.add(fractional, column.name, "not a whole number", values)


def _identifier_check(values: pa.Array, name: str, problems: _Problems) -> None:
    """SPEC 8: identifiers are at most 128 characters, without control characters (a tab included); one
    definition for the API, the batch and the store."""
    # At most 128 bytes is at most 128 characters, and text without a control byte has no control character:
    # the common case is decided on the bytes, and the kernels below only run on a column that needs them.
    if (pc.max(pc.binary_length(values)).as_py() or 0) > MAX_IDENTIFIER_LENGTH:
        problems.add(
            _mask(pc.greater(pc.utf8_length(values), MAX_IDENTIFIER_LENGTH)), name, "longer than 128 characters"
        )
    if _has_control_byte(values):
        problems.add(_mask(pc.match_substring_regex(values, r"[\x00-\x1f\x7f]")), name, "contains a control character")


def _has_control_byte(values: pa.Array | pa.ChunkedArray) -> bool:
    """Whether the text's bytes hold a control character's (over the whole data buffer, so a slice may say yes
    for its neighbours' bytes: then the exact check runs)."""
    for chunk in values.chunks if isinstance(values, pa.ChunkedArray) else [values]:
        data = chunk.buffers()[2] if len(chunk.buffers()) > 2 else None
        if data is not None and data.size:
            raw = np.frombuffer(data, dtype=np.uint8)
            if np.any((raw < 0x20) | (raw == 0x7F)):
                return True
    return False


def validate_table(
    table: pa.Table,
    *,
    first_row_number: int = 1,
    seen_ids: SeenIds | None = None,
    row_numbers: np.ndarray | None = None,
    known_duplicates: np.ndarray | None = None,
) -> ValidatedChunk:
    """Coerce and validate one chunk of raw input.

    Parameters
    ----------
    table
        Raw input as read (strings from CSV, typed columns from Parquet).
    first_row_number
        1-based number of the chunk's first data row in the whole input (the header is not counted).
    seen_ids
        Resident ids already accepted in earlier chunks of the same batch, to reject duplicates across
        chunks; updated with this chunk's accepted ids.
    row_numbers
        Explicit 1-based row numbers of the chunk's rows (when chunks are not contiguous, as on Spark).
    known_duplicates
        Rows found elsewhere to repeat an earlier row's resident_id (Spark marks these across partitions).
    """
    check_required_columns(table.column_names, "input")
    n_rows = table.num_rows
    problems = _Problems(n_rows)
    typed: dict[str, Any] = {}
    for column in RESIDENT_COLUMNS:
        if column.name not in table.column_names:
            typed[column.name] = _empty_column(column, n_rows)
            continue
        check_column_type(table.column(column.name), column)
        coerced = _coerce(table.column(column.name), column)
        problems.add(coerced.bad, column.name, coerced.reason)
        typed[column.name] = _to_numpy(coerced.values, column)
        if column.required:
            missing = _mask(pc.is_null(coerced.values)) & ~coerced.bad
            problems.add(missing, column.name, "required value is missing")
        if column.kind in ("float", "int"):
            _range_check(typed[column.name], column, problems)
        if column.kind == "str":
            _identifier_check(typed[column.name], column.name, problems)

    _derive_bmi(typed, problems)
    with np.errstate(invalid="ignore"):
        bp_inverted = typed["sbp_mmhg"] <= typed["dbp_mmhg"]
    problems.add(bp_inverted, "sbp_mmhg", "systolic BP must be above diastolic BP")
    id_hashes = _check_unique_ids(typed["resident_id"], problems, seen_ids, known_duplicates)

    if row_numbers is None:
        row_numbers = np.arange(first_row_number, first_row_number + n_rows)
    good = ~problems.any
    extras = [name for name in table.column_names if name not in COLUMNS_BY_NAME]
    frame = pd.DataFrame({name: _to_series(values, COLUMNS_BY_NAME[name]) for name, values in typed.items()})
    for name in extras:
        frame[name] = table.column(name).to_pandas()
    frame.index = pd.Index(row_numbers, name="row_number")
    residents = frame[good]
    if seen_ids is not None:
        seen_ids.add(id_hashes[good])
    rejected = _rejected_frame(table, row_numbers[~good], np.flatnonzero(~good), problems.messages())
    return ValidatedChunk(residents=residents, rejected=rejected)


def _rejected_frame(
    table: pa.Table, row_numbers: np.ndarray, positions: np.ndarray, messages: list[str]
) -> pd.DataFrame:
    raw = table.take(pa.array(positions, pa.int64())).to_pandas() if len(positions) else None
    if raw is None:  # nothing rejected: the empty frame made at once (column by column costs ~0.3 ms a column)
        empty = {name: pd.Series([], dtype="string") for name in table.column_names}
        return pd.DataFrame({"row_number": row_numbers.astype("int64"), "errors": messages, **empty})
    rejected = pd.DataFrame({"row_number": row_numbers.astype("int64"), "errors": messages})
    if raw is not None:
        for name in raw.columns:
            rejected[name] = raw[name].astype("string").to_numpy()
    else:
        for name in table.column_names:
            rejected[name] = pd.Series([], dtype="string")
    return rejected


def _empty_column(column: Column, n_rows: int) -> Any:
    if column.kind in ("float", "int", "bool"):
        return np.full(n_rows, np.nan)
    if column.kind == "date":
        return np.full(n_rows, np.datetime64("NaT"), dtype="datetime64[D]")
    return pa.nulls(n_rows, pa.string())


def _to_numpy(values: pa.ChunkedArray, column: Column) -> Any:
    """Numbers, booleans and dates as numpy; text stays an Arrow array (converted only where needed)."""
    if column.kind in ("str", "category"):
        return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if column.kind in ("float", "int"):
        return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)
    if column.kind == "bool":
        return np.asarray(pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    if column.kind == "date":
        return np.asarray(values.to_numpy(zero_copy_only=False), dtype="datetime64[D]")
    raise AssertionError(f"unhandled column kind {column.kind}")  # pragma: no cover - kinds are closed


def _to_series(values: Any, column: Column) -> pd.Series:
    if column.kind in ("str", "category"):
        return pd.Series(pd.arrays.ArrowExtensionArray(values))
    missing = np.isnan(values) if column.kind != "date" else None
    if column.kind == "bool":
        return pd.Series(pd.arrays.BooleanArray(values == 1.0, missing))
    if column.kind == "int":
        return pd.Series(pd.arrays.IntegerArray(np.nan_to_num(values).astype(np.int64), missing))
    if column.kind == "date":
        return pd.Series(values.astype("datetime64[s]"))
    return pd.Series(values)


def bmi_from(height_cm: Any, weight_kg: Any) -> Any:
    """BMI (kg/m2) from height and weight, unrounded (SPEC section 2: derived when missing); arrays or numbers."""
    return weight_kg / np.square(height_cm / 100.0)


def _derive_bmi(typed: dict[str, Any], problems: _Problems) -> None:
    """Fill a missing BMI from height and weight (SPEC section 2) and range-check the result."""
    bmi, height, weight = typed["bmi_kg_m2"], typed["height_cm"], typed["weight_kg"]
    fill = np.isnan(bmi) & ~np.isnan(height) & ~np.isnan(weight)
    if not fill.any():
        return
    derived = np.where(fill, bmi_from(height, weight), np.nan)
    column = COLUMNS_BY_NAME["bmi_kg_m2"]
    with np.errstate(invalid="ignore"):
        outside = fill & ((derived < column.low) | (derived > column.high))  # type: ignore[operator]
    problems.add(
        outside, "bmi_kg_m2", f"derived from height and weight, out of range {column.low:g}-{column.high:g}", derived
    )
    typed["bmi_kg_m2"] = np.where(fill, np.round(derived, 1), bmi)


_LOCAL = threading.local()


def _hashing_connection() -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB connection per thread, for hashing ids."""
    if not hasattr(_LOCAL, "connection"):
        _LOCAL.connection = duckdb.connect()
    return _LOCAL.connection  # type: ignore[no-any-return]


class SeenIds:
    """Resident ids accepted so far in a batch, as sorted runs of 64-bit hashes (8 bytes an id).

    Runs of similar length are merged as they come (up to :data:`MERGED_RUN` hashes), so that a lookup searches a
    few runs, not one per chunk, however many chunks a large file has.
    """

    MERGED_RUN = 4_000_000
    """The longest run made by merging (32 MB); a merge briefly needs its length twice."""

    def __init__(self) -> None:
        self._chunks: list[np.ndarray] = []

    @staticmethod
    def hash(*columns: pa.Array) -> np.ndarray:
        """64-bit hashes of the values (of the tuples, given several columns), by DuckDB's vectorised hash."""
        table = pa.table({f"c{k}": column for k, column in enumerate(columns)})
        connection = _hashing_connection()
        connection.register("hashed", table)
        try:
            names = ", ".join(table.column_names)
            return np.asarray(connection.sql(f"SELECT hash({names}) AS h FROM hashed").fetchnumpy()["h"])
        finally:
            connection.unregister("hashed")

    def contains(self, hashes: np.ndarray) -> np.ndarray:
        if not self._chunks:
            return np.zeros(len(hashes), dtype=bool)
        order = np.argsort(hashes)  # searched in order: each search starts where the last one ended
        wanted = hashes[order]
        found_in_order = np.zeros(len(hashes), dtype=bool)
        for chunk in self._chunks:
            where = np.minimum(np.searchsorted(chunk, wanted), len(chunk) - 1)
            found_in_order |= chunk[where] == wanted
        found = np.empty(len(hashes), dtype=bool)
        found[order] = found_in_order
        return found

    def add(self, hashes: np.ndarray) -> None:
        if not len(hashes):
            return
        self._chunks.append(np.sort(hashes))
        while (
            len(self._chunks) > 1
            and len(self._chunks[-2]) <= 2 * len(self._chunks[-1])
            and len(self._chunks[-2]) + len(self._chunks[-1]) <= self.MERGED_RUN
        ):
            last = self._chunks.pop()
            # Two sorted runs: the stable sort (timsort) merges them in one pass.
            self._chunks[-1] = np.sort(np.concatenate([self._chunks[-1], last]), kind="stable")


def _check_unique_ids(
    ids: pa.Array, problems: _Problems, seen: SeenIds | None, known: np.ndarray | None = None
) -> np.ndarray:
    """Reject repeated ids, within the chunk and against earlier chunks; returns the ids' hashes."""
    present = _mask(pc.is_valid(ids))
    hashes = SeenIds.hash(ids)
    duplicated = present & pd.Series(hashes).duplicated(keep="first").to_numpy()
    if known is not None:
        duplicated |= present & known
    problems.add(duplicated, "resident_id", "duplicate resident_id in this batch")
    if seen is not None:
        earlier = present & seen.contains(hashes)
        problems.add(earlier & ~duplicated, "resident_id", "duplicate resident_id in this batch")
    return hashes


# ------------------------------------------------------------------------------------ entry points
