"""Indicators as set-based queries over the residents and their events (SPEC 11; DuckDB SQL).

One query per disease computes, for every reference date A (a trend is the same computation at each month
end), the per-resident flags of SPEC 11 and sums them by team, by grid and for the whole store (GROUPING
SETS): aggregates sum numerators and denominators and never average rates. W is the 365 days up to A; a
*visit* is any event of the resident; a *measurement* of d is a BP (hypertension) or an FPG or HbA1c
(diabetes) from the events or the resident row's dated values.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from riskmodel.config import RiskConfig
from riskmodel.records.derivation import FACE_TO_FACE, _control_sql
from riskmodel.records.schema import DISEASES, NO_GRID_SUFFIX
from riskmodel.rules.guidelines.blood_pressure import DBP_HYPERTENSION_MMHG, SBP_HYPERTENSION_MMHG
from riskmodel.rules.guidelines.glycaemia import FPG_CONTROLLED_BELOW_MMOL_L, HBA1C_CONTROLLED_BELOW_PCT

HEARTS_RECENT_DAYS = 90
"""HEARTS: controlled at the newest measurement in the last 3 months; registered before them [HEARTS]."""
WINDOW_DAYS = 365


def grid_unit_sql(table: str = "") -> str:
    """A resident's grid-level unit in SQL: their grid, or their team's "no grid" unit."""
    prefix = f"{table}." if table else ""
    return f"coalesce({prefix}grid_id, {prefix}team_id || '{NO_GRID_SUFFIX}')"


STANDARD_FOLLOW_UPS = 4
"""规范管理: at least four face-to-face follow-ups in the year [BPHS 2017]."""

RESIDENT_FIELDS = pa.schema(
    [
        ("resident_id", pa.string()),
        ("team_id", pa.string()),
        ("grid_id", pa.string()),
        ("age_years", pa.float64()),
        ("diabetes_recorded", pa.bool_()),
        ("hypertension_recorded", pa.bool_()),
        ("diabetes_registered", pa.date32()),
        ("hypertension_registered", pa.date32()),
        ("diabetes_flag", pa.bool_()),
        ("hypertension_flag", pa.bool_()),
        ("diabetes_interval", pa.float64()),
        ("hypertension_interval", pa.float64()),
        ("sbp_mmhg", pa.float64()),
        ("dbp_mmhg", pa.float64()),
        ("bp_date", pa.date32()),
        ("fpg_mmol_l", pa.float64()),
        ("ogtt_2h_mmol_l", pa.float64()),
        ("hba1c_pct", pa.float64()),
        ("glucose_date", pa.date32()),
    ]
)
"""What the queries read of each resident (relation ``ind_residents``), from a scored batch."""


def month_ends(as_of: dt.date, months: int) -> list[dt.date]:
    """The reference dates of a trend: ``as_of`` and the ``months - 1`` month ends before it, oldest first."""
    dates = [as_of]
    year, month = as_of.year, as_of.month
    while len(dates) < months:
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        dates.append(dt.date(year, month, calendar.monthrange(year, month)[1]))
    return sorted(dates)


def _query(disease: str, config: RiskConfig) -> str:
    d = disease
    htn_controlled, dm_controlled, dm_measured = _control_sql(config.control.profile)
    face = ", ".join(f"'{mode}'" for mode in FACE_TO_FACE)
    if d == "hypertension":
        measured = "e.sbp_mmhg IS NOT NULL AND e.dbp_mmhg IS NOT NULL"
        controlled = htn_controlled
        hearts_ok = f"(v1 < {SBP_HYPERTENSION_MMHG} AND v2 < {DBP_HYPERTENSION_MMHG})"
        results = """
            SELECT resident_id, bp_date AS day, sbp_mmhg AS v1, dbp_mmhg AS v2 FROM ind_residents
             WHERE bp_date IS NOT NULL AND sbp_mmhg IS NOT NULL AND dbp_mmhg IS NOT NULL
            UNION ALL SELECT resident_id, event_date, sbp_mmhg, dbp_mmhg FROM events
             WHERE sbp_mmhg IS NOT NULL AND dbp_mmhg IS NOT NULL"""
        tests = results
    else:
        measured = dm_measured
        controlled = dm_controlled
        hearts_ok = f"(v1 < {FPG_CONTROLLED_BELOW_MMOL_L} OR v2 < {HBA1C_CONTROLLED_BELOW_PCT})"
        results = """
            SELECT resident_id, glucose_date AS day, fpg_mmol_l AS v1, hba1c_pct AS v2 FROM ind_residents
             WHERE glucose_date IS NOT NULL AND (fpg_mmol_l IS NOT NULL OR hba1c_pct IS NOT NULL)
            UNION ALL SELECT resident_id, event_date, fpg_mmol_l, hba1c_pct FROM events
             WHERE fpg_mmol_l IS NOT NULL OR hba1c_pct IS NOT NULL"""
        tests = (
            results
            + """
            UNION ALL SELECT resident_id, glucose_date, ogtt_2h_mmol_l, NULL FROM ind_residents
             WHERE glucose_date IS NOT NULL AND ogtt_2h_mmol_l IS NOT NULL
            UNION ALL SELECT resident_id, event_date, ogtt_2h_mmol_l, NULL FROM events WHERE ogtt_2h_mmol_l IS NOT NULL"""
        )
    return f"""
