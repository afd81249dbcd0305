"""Indicators as set-based queries over the residents and their events (SPEC 11, amended by SPEC 13.6; DuckDB SQL).

One query per disease computes, for every reference date A (a trend is the same computation at each month
end), the per-resident flags of SPEC 11 and sums them by team, by grid and for the whole store (GROUPING
SETS): aggregates sum numerators and denominators and never average rates. W is the 365 days up to A; a
*visit* is any event of the resident but a ``status`` event; a *measurement* of d is a BP (hypertension) or
an FPG or HbA1c (diabetes) from the events or the resident row's dated values.

Who is counted at A (SPEC 13.6):

- a resident who died, moved or transferred (a ``status`` event dated on or before A, or a resident-level
  outcome ``died|moved|transferred`` recorded on or before A that no later ``reinstate`` undid) is in no
  numerator and no denominator at A; before that date they count as before;
- the age at A is ``age_years - (as_of - A) / 365.25`` (``age_years`` is the age at the batch's as-of date);
  the BPHS figures (management and screening) cover residents aged >= 35 at A [BPHS2017], the HEARTS
  figures adults >= 18 at A [HEARTS];
- a pregnant resident (the row's ``pregnant``, applied to every date of the trend) is in no management
  figure (BPHS management and HEARTS) [SPEC 13.4]; the screening figures keep them.

References
----------
.. [BPHS2017] National Basic Public Health Service Standard, 3rd ed. (2017): the hypertension and type 2
   diabetes management services cover residents aged 35 and over; 控制率 is judged at the last follow-up.
.. [HEARTS] WHO HEARTS technical package, systems for monitoring (2020), and its quarterly cohort report.
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
from riskmodel.records.schema import DISEASES, NO_GRID_SUFFIX, STATUS_CODES
from riskmodel.rules.guidelines.blood_pressure import DBP_HYPERTENSION_MMHG, SBP_HYPERTENSION_MMHG
from riskmodel.rules.guidelines.glycaemia import FPG_CONTROLLED_BELOW_MMOL_L, HBA1C_CONTROLLED_BELOW_PCT
from riskmodel.worklist.outcomes import REMOVALS

HEARTS_RECENT_DAYS = 90
"""HEARTS: controlled at the newest measurement in the last 3 months; registered before them [HEARTS]."""
WINDOW_DAYS = 365
BPHS_MANAGEMENT_AGE_YEARS = 35
"""The BPHS hypertension and diabetes management population: residents aged 35 and over [BPHS2017]."""
HEARTS_ADULT_AGE_YEARS = 18
"""HEARTS figures count adults (18 and over) [HEARTS]."""
DAYS_PER_YEAR = 365.25
"""Turns the days between a reference date and the as-of date into years of age."""
REINSTATE = "reinstate"


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
        ("pregnant", pa.bool_()),
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

OUTCOME_FIELDS = pa.schema(
    [
        ("resident_id", pa.string()),
        ("outcome", pa.string()),
        ("recorded_on", pa.date32()),
        ("recorded_at", pa.timestamp("us")),
    ]
)
"""What the queries read of the store's outcomes (relation ``ind_outcomes``): the resident-level ones."""

DATE_FIELDS = pa.schema(
    [
        ("a", pa.date32()),
        ("q_start", pa.date32()),
        ("q_end", pa.date32()),
        ("q1_start", pa.date32()),
        ("q1_end", pa.date32()),
    ]
)
"""The reference dates with their cohort quarters (relation ``ind_dates``; see :func:`cohort_quarters`)."""


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


def _quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def cohort_quarters(a: dt.date) -> tuple[dt.date, dt.date, dt.date, dt.date]:
    """The WHO HEARTS quarterly cohort of reference date A: (Q start, Q end, Q+1 start, Q+1 end).

    Q+1 is the last complete calendar quarter ending on or before A (A itself when A is a quarter's last
    day), Q the quarter before it: the cohort is the patients registered in Q, and it is controlled at
    their newest measurement in Q+1 [HEARTS]. For A = 2026-07-01: Q = 2026-01-01 .. 03-31, Q+1 =
    2026-04-01 .. 06-30; for A = 2026-06-29: Q = 2025 Q4, Q+1 = 2026 Q1.
    """
    q1_end = _quarter_start(a + dt.timedelta(days=1)) - dt.timedelta(days=1)
    q1_start = _quarter_start(q1_end)
    q_end = q1_start - dt.timedelta(days=1)
    return _quarter_start(q_end), q_end, q1_start, q1_end


