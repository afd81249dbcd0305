"""Reading and validating resident records (SPEC sections 2 and 8)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from riskmodel.exceptions import InputFileError
from riskmodel.records import iter_validated, read_residents, resident_columns, validate_records
from tests.factories import make_resident

HEADER = (
    "resident_id,team_id,sex,age_years,height_cm,weight_kg,bmi_kg_m2,sbp_mmhg,dbp_mmhg,smoking,"
    "physically_active,exam_date\n"
)


def _csv(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "records.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def test_bad_rows_are_rejected_with_column_and_reason_while_good_rows_go_on(tmp_path):
    path = _csv(
        tmp_path,
        (
            "a1,t1,M,50,170,70,,130,80,never,true,2026-01-01\n"
            "a2,t1,X,50,170,70,,130,80,never,true,2026-01-01\n"
            "a3,t1,F,150,170,70,,130,80,never,true,2026-01-01\n"
            "a4,t1,F,40,170,70,,80,90,never,true,2026-01-01\n"
            "a5,t1,F,40,170,70,,120,80,sometimes,maybe,2026-13-01\n"
            "a1,t1,F,40,170,70,,120,80,never,是,2026-01-01\n"
            ",t1,F,40,170,70,,120,80,never,否,2026-01-01\n"
            "a8,t1,F,abc,170,70,,120,80,never,1,2026-01-01\n"
        ),
    )
    result = read_residents(path)
    assert result.residents["resident_id"].tolist() == ["a1"]
    errors = dict(zip(result.rejected["row_number"], result.rejected["errors"], strict=True))
    assert len(result.residents) + len(result.rejected) == 8
    assert "sex: not one of M, F" in errors[2]
    assert "age_years: out of range 18-120 (150)" in errors[3]
    assert "sbp_mmhg: systolic BP must be above diastolic BP" in errors[4]
    for expected in (
        "smoking: not one of never, former, current",
        "physically_active: not a boolean",
        "exam_date: not an ISO 8601 date",
    ):
        assert expected in errors[5]
    assert "resident_id: duplicate resident_id" in errors[6]
    assert "resident_id: required value is missing" in errors[7]
    assert "age_years: not a number" in errors[8]
    assert result.rejected.loc[result.rejected["row_number"] == 2, "sex"].iloc[0] == "X"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("1", True),
        ("yes", True),
        ("是", True),
        (" YES ", True),
        ("false", False),
        ("0", False),
        ("no", False),
        ("否", False),
        ("", None),
    ],
)
def test_boolean_spellings(text, value):
    checked = validate_records([make_resident(physically_active=text)])
    got = checked.residents["physically_active"].iloc[0]
    assert (got is pd.NA and value is None) or got == value


def test_bmi_is_derived_from_height_and_weight_when_missing():
    checked = validate_records([make_resident(height_cm=160, weight_kg=64)])
    assert checked.residents["bmi_kg_m2"].iloc[0] == pytest.approx(25.0)
    given = validate_records([make_resident(height_cm=160, weight_kg=64, bmi_kg_m2=30)])
    assert given.residents["bmi_kg_m2"].iloc[0] == 30


@pytest.mark.parametrize(
    ("column", "low", "high"),
    [("age_years", 18, 120), ("sbp_mmhg", 60, 300), ("hba1c_pct", 3, 20), ("uncontrolled_visits", 0, 20)],
)
def test_range_bounds_are_inclusive(column, low, high):
    for value, ok in ((low, True), (high, True), (low - 0.5, False), (high + 0.5, False)):
        overrides = {column: value, **({"dbp_mmhg": 40} if column == "sbp_mmhg" else {})}
        checked = validate_records([make_resident(**overrides)])
        assert checked.rejected.empty == ok, (column, value)


def test_missing_required_column_stops_with_one_line(tmp_path):
    path = _csv(tmp_path, "a1,t1,50\n", header="resident_id,team_id,age_years\n")
    with pytest.raises(InputFileError, match=r"missing required column\(s\) sex") as caught:
        read_residents(path)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("name", ["missing.csv", "records.xlsx"])
def test_unreadable_or_unknown_file_stops(tmp_path, name):
    with pytest.raises(InputFileError):
        read_residents(tmp_path / name)


def test_corrupt_parquet_stops(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(InputFileError, match="not a readable Parquet file"):
        read_residents(path)


def test_duplicates_are_caught_across_chunks_and_unknown_columns_kept(tmp_path):
    rows = "".join(f"id{i % 150},t1,F,40,160,55,,120,80,never,true,2026-01-01\n" for i in range(300))
    path = _csv(tmp_path, rows, header=HEADER.rstrip("\n") + "\n")
    chunks = list(iter_validated(path, chunk_rows=100))
    assert sum(len(c.residents) for c in chunks) == 150
    assert sum(len(c.rejected) for c in chunks) == 150
    extra = tmp_path / "extra.csv"
    extra.write_text("resident_id,team_id,sex,age_years,village_note\nz1,t1,F,30,note\n", encoding="utf-8")
    assert read_residents(extra).residents["village_note"].tolist() == ["note"]


def test_nhanes_files_pass_validation_without_rejections(nhanes):
    result = read_residents(nhanes)
    assert len(result.rejected) == 0
    assert len(result.residents) == 5807 + 6048 + 5922


def test_resident_columns_are_numpy_forms():
    columns = resident_columns(validate_records([make_resident()]).residents)
    assert columns["physically_active"].dtype.kind == "f"
    assert columns["exam_date"].dtype == "datetime64[D]"
    assert columns["sex"].tolist() == ["F"]


def test_records_with_nan_and_timestamps_validate_like_files():
    import math

    record = make_resident(waist_cm=math.nan, exam_date=pd.Timestamp("2026-05-01"), physically_active=None)
    checked = validate_records([record])
    assert checked.rejected.empty, checked.rejected["errors"].tolist()
    assert pd.isna(checked.residents["waist_cm"].iloc[0])
