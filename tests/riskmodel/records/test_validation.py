"""Column-wise validation of resident records (SPEC sections 2 and 8)."""

from __future__ import annotations

import pandas as pd
import pytest

from riskmodel.records.reading import read_residents, validate_records
from tests.factories import make_resident, write_csv


def test_bad_rows_are_rejected_with_column_and_reason_while_good_rows_go_on(tmp_path):
    path = write_csv(
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
        "exam_date: not a calendar date",
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


def test_records_with_nan_and_timestamps_validate_like_files():
    import math

    record = make_resident(waist_cm=math.nan, exam_date=pd.Timestamp("2026-05-01"), physically_active=None)
    checked = validate_records([record])
    assert checked.rejected.empty, checked.rejected["errors"].tolist()
    assert pd.isna(checked.residents["waist_cm"].iloc[0])


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("2026-07-01", "2026-07-01"),
        ("2026-7-1", "2026-07-01"),  # SPEC 8: YYYY-M-D
        ("2026/7/1", "2026-07-01"),  # the Chinese spreadsheet default
        ("2026/07/01", "2026-07-01"),
        ("2024/2/29", "2024-02-29"),
        ("2026-07-01T09:30:00+08:00", "2026-07-01"),
        ("2026-02-30", None),  # never silently 2026-03-02
        ("2026/2/29", None),
        ("2026-13-01", None),
        ("2026/7-1", None),
        ("1 July 2026", None),
    ],
)
def test_accepted_date_forms_and_impossible_dates(written, read):
    from riskmodel.records.reading import validate_records
    from tests.factories import make_resident

    result = validate_records([make_resident(exam_date=written)])
    if read is None:
        assert result.residents.empty and "exam_date: not a calendar date" in result.rejected["errors"].iloc[0]
    else:
        assert str(result.residents["exam_date"].iloc[0].date()) == read


@pytest.mark.parametrize(
    ("resident_id", "ok"),
    [
        ("a" * 128, True),
        ("a" * 129, False),
        ("居" * 128, True),  # 384 bytes, 128 characters
        ("居" * 129, False),
        ("r\t1", False),
        ("r\x001", False),
        ("r\x7f1", False),
        ("居民-001", True),
    ],
)
def test_identifiers_at_most_128_characters_without_control_characters(resident_id, ok):
    from riskmodel.records.reading import validate_records
    from tests.factories import make_resident

    result = validate_records([make_resident(resident_id=resident_id)])
    assert result.rejected.empty == ok


def test_csv_cells_a_spreadsheet_would_run_are_escaped():
    import pandas as pd

    from riskmodel.records.writing import csv_safe

    frame = pd.DataFrame(
        {"text": ['=HYPERLINK("x")', "+1 call", "-5", "@SUM(A1)", "\tx", "\rx", "ok", None], "n": range(8)}
    )
    escaped = csv_safe(frame)
    assert escaped["text"].tolist() == ['\'=HYPERLINK("x")', "'+1 call", "-5", "'@SUM(A1)", "'\tx", "'\rx", "ok", None]
    assert escaped["n"].tolist() == list(range(8))


def test_a_control_character_beside_a_slice_does_not_reject_its_rows():
    import numpy as np
    import pyarrow as pa

    from riskmodel.records.validation import _identifier_check, _Problems

    ids = pa.array(["r\t0", "r1", "r2", "r\x1f3"])
    problems = _Problems(2)
    _identifier_check(ids.slice(1, 2), "resident_id", problems)  # the data buffer holds its neighbours' bytes
    assert not problems.any.any()
    problems = _Problems(4)
    _identifier_check(pa.chunked_array([ids.slice(0, 2), ids.slice(2, 2)]), "resident_id", problems)
    assert problems.any.tolist() == [True, False, False, True]
    np.testing.assert_array_equal(problems.any, [True, False, False, True])


def test_seen_ids_find_every_earlier_id_across_merged_runs(monkeypatch):
    import numpy as np

    from riskmodel.records.validation import SeenIds

    monkeypatch.setattr(SeenIds, "MERGED_RUN", 50)
    rng = np.random.default_rng(3)
    seen, added = SeenIds(), set()
    for size in (7, 7, 20, 3, 3, 3, 40, 1, 12, 30):
        hashes = rng.integers(0, 2**64, size=size, dtype=np.uint64)
        asked = np.concatenate([hashes, np.array(sorted(added)[:5], dtype=np.uint64)])
        assert seen.contains(asked).tolist() == [h in added for h in asked.tolist()]
        seen.add(hashes)
        added |= set(hashes.tolist())
    assert all(len(run) <= 50 or len(run) == 40 for run in seen._chunks)
    assert all((np.diff(run.astype(np.float64)) >= 0).all() for run in seen._chunks)
    assert len(seen._chunks) < 10