def _date_table(dates: list[dt.date]) -> pa.Table:
    rows = [dict(zip(DATE_FIELDS.names, (a, *cohort_quarters(a)), strict=True)) for a in dates]
    return pa.Table.from_pylist(rows, schema=DATE_FIELDS)


def readings_sql(disease: str) -> str:
    """One row per dated measurement of the disease (``resident_id``, ``day``, ``ok``), from the resident rows
    and the events: a BP (``ok``: < 140/90) or an FPG or an HbA1c (each its own row, ``ok``: < 7.0) [HEARTS].

    ``ok`` is never NULL: a row exists only for a test that was measured, so a missing test is never a pass.
    """
    if disease == "hypertension":
        ok = f"sbp_mmhg < {SBP_HYPERTENSION_MMHG} AND dbp_mmhg < {DBP_HYPERTENSION_MMHG}"
        return f"""
            SELECT resident_id, bp_date AS day, {ok} AS ok FROM ind_residents
             WHERE bp_date IS NOT NULL AND sbp_mmhg IS NOT NULL AND dbp_mmhg IS NOT NULL
            UNION ALL SELECT resident_id, event_date, {ok} FROM events
             WHERE sbp_mmhg IS NOT NULL AND dbp_mmhg IS NOT NULL"""
    parts = []
    for column, below in (("fpg_mmol_l", FPG_CONTROLLED_BELOW_MMOL_L), ("hba1c_pct", HBA1C_CONTROLLED_BELOW_PCT)):
        parts += [
            f"SELECT resident_id, glucose_date AS day, {column} < {below} AS ok FROM ind_residents "
            f"WHERE glucose_date IS NOT NULL AND {column} IS NOT NULL",
            f"SELECT resident_id, event_date AS day, {column} < {below} AS ok FROM events WHERE {column} IS NOT NULL",
        ]
    return "\n            UNION ALL ".join(parts)


def _tests_sql(disease: str) -> str:
    """Every dated screening test of the disease (section 5): the readings, and for diabetes an OGTT too."""
    if disease == "hypertension":
        return "SELECT resident_id, day FROM readings"
    return """SELECT resident_id, day FROM readings
            UNION ALL SELECT resident_id, glucose_date FROM ind_residents
             WHERE glucose_date IS NOT NULL AND ogtt_2h_mmol_l IS NOT NULL
            UNION ALL SELECT resident_id, event_date FROM events WHERE ogtt_2h_mmol_l IS NOT NULL"""


def departures_sql() -> str:
    """Per resident and reference date A, ``gone``: the newest of their ``status`` events dated on or before A
    and their resident-level outcomes recorded on or before A is a removal (died, moved, transferred) rather
    than a ``reinstate`` (SPEC 13.6). On one day an outcome comes after an event, and outcomes in the order
    they were recorded."""
    statuses = ", ".join(f"'{code}'" for code in STATUS_CODES)
    codes = ", ".join(f"'{code}'" for code in (*REMOVALS, REINSTATE))
    return f"""
status_changes AS (
    SELECT resident_id, event_date AS day, 0 AS source, TIMESTAMP '0001-01-01' AS at, TRUE AS gone
      FROM events WHERE kind = 'status' AND status IN ({statuses})
    UNION ALL
    SELECT resident_id, recorded_on, 1, coalesce(recorded_at, TIMESTAMP '0001-01-01'), outcome <> '{REINSTATE}'
      FROM ind_outcomes WHERE outcome IN ({codes}) AND recorded_on IS NOT NULL
),
departed AS (
    SELECT c.resident_id, d.a, arg_max(c.gone, (c.day, c.source, c.at)) AS gone
      FROM status_changes c JOIN ind_dates d ON c.day <= d.a
     GROUP BY c.resident_id, d.a
)"""


