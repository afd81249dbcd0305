"""Excel workbooks a commission forwards (SPEC 15): headers in the chosen language, rates formatted as
percentages, column widths set to the content, and formula-like text escaped as in CSV (SPEC 8)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from rich.cells import cell_len

from riskmodel.records.writing import csv_safe

PERCENT_FORMAT = "0.0%"
MAX_WIDTH = 60


@dataclass(frozen=True)
class Sheet:
    """One sheet: its name, its rows, the headers (column -> words), and which columns are rates."""

    name: str
    frame: pd.DataFrame
    headers: Mapping[str, str] = field(default_factory=dict)
    percent_columns: Sequence[str] = ()


def write_workbook(path: Path, sheets: Sequence[Sheet]) -> None:
    """Write the sheets to an .xlsx file (openpyxl)."""
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for sheet in sheets:
            frame = csv_safe(sheet.frame)
            shown = frame.rename(columns=dict(sheet.headers))
            shown.to_excel(writer, sheet_name=sheet.name, index=False)
            worksheet = writer.sheets[sheet.name]
            worksheet.freeze_panes = "A2"
            for k, column in enumerate(frame.columns, start=1):
                cells = worksheet.iter_rows(min_row=2, min_col=k, max_col=k)
                if column in sheet.percent_columns:
                    for (cell,) in cells:
                        cell.number_format = PERCENT_FORMAT
                letter = worksheet.cell(row=1, column=k).column_letter
                worksheet.column_dimensions[letter].width = _width(str(shown.columns[k - 1]), frame[column])


def _width(header: str, values: pd.Series) -> float:
    """Terminal cells of the widest value (CJK counts two), plus padding, at most :data:`MAX_WIDTH`."""
    texts = [header, *("" if pd.isna(v) else (f"{v:.1%}" if isinstance(v, float) else str(v)) for v in values)]
    return float(min(MAX_WIDTH, max(cell_len(text) for text in texts) + 2))


__all__ = ["PERCENT_FORMAT", "Sheet", "write_workbook"]
