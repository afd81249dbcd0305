"""The indicator queries (SPEC 11, amended by SPEC 13.6; DuckDB SQL), one public name each.

:func:`indicator_query` is a disease's whole computation, built from :func:`departures_sql` (who left the
denominators at each reference date), :func:`readings_sql` (dated measurements), :func:`tests_sql`
(screening tests) and :func:`grid_unit_sql`; the control rule of 控制率 is the derivation's own
(:func:`riskmodel.records.queries.control_rule_sql`). :mod:`riskmodel.indicators.compute` runs them; the
module docstring there says who is counted at each date and why.

References
----------
.. [BPHS2017] National Basic Public Health Service Standard, 3rd ed. (2017): the hypertension and type 2
   diabetes management services cover residents aged 35 and over; 控制率 is judged at the last follow-up.
.. [HEARTS] WHO HEARTS technical package, systems for monitoring (2020), and its quarterly cohort report.
"""

from __future__ import annotations

from riskmodel.config import RiskConfig
from riskmodel.records.queries import FACE_TO_FACE, control_rule_sql
from riskmodel.records.schema import NO_GRID_SUFFIX, STATUS_CODES
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


def tests_sql(disease: str) -> str:
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


def indicator_query(disease: str, config: RiskConfig) -> str:
    """The one query of a disease's indicators: per unit (team, grid, county) and reference date A, the
    numerators and denominators of SPEC 11 (parameter ``$as_of``; relations ``ind_residents``, ``events``,
    ``ind_outcomes``, ``ind_dates``)."""
    d = disease
    htn_controlled, dm_controlled, dm_measured = control_rule_sql(config.control.profile)
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
    return _windows_sql(d, measured, at_followup, face) + _per_resident_sql(d) + FLAGS + COUNTS


def _windows_sql(d: str, measured: str, at_followup: str, face: str) -> str:
    """The residents in scope at each reference date, and what their follow-ups, visits, readings and tests
    in the windows before it say."""
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
tests AS ({tests_sql(d)}),
last_test AS (
    SELECT t.resident_id, d.a, max(t.day) AS last_day
      FROM tests t JOIN ind_dates d ON t.day <= d.a GROUP BY t.resident_id, d.a
),
"""


def _per_resident_sql(d: str) -> str:
    """One row per resident and reference date: who counts in which denominator, and what they reached."""
    return f"""per AS (
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
"""


FLAGS = f"""flags AS (
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
"""
"""Each resident's indicator flags (managed, standard, controlled, the HEARTS cascade, screened)."""
COUNTS = """SELECT
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
"""The flags counted per team, grid and county at each reference date (SPEC 11)."""
