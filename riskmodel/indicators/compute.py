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
from riskmodel.indicators.queries import REINSTATE, indicator_query
from riskmodel.records.schema import DISEASES
from riskmodel.worklist.outcomes import REMOVALS

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
            table = con.sql(indicator_query(disease, config), params={"as_of": as_of}).to_arrow_table().to_pylist()
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
    from riskmodel.rules.recorded import recorded

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