WITH dates AS (SELECT unnest($dates::DATE[]) AS a),
followups AS (
    SELECT e.resident_id, d.a, count(*) AS n_followups,
           count(*) FILTER (WHERE e.mode IN ({face})) AS n_face_to_face,
           arg_max({controlled}, e.event_date) FILTER (WHERE {measured}) AS last_controlled
      FROM events e JOIN ind_residents r USING (resident_id)
      JOIN dates d ON e.event_date > d.a - INTERVAL {WINDOW_DAYS} DAY AND e.event_date <= d.a
     WHERE e.kind = 'followup' AND e.disease = '{d}'
     GROUP BY e.resident_id, d.a
),
visits AS (
    SELECT e.resident_id, d.a, max(e.event_date) AS last_visit
      FROM events e JOIN dates d ON e.event_date > d.a - INTERVAL {WINDOW_DAYS} DAY AND e.event_date <= d.a
     GROUP BY e.resident_id, d.a
),
results AS ({results}),
recent AS (
    SELECT r.resident_id, d.a, arg_max({hearts_ok}, r.day) AS controlled_recently
      FROM results r JOIN dates d ON r.day > d.a - INTERVAL {HEARTS_RECENT_DAYS} DAY AND r.day <= d.a
     GROUP BY r.resident_id, d.a
),
tests AS ({tests}),
last_test AS (
    SELECT t.resident_id, d.a, max(t.day) AS last_day
      FROM tests t JOIN dates d ON t.day <= d.a GROUP BY t.resident_id, d.a
),
per AS (
    SELECT r.team_id, {grid_unit_sql("r")} AS grid_id, d.a,
        r.{d}_recorded AND (r.{d}_registered IS NULL OR r.{d}_registered <= d.a) AS has_d,
        coalesce(f.n_followups, 0) AS n_followups, coalesce(f.n_face_to_face, 0) AS n_face_to_face,
        f.last_controlled, v.last_visit, rc.controlled_recently, lt.last_day,
        r.{d}_registered, r.{d}_flag, r.{d}_interval
      FROM ind_residents r CROSS JOIN dates d
      LEFT JOIN followups f ON f.resident_id = r.resident_id AND f.a = d.a
      LEFT JOIN visits v ON v.resident_id = r.resident_id AND v.a = d.a
      LEFT JOIN recent rc ON rc.resident_id = r.resident_id AND rc.a = d.a
      LEFT JOIN last_test lt ON lt.resident_id = r.resident_id AND lt.a = d.a
),
flags AS (
    SELECT team_id, grid_id, a,
        has_d AND n_followups >= 1 AS managed,
        has_d AND n_followups >= 1 AND n_face_to_face >= {STANDARD_FOLLOW_UPS} AS standard,
        has_d AND n_followups >= 1 AND coalesce(last_controlled, FALSE) AS controlled,
        has_d AND {d}_registered <= a - INTERVAL {HEARTS_RECENT_DAYS} DAY AS hearts_registered,
        last_visit IS NOT NULL AS visited_12m,
        last_visit > a - INTERVAL {HEARTS_RECENT_DAYS} DAY AS visited_3m,
        controlled_recently,
        NOT has_d AS without_d,
        NOT has_d AND coalesce({d}_flag, FALSE) AS high_risk,
        last_day IS NOT NULL AND last_day + CAST({d}_interval AS INTEGER) > a AS test_not_due
      FROM per
)
SELECT
    CASE WHEN grouping(team_id) = 0 THEN 'team' WHEN grouping(grid_id) = 0 THEN 'grid' ELSE 'county' END AS level,
    CASE WHEN grouping(team_id) = 0 THEN team_id WHEN grouping(grid_id) = 0 THEN grid_id ELSE '*' END AS unit_id,
    a AS ref_date,
    count(*) AS adults,
    count(*) FILTER (WHERE managed) AS managed,
    count(*) FILTER (WHERE standard) AS standard,
    count(*) FILTER (WHERE controlled) AS controlled,
    count(*) FILTER (WHERE hearts_registered AND visited_12m) AS hearts_denominator,
    count(*) FILTER (WHERE hearts_registered AND NOT visited_12m) AS hearts_ltfu_12m,
    count(*) FILTER (WHERE hearts_registered AND visited_12m AND controlled_recently) AS hearts_controlled,
    count(*) FILTER (WHERE hearts_registered AND visited_12m AND NOT controlled_recently) AS hearts_uncontrolled,
    count(*) FILTER (WHERE hearts_registered AND visited_12m AND visited_3m AND controlled_recently IS NULL)
        AS hearts_visit_no_measure,
    count(*) FILTER (WHERE hearts_registered AND visited_12m AND NOT visited_3m AND controlled_recently IS NULL)
        AS hearts_missed_visit,
    count(*) FILTER (WHERE high_risk) AS guideline_high_risk,
    count(*) FILTER (WHERE high_risk AND test_not_due) AS high_risk_screened,
    count(*) FILTER (WHERE without_d) AS without_d,
    count(*) FILTER (WHERE without_d AND test_not_due) AS without_d_screened
  FROM flags
 GROUP BY GROUPING SETS ((team_id, a), (grid_id, a), (a))