def _query(disease: str, config: RiskConfig) -> str:
    d = disease
    htn_controlled, dm_controlled, dm_measured = _control_sql(config.control.profile)
    face = ", ".join(f"'{mode}'" for mode in FACE_TO_FACE)
    if d == "hypertension":
        measured = "e.sbp_mmhg IS NOT NULL AND e.dbp_mmhg IS NOT NULL"
        controlled = htn_controlled
    else:
        measured = dm_measured
        controlled = dm_controlled
    # 控制率 [BPHS2017; SPEC 13.6]: the newest follow-up in W decides; without a measurement of the defining
    # test it is not controlled. On one day a follow-up with a measurement is the newer, and an uncontrolled
    # one the newer of two measured ones.
    at_followup = f"coalesce(CASE WHEN {measured} THEN {controlled} END, FALSE)"
    return f"""
WITH {departures_sql()},
scope AS (
    SELECT d.*, r.* REPLACE (r.age_years - ($as_of::DATE - d.a) / {DAYS_PER_YEAR} AS age_years),
           NOT coalesce(dp.gone, FALSE) AS present
      FROM ind_residents r CROSS JOIN ind_dates d
      LEFT JOIN departed dp ON dp.resident_id = r.resident_id AND dp.a = d.a
),
followups AS (
    SELECT e.resident_id, r.a, count(*) AS n_followups,
           count(*) FILTER (WHERE e.mode IN ({face})) AS n_face_to_face,
           arg_max({at_followup}, (e.event_date, {measured}, NOT {at_followup})) AS last_controlled
      FROM events e JOIN scope r ON e.resident_id = r.resident_id
       AND e.event_date > r.a - INTERVAL {WINDOW_DAYS} DAY AND e.event_date <= r.a
     WHERE e.kind = 'followup' AND e.disease = '{d}'
     GROUP BY e.resident_id, r.a
),
visits AS (
    SELECT e.resident_id, d.a, max(e.event_date) AS last_visit
      FROM events e JOIN ind_dates d ON e.event_date > d.a - INTERVAL {WINDOW_DAYS} DAY AND e.event_date <= d.a
     WHERE e.kind <> 'status'
     GROUP BY e.resident_id, d.a
),
readings AS ({readings_sql(d)}),
daily AS (SELECT resident_id, day, bool_and(ok) AS ok FROM readings GROUP BY resident_id, day),
recent AS (
    SELECT r.resident_id, d.a, arg_max(r.ok, r.day) AS controlled_recently
      FROM daily r JOIN ind_dates d ON r.day > d.a - INTERVAL {HEARTS_RECENT_DAYS} DAY AND r.day <= d.a
     GROUP BY r.resident_id, d.a
),
cohort AS (
    SELECT r.resident_id, d.a, arg_max(r.ok, r.day) AS controlled_in_q1
      FROM daily r JOIN ind_dates d ON r.day >= d.q1_start AND r.day <= d.q1_end
     GROUP BY r.resident_id, d.a
),
tests AS ({_tests_sql(d)}),
last_test AS (
    SELECT t.resident_id, d.a, max(t.day) AS last_day
      FROM tests t JOIN ind_dates d ON t.day <= d.a GROUP BY t.resident_id, d.a
),
per AS (
    SELECT s.team_id, {grid_unit_sql("s")} AS grid_id, s.a, s.q_start, s.q_end,
        s.present AND s.age_years >= {BPHS_MANAGEMENT_AGE_YEARS} AS bphs_adult,
        s.present AND s.age_years >= {HEARTS_ADULT_AGE_YEARS} AND NOT coalesce(s.pregnant, FALSE) AS hearts_adult,
        s.present AND s.age_years >= {BPHS_MANAGEMENT_AGE_YEARS} AND NOT coalesce(s.pregnant, FALSE) AS bphs_managing,
        coalesce(s.{d}_recorded AND (s.{d}_registered IS NULL OR s.{d}_registered <= s.a), FALSE) AS has_d,
        s.{d}_registered AS registered,
        coalesce(f.n_followups, 0) AS n_followups, coalesce(f.n_face_to_face, 0) AS n_face_to_face,
        coalesce(f.last_controlled, FALSE) AS last_controlled,
        v.last_visit IS NOT NULL AS visited_12m,
        coalesce(v.last_visit > s.a - INTERVAL {HEARTS_RECENT_DAYS} DAY, FALSE) AS visited_3m,
        rc.controlled_recently IS NOT NULL AS measured_3m, coalesce(rc.controlled_recently, FALSE) AS ok_3m,
        coalesce(c.controlled_in_q1, FALSE) AS ok_q1,
        coalesce(s.{d}_flag, FALSE) AS flagged,
        coalesce(lt.last_day + CAST(s.{d}_interval AS INTEGER) > s.a, FALSE) AS test_not_due
      FROM scope s
      LEFT JOIN followups f ON f.resident_id = s.resident_id AND f.a = s.a
      LEFT JOIN visits v ON v.resident_id = s.resident_id AND v.a = s.a
      LEFT JOIN recent rc ON rc.resident_id = s.resident_id AND rc.a = s.a
      LEFT JOIN cohort c ON c.resident_id = s.resident_id AND c.a = s.a
      LEFT JOIN last_test lt ON lt.resident_id = s.resident_id AND lt.a = s.a
),
flags AS (
    SELECT team_id, grid_id, a, bphs_managing,
        bphs_managing AND has_d AND n_followups >= 1 AS managed,
        bphs_managing AND has_d AND n_followups >= 1 AND n_face_to_face >= {STANDARD_FOLLOW_UPS} AS standard,
        bphs_managing AND has_d AND n_followups >= 1 AND last_controlled AS controlled,
        hearts_adult AND has_d AND coalesce(registered <= a - INTERVAL {HEARTS_RECENT_DAYS} DAY, FALSE)
            AS hearts_registered,
        hearts_adult AND has_d AND registered IS NULL AS registration_unknown,
        hearts_adult AND has_d AND coalesce(registered BETWEEN q_start AND q_end, FALSE) AS cohort_registered,
        visited_12m, visited_3m, measured_3m, ok_3m, ok_q1,
        bphs_adult AND NOT has_d AS without_d,
        bphs_adult AND NOT has_d AND flagged AS high_risk,
        test_not_due
      FROM per
)
SELECT
    CASE WHEN grouping(team_id) = 0 THEN 'team' WHEN grouping(grid_id) = 0 THEN 'grid' ELSE 'county' END AS level,
    CASE WHEN grouping(team_id) = 0 THEN team_id WHEN grouping(grid_id) = 0 THEN grid_id ELSE '*' END AS unit_id,
    a AS ref_date,
    count(*) FILTER (WHERE bphs_managing) AS adults,
    count(*) FILTER (WHERE managed) AS managed,
    count(*) FILTER (WHERE standard) AS standard,
    count(*) FILTER (WHERE controlled) AS controlled,
    count(*) FILTER (WHERE hearts_registered AND visited_12m) AS hearts_denominator,
    count(*) FILTER (WHERE hearts_registered AND NOT visited_12m) AS hearts_ltfu_12m,
    count(*) FILTER (WHERE hearts_registered AND visited_12m AND measured_3m AND ok_3m) AS hearts_controlled,
    count(*) FILTER (WHERE hearts_registered AND visited_12m AND measured_3m AND NOT ok_3m) AS hearts_uncontrolled,
    count(*) FILTER (WHERE hearts_registered AND visited_12m AND NOT measured_3m AND visited_3m)
        AS hearts_visit_no_measure,
    count(*) FILTER (WHERE hearts_registered AND visited_12m AND NOT measured_3m AND NOT visited_3m)
        AS hearts_missed_visit,
    count(*) FILTER (WHERE registration_unknown) AS hearts_registration_unknown,
    count(*) FILTER (WHERE cohort_registered) AS cohort_registered,
    count(*) FILTER (WHERE cohort_registered AND ok_q1) AS cohort_controlled,
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
    as_of: dt.date,
    config: RiskConfig,
    outcomes: pa.Table | None = None,
    connection: duckdb.DuckDBPyConnection | None = None,
) -> list[dict[str, Any]]:
    """Every indicator for every unit, disease and date, as rows (level, unit_id, disease, indicator, ref_date,
    numerator, denominator, rate, target).

    Parameters
    ----------
    residents, events
        Arrow tables (``RESIDENT_FIELDS``; validated events) or the names of tables in ``connection``.
    dates
        The reference dates A.
    as_of
        The batch's as-of date, at which the residents' ``age_years`` holds (the age at each A follows from it).
    outcomes
        The store's resident-level outcomes (``OUTCOME_FIELDS``; see :func:`departure_outcomes`): removals
        and reinstatements. None: no outcome.
    """
    con = connection or duckdb.connect()
    given = {
        "ind_residents": residents,
        "events": events,
        "ind_outcomes": outcomes if outcomes is not None else OUTCOME_FIELDS.empty_table(),
        "ind_dates": _date_table(dates),
    }
    try:
        for name, relation in given.items():
            if isinstance(relation, str):
                con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {relation}")
            else:
                con.register(f"{name}_given", relation)
                con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {name}_given")
        rows: list[dict[str, Any]] = []
        for disease in DISEASES:
            table = con.sql(_query(disease, config), params={"as_of": as_of}).to_arrow_table().to_pylist()
            for unit in table:
                rows += _indicator_rows(unit, disease, config)
        return rows
    finally:
        registered = {r[0] for r in con.execute("SELECT name FROM (SHOW TABLES)").fetchall()}
        for name in given:
            con.execute(f"DROP VIEW IF EXISTS {name}")
            if f"{name}_given" in registered:
                con.unregister(f"{name}_given")
        if connection is None:
            con.close()


def departure_outcomes(store: Any) -> pa.Table:
    """The store's resident-level outcomes (removals and reinstatements) as ``OUTCOME_FIELDS``."""
    rows = store.outcomes.about_residents((*REMOVALS, REINSTATE))
    return pa.Table.from_pylist(
        [{name: row[name] for name in OUTCOME_FIELDS.names} for row in rows], schema=OUTCOME_FIELDS
    )


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
        ("hearts_registration_unknown", unit["hearts_registration_unknown"], None),
        ("hearts_cohort_registered", unit["cohort_registered"], None),
        ("hearts_cohort_controlled", unit["cohort_controlled"], unit["cohort_registered"]),
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


