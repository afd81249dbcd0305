"""The control rule in SQL (``control_rule_sql``, the indicators' 控制率) and in arrays (``bp_controlled``,
``glucose_controlled``, the history's uncontrolled streak) agree at every boundary, for both profiles.

References: BPHS 2017 (controlled < 140/90, < 150/90 at age >= 65; FPG < 7.0); CHG 2024 (< 140/90 up to 79,
< 150/90 from 80, < 130/80 with diabetes); CDS 2024 (HbA1c < 7.0 %).
"""

from __future__ import annotations

import itertools

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from riskmodel.records.queries import control_rule_sql
from riskmodel.rules.guidelines.blood_pressure import bp_controlled
from riskmodel.rules.guidelines.glycaemia import glucose_controlled

# Each target and one unit below it: SBP 130 / 140 / 150, DBP 80 / 90; ages either side of 65 and 80; no age.
SBP = (129.0, 130.0, 139.0, 140.0, 149.0, 150.0)
DBP = (79.0, 80.0, 89.0, 90.0)
AGES = (64.0, 65.0, 79.0, 80.0, np.nan)
# FPG and HbA1c at 7.0 and just below, each alone, both, and neither.
GLUCOSE = (np.nan, 6.9, 7.0)


def _sql(profile: str, cases: dict[str, list]) -> dict[str, np.ndarray]:
    htn, dm, measured = control_rule_sql(profile)
    table = pa.table(
        {"k": pa.array(range(len(cases["sbp_mmhg"])))}
        | {name: pa.array(values, from_pandas=True) for name, values in cases.items()}
    )
    con = duckdb.connect()
    con.register("cases", table)
    found = con.sql(
        f"SELECT {htn} AS htn, {dm} AS dm, {measured} AS measured FROM cases e JOIN cases r USING (k) ORDER BY k"
    ).fetchnumpy()
    con.close()
    return {name: np.asarray(values, dtype=object) for name, values in found.items()}


@pytest.mark.parametrize("profile", ["bphs2017", "guideline2024"])
def test_blood_pressure_rule_agrees(profile):
    grid = list(itertools.product(SBP, DBP, AGES, (False, True)))
    cases = {
        "sbp_mmhg": [g[0] for g in grid],
        "dbp_mmhg": [g[1] for g in grid],
        "age_years": [g[2] for g in grid],
        "diabetes_recorded": [g[3] for g in grid],
        "fpg_mmol_l": [np.nan] * len(grid),
        "hba1c_pct": [np.nan] * len(grid),
    }
    sql = _sql(profile, cases)["htn"].astype(bool)
    arrays = bp_controlled(
        np.array(cases["sbp_mmhg"]),
        np.array(cases["dbp_mmhg"]),
        np.array(cases["age_years"]),
        profile=profile,
        diabetic=np.array(cases["diabetes_recorded"]),
    )
    assert not np.isnan(arrays).any()
    differ = [grid[i] for i in np.flatnonzero(sql != (arrays == 1.0))]
    assert not differ, f"SQL and arrays disagree on (sbp, dbp, age, diabetic) {differ}"


@pytest.mark.parametrize("profile", ["bphs2017", "guideline2024"])
def test_glucose_rule_agrees(profile):
    grid = list(itertools.product(GLUCOSE, GLUCOSE))
    cases = {
        "sbp_mmhg": [120.0] * len(grid),
        "dbp_mmhg": [70.0] * len(grid),
        "age_years": [50.0] * len(grid),
        "diabetes_recorded": [True] * len(grid),
        "fpg_mmol_l": [g[0] for g in grid],
        "hba1c_pct": [g[1] for g in grid],
    }
    sql = _sql(profile, cases)
    arrays = glucose_controlled(np.array(cases["fpg_mmol_l"]), np.array(cases["hba1c_pct"]), profile=profile)
    measured = sql["measured"].astype(bool)
    assert (measured == ~np.isnan(arrays)).all(), "the SQL and the arrays measure different follow-ups"
    controlled = np.array([bool(v) for v in sql["dm"][measured]])
    differ = [grid[i] for i in np.flatnonzero(measured)[controlled != (arrays[measured] == 1.0)]]
    assert not differ, f"SQL and arrays disagree on (fpg, hba1c) {differ}"
    # At the boundary itself: an FPG of 7.0 is not controlled, 6.9 is.
    fpg_only = {g[0]: arrays[i] for i, g in enumerate(grid) if np.isnan(g[1])}
    assert fpg_only[7.0] == 0.0 and fpg_only[6.9] == 1.0