"""


def compute_indicators(
    residents: pa.Table | str,
    events: pa.Table | str,
    dates: list[dt.date],
    *,
    config: RiskConfig,
    connection: duckdb.DuckDBPyConnection | None = None,
) -> list[dict[str, Any]]:
    """Every indicator for every unit, disease and date, as rows (level, unit_id, disease, indicator, ref_date,
    numerator, denominator, rate, target). ``residents`` and ``events`` are Arrow tables or the names of
    tables in ``connection``."""
    con = connection or duckdb.connect()
    try:
        for name, relation in (("ind_residents", residents), ("events", events)):
            if isinstance(relation, str):
                con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {relation}")
            else:
                con.register(f"{name}_given", relation)
                con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {name}_given")
        rows: list[dict[str, Any]] = []
        for disease in DISEASES:
            table = con.sql(_query(disease, config), params={"dates": dates}).to_arrow_table().to_pylist()
            for unit in table:
                rows += _indicator_rows(unit, disease, config)
        return rows
    finally:
        for name in ("ind_residents", "events"):
            con.execute(f"DROP VIEW IF EXISTS {name}")
            if f"{name}_given" in {r[0] for r in con.execute("SELECT name FROM (SHOW TABLES)").fetchall()}:
                con.unregister(f"{name}_given")
        if connection is None:
            con.close()


def _indicator_rows(unit: dict[str, Any], disease: str, config: RiskConfig) -> list[dict[str, Any]]:
    prevalence = config.indicators.prevalence[disease]
    targets = config.indicators.targets
    estimated = unit["adults"] * prevalence
    figures: list[tuple[str, float, float | None]] = [
        ("managed", unit["managed"], None),
        ("estimated_patients", estimated, None),
        ("management_rate", unit["managed"], estimated),
        ("standard_management_rate", unit["standard"], unit["managed"]),
        ("control_rate", unit["controlled"], unit["managed"]),
        ("guideline_high_risk", unit["guideline_high_risk"], None),
        ("high_risk_screened", unit["high_risk_screened"], unit["guideline_high_risk"]),
        ("screening_coverage", unit["without_d_screened"], unit["without_d"]),
        ("hearts_controlled", unit["hearts_controlled"], unit["hearts_denominator"]),
        ("hearts_uncontrolled", unit["hearts_uncontrolled"], unit["hearts_denominator"]),
        ("hearts_visit_no_measure", unit["hearts_visit_no_measure"], unit["hearts_denominator"]),
        ("hearts_missed_visit", unit["hearts_missed_visit"], unit["hearts_denominator"]),
        ("hearts_ltfu_12m", unit["hearts_ltfu_12m"], None),
    ]
    return [
        {
            "level": unit["level"],
            "unit_id": unit["unit_id"],
            "disease": disease,
            "indicator": code,
            "ref_date": unit["ref_date"],
            "numerator": float(numerator),
            "denominator": None if denominator is None else float(denominator),
            "rate": None if not denominator else float(numerator) / float(denominator),
            "target": targets.get(code),
        }
        for code, numerator, denominator in figures
    ]


def resident_table(frame: Any, row_columns: Any, assessment: Any) -> pa.Table:
    """The relation ``ind_residents`` of one scored chunk: its frame, the rows' own columns (their values with
    their own dates; the events hold the rest), and its assessment."""
    from riskmodel.records.history import recorded

    state, columns = assessment.state, row_columns
    data: dict[str, Any] = {
        "resident_id": frame["resident_id"].to_numpy(dtype=object),
        "team_id": frame["team_id"].to_numpy(dtype=object),
        "grid_id": frame["grid_id"].to_numpy(dtype=object, na_value=None),
        "age_years": columns["age_years"],
    }
    for k, disease in enumerate(DISEASES):
        data[f"{disease}_recorded"] = recorded(columns, state, disease)
        data[f"{disease}_registered"] = state[f"{disease}_registered_date"]
        data[f"{disease}_flag"] = assessment.guideline_high_risk[disease]
        data[f"{disease}_interval"] = assessment.actions.screening_interval_days[:, k]
    for name in ("sbp_mmhg", "dbp_mmhg", "fpg_mmol_l", "ogtt_2h_mmol_l", "hba1c_pct", "bp_date", "glucose_date"):
        data[name] = columns[name]
    arrays = {}
    for field in RESIDENT_FIELDS:
        values = data[field.name]
        if pa.types.is_date(field.type):
            days = np.asarray(values, dtype="datetime64[D]")
            arrays[field.name] = pa.array(days.astype("datetime64[D]"), pa.date32())
        elif pa.types.is_floating(field.type):
            arrays[field.name] = pa.array(np.asarray(values, dtype=np.float64), pa.float64(), from_pandas=True)
        elif pa.types.is_boolean(field.type):
            arrays[field.name] = pa.array(np.asarray(values, dtype=bool), pa.bool_())
        else:
            arrays[field.name] = pa.array(values, pa.string(), from_pandas=True)
    return pa.table(arrays, schema=RESIDENT_FIELDS)