REGISTERED_DATE_COLUMNS = {"diabetes": "dm_registered_date", "hypertension": "htn_registered_date"}
"""The resident row's own registration date per disease, for patients managed before their events begin."""


def registered_dates(row_dates: np.ndarray, event_dates: np.ndarray) -> np.ndarray:
    """A patient's registration date (SPEC 13.6): the earliest of the row's ``*_registered_date`` and the
    date derived from the events (the earliest diagnosis, else follow-up); NaT when neither is known."""
    row = np.asarray(row_dates, dtype="datetime64[D]")
    derived = np.asarray(event_dates, dtype="datetime64[D]")
    earliest = np.where(row < derived, row, derived)
    return np.where(np.isnat(row), derived, np.where(np.isnat(derived), row, earliest)).astype("datetime64[D]")


def resident_table(frame: Any, row_columns: Any, assessment: Any) -> pa.Table:
    """The relation ``ind_residents`` of one scored chunk: its frame, the rows' own columns (their values with
    their own dates; the events hold the rest), and its assessment."""
    from riskmodel.records.history import recorded

    state, columns = assessment.state, row_columns
    n = len(columns["age_years"])
    nat = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    data: dict[str, Any] = {
        "resident_id": frame["resident_id"].to_numpy(dtype=object),
        "team_id": frame["team_id"].to_numpy(dtype=object),
        "grid_id": frame["grid_id"].to_numpy(dtype=object, na_value=None),
        "age_years": columns["age_years"],
        "pregnant": columns.get("pregnant", np.full(n, np.nan)) == 1.0,
    }
    for k, disease in enumerate(DISEASES):
        data[f"{disease}_recorded"] = recorded(columns, state, disease)
        data[f"{disease}_registered"] = registered_dates(
            columns.get(REGISTERED_DATE_COLUMNS[disease], nat), state[f"{disease}_registered_date"]
        )
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
