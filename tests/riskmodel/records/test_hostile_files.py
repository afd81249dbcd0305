"""Hostile files (SPEC 8), property-based: random bad cells, lines with the wrong number of fields and odd
types; rows in = rows scored + rows rejected, and no scored value differs from what the file held."""

from __future__ import annotations

import contextlib
import csv
import io

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskmodel.batch import rejected_path, score_file
from riskmodel.exceptions import PublishRefusedError
from tests.conftest import SYNTH_AS_OF
from tests.factories import make_resident

COLUMNS = [
    "resident_id",
    "team_id",
    "sex",
    "age_years",
    "height_cm",
    "weight_kg",
    "sbp_mmhg",
    "dbp_mmhg",
    "bp_date",
    "fpg_mmol_l",
    "glucose_date",
    "smoking",
    "physically_active",
]
BAD_CELLS = st.sampled_from(
    ["abc", '=HYPERLINK("x")', "-", "1e999", "2026-02-30", "2026/13/1", "是否", "999", "-5", "NaN", "  ", "1,5", 'a"b']
)


def _rows(n: int) -> list[dict]:
    rows = []
    for i in range(n):
        record = make_resident(resident_id=f"r{i:03d}", bp_date="2026/6/1" if i % 3 == 0 else "2026-06-01")
        rows.append({name: record.get(name, "") for name in COLUMNS})
    return rows


@st.composite
def hostile_csv(draw):
    rows = _rows(draw(st.integers(5, 25)))
    for _ in range(draw(st.integers(0, 6))):
        row = draw(st.integers(0, len(rows) - 1))
        column = draw(st.sampled_from(COLUMNS[2:]))
        rows[row][column] = draw(BAD_CELLS)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    lines_out = 0
    broken = set(draw(st.sets(st.integers(0, len(rows) - 1), max_size=3)))
    for k, row in enumerate(rows):
        values = [str(row[name]) for name in COLUMNS]
        if k in broken:
            values = values + ["extra"] if draw(st.booleans()) else values[:-3]
        writer.writerow(values)
        lines_out += 1
    text = buffer.getvalue()
    if draw(st.booleans()):
        text = text.rstrip("\n")  # a last line without its newline
    return text, lines_out, rows, broken


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=hostile_csv())
def test_every_csv_row_is_scored_or_rejected_and_nothing_changes(tmp_path_factory, model, config, case):
    text, lines, rows, broken = case
    folder = tmp_path_factory.mktemp("hostile")
    path = folder / "in.csv"
    path.write_text(text, encoding="utf-8")
    output = folder / "out.csv"
    with contextlib.suppress(PublishRefusedError):  # nothing scored: refused, but both files are written
        score_file(path, output, model, config=config, as_of=SYNTH_AS_OF, allow_rejected=True)
    scored = pd.read_csv(output, dtype=str, keep_default_na=False)
    rejected = pd.read_csv(rejected_path(output), dtype=str, keep_default_na=False)
    assert len(scored) + len(rejected) == lines
    assert sorted(int(n) for n in rejected["row_number"]) == sorted(set(int(n) for n in rejected["row_number"]))
    for k in broken:
        assert str(k + 1) in set(rejected["row_number"])  # the malformed line, by its number, no values
    by_id = {row["resident_id"]: row for k, row in enumerate(rows) if k not in broken}
    for _, out in scored.iterrows():
        original = by_id[out["resident_id"]]
        for name in ("age_years", "sbp_mmhg", "dbp_mmhg", "height_cm", "weight_kg"):
            written = str(original[name]).strip()
            if written in ("", "NaN"):
                assert out[name] == ""  # missing stays missing
            else:
                assert float(out[name]) == float(written)
        if original["bp_date"] in ("2026/6/1", "2026-06-01"):
            assert out["bp_date"] == "2026-06-01"  # 2026/6/1 read as written, never moved


ODD_TYPES = [
    pa.array([b"\xff\xfe", b"ok"], pa.binary()),
    pa.array([{"a": 1}, {"a": 2}]),
    pa.array([[1, 2], [3]]),
]


def test_odd_parquet_types_stop_with_one_line(tmp_path, model, config):
    from riskmodel.exceptions import InputFileError

    base = {"resident_id": ["a", "b"], "team_id": ["t", "t"], "sex": ["F", "M"], "age_years": [40.0, 50.0]}
    for k, odd in enumerate(ODD_TYPES):
        path = tmp_path / f"odd{k}.parquet"
        pq.write_table(pa.table({**base, "grid_id": odd}), path)
        try:
            score_file(path, tmp_path / "out.parquet", model, config=config, as_of=SYNTH_AS_OF)
        except InputFileError as error:
            assert "\n" not in str(error) and "grid_id" in str(error)
        else:
            raise AssertionError("an unusable column type must stop the file")


def test_not_parquet_gbk_and_duplicated_header_say_what_to_do(tmp_path, model, config):
    from riskmodel.exceptions import InputFileError

    fake = tmp_path / "fake.parquet"
    fake.write_text("resident_id,team_id\n", encoding="utf-8")
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("resident_id,team_id,sex,age_years,grid_id\nr1,t1,F,40,网格一\n".encode("gbk"))
    twice = tmp_path / "twice.csv"
    twice.write_text("resident_id,team_id,sex,age_years,age_years\nr1,t1,F,40,41\n", encoding="utf-8")
    expected = {fake: "not a readable Parquet file", gbk: "pass --encoding gbk", twice: "appear more than once"}
    for path, words in expected.items():
        try:
            score_file(path, tmp_path / "out.parquet", model, config=config, as_of=SYNTH_AS_OF)
        except InputFileError as error:
            assert words in str(error) and "\n" not in str(error)
        else:
            raise AssertionError(path)
    summary = score_file(gbk, tmp_path / "gbk-out.parquet", model, config=config, as_of=SYNTH_AS_OF, encoding="gbk")
    assert summary.rows_scored == 1
    assert pd.read_parquet(tmp_path / "gbk-out.parquet")["grid_id"].tolist() == ["网格一"]
