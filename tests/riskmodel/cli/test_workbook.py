"""The Excel workbook (SPEC 15): headers in the chosen language, rates as percentages, widths set, and
formula-like cells escaped as in CSV. Read back with openpyxl."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from riskmodel.cli.indicator_tables import write_workbook
from riskmodel.cli.workbook import Sheet
from riskmodel.cli.workbook import write_workbook as write_sheets

UNITS = [
    {
        "level": "team",
        "unit_id": '=HYPERLINK("http://x")',
        "indicators": [
            {
                "disease": "hypertension",
                "indicator": "control_rate",
                "label_zh": "控制率",
                "label_en": "control at the last follow-up",
                "estimated": None,
                "target": 0.6,
                "trend": [
                    {"ref_date": "2026-06-30", "numerator": 40.0, "denominator": 80.0, "rate": 0.5},
                    {"ref_date": "2026-07-01", "numerator": 45.0, "denominator": 90.0, "rate": 0.5},
                ],
            }
        ],
    }
]
RESULT = {"as_of": "2026-07-01", "batch_as_of": "2026-07-01"}


@pytest.mark.parametrize(
    ("lang", "sheet", "headers", "disease"),
    [
        (
            "zh",
            "汇总",
            ["层级", "单位", "疾病", "指标代码", "指标", "统计日期", "分子", "分母", "估计说明", "率", "目标"],
            "高血压",
        ),
        (
            "en",
            "summary",
            [
                "level",
                "unit",
                "disease",
                "indicator code",
                "indicator",
                "reference date",
                "numerator",
                "denominator",
                "estimate",
                "rate",
                "target",
            ],
            "hypertension",
        ),
    ],
)
def test_indicator_workbook_reads_back_in_the_chosen_language(tmp_path, lang, sheet, headers, disease):
    path = tmp_path / f"indicators-{lang}.xlsx"
    write_workbook(path, UNITS, RESULT, lang)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[0] == sheet and len(book.sheetnames) == 2
    summary = book[sheet]
    assert [cell.value for cell in summary[1]] == headers
    row = {header: cell for header, cell in zip(headers, summary[2], strict=True)}
    assert row[headers[2]].value == disease
    rate, target = row[headers[9]], row[headers[10]]
    assert rate.value == 0.5 and rate.number_format == "0.0%"
    assert target.value == 0.6 and target.number_format == "0.0%"
    assert row[headers[1]].value.startswith("'=")  # a formula-like id is text, never run
    assert row[headers[1]].data_type == "s"
    widths = [summary.column_dimensions[cell.column_letter].width for cell in summary[1]]
    assert all(width and width >= 6 for width in widths)
    assert summary.column_dimensions["B"].width >= len(UNITS[0]["unit_id"]) + 1
    trend = book[book.sheetnames[1]]
    assert trend.max_row == 3


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_start_is_escaped_and_numbers_are_not(tmp_path, start):
    frame = pd.DataFrame({"text": [f"{start}1+1 cmd", "plain"], "number_text": ["-5", "+3.5"], "rate": [0.25, None]})
    path = tmp_path / "sheet.xlsx"
    write_sheets(path, [Sheet("s", frame, {"text": "文本"}, ("rate",))])
    book = openpyxl.load_workbook(path)
    sheet = book["s"]
    assert [c.value for c in sheet[1]] == ["文本", "number_text", "rate"]
    escaped = sheet["A2"].value  # (openpyxl reads a stored CR back as LF)
    assert escaped.startswith("'") and escaped[2:] == "1+1 cmd" and sheet["A3"].value == "plain"
    assert sheet["B2"].value == "-5" and sheet["B3"].value == "+3.5"
    assert sheet["C2"].number_format == "0.0%"
