"""CSV cells that a spreadsheet would run as a formula are escaped (SPEC 8; OWASP CSV injection).

A text cell (or a column name) that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
leading ``'``; numbers (and text that reads as a number, such as ``-5``) are left as they are.

Every file holding residents' data that riskmodel writes (outputs, rejected rows, exports, a SQLite store) is
created readable and writable by its owner only (SPEC 16), whatever the umask.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

OWNER_ONLY = 0o600
"""The mode of every file of residents' data riskmodel creates."""
FORMULA_START = r"^[=+\-@\t\r]"
NUMBER = r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$"


def _escape(array: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    risky = pc.and_(pc.match_substring_regex(array, FORMULA_START), pc.invert(pc.match_substring_regex(array, NUMBER)))
    return pc.if_else(pc.fill_null(risky, False), pc.binary_join_element_wise("'", array, ""), array)


def csv_safe_table(table: pa.Table) -> pa.Table:
    """The table with every text column's formula-like cells, and every formula-like column name, escaped."""
    table = table.rename_columns(csv_safe_names(table.column_names))
    for k, field in enumerate(table.schema):
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            table = table.set_column(k, field, _escape(table.column(k)))
    return table


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of the frame with every text cell's, and every column name's, formula-like start escaped."""
    out = frame.copy()
    out.columns = csv_safe_names(list(out.columns))
    for name in out.columns:
        values = out[name]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            text = pa.array(values.astype("string").to_numpy(na_value=None), pa.string())
            out[name] = pd.Series(_escape(text).to_pylist(), index=out.index, dtype=object).where(values.notna(), None)
    return out


def csv_safe_names(names: list[str]) -> list[str]:
    """Column names with a formula-like start escaped, as cells are."""
    return list(_escape(pa.array([str(name) for name in names], pa.string())).to_pylist())


def owner_only(path: str | Path) -> Path:
    """Create ``path`` empty (or truncate it) with mode 0600 before anything is written into it, whatever the
    umask; a writer that opens it afterwards keeps that mode."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, OWNER_ONLY)
    try:
        os.fchmod(descriptor, OWNER_ONLY)
    finally:
        os.close(descriptor)
    return Path(path)


def write_owner_only(path: str | Path, text: str) -> Path:
    """Write text (UTF-8) to a file readable by its owner only."""
    owner_only(path).write_text(text, encoding="utf-8")
    return Path(path)
