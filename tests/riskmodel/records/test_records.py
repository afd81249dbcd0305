"""Reading resident records: files, folders, one-line file errors, column forms (SPEC sections 2 and 8)."""

from __future__ import annotations

import pytest

from riskmodel.exceptions import InputFileError
from riskmodel.records.reading import iter_validated, read_residents, resident_columns, validate_records
from tests.factories import CSV_HEADER, make_resident, write_csv


def test_missing_required_column_stops_with_one_line(tmp_path):
    path = write_csv(tmp_path, "a1,t1,50\n", header="resident_id,team_id,age_years\n")
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
    path = write_csv(tmp_path, rows, header=CSV_HEADER.rstrip("\n") + "\n")
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
