"""The test oracle of the history derivation: the reviewed DuckDB query ``state_query`` (SPEC 2.2 and 3).

Until round 5 this query was the derivation (``riskmodel/records/queries.py``); the array engine
(:mod:`riskmodel.records.derivation`) replaced it and must give the same columns and values, which
``test_derivation_engine.py`` checks on random residents. It is kept here unchanged, over relations ``rows``
and ``events``; :func:`oracle_state` runs it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import duckdb
import numpy as np
import pyarrow as pa

from riskmodel.config import RiskConfig
from riskmodel.records.history import DISEASE_NAMES, MEASURES
from riskmodel.records.queries import FACE_TO_FACE, FOLLOWUPS_WINDOW_DAYS, ROW_COLUMNS, control_rule_sql
from riskmodel.rules.guidelines.blood_pressure import (
    DBP_HYPERTENSION_MMHG,
    SBP_HYPERTENSION_MMHG,
)
from riskmodel.rules.guidelines.glycaemia import (
    FPG_DIABETES_MMOL_L,
    FPG_IFG_ADA_MMOL_L,
    FPG_IFG_WHO_MMOL_L,
    HBA1C_DIABETES_PCT,
    HBA1C_PREDIABETES_PCT,
    OGTT_2H_DIABETES_MMOL_L,
    OGTT_2H_IGT_MMOL_L,
    RANDOM_GLUCOSE_DIABETES_MMOL_L,
)

# Every measure of the row and the events as (resident, day, measure, v1, v2, off_treatment, from_event);
# several readings on one day are that day's mean, and an event wins a day it shares with the row.
DAILY_RESULTS = """
daily_raw AS (
    SELECT resident_id, bp_date AS day, 'bp' AS measure, sbp_mmhg AS v1, dbp_mmhg AS v2,
           NOT hypertension_recorded AS off_treatment, 0 AS from_event
      FROM rows WHERE sbp_mmhg IS NOT NULL AND dbp_mmhg IS NOT NULL AND bp_date IS NOT NULL
    UNION ALL SELECT resident_id, glucose_date, 'fpg', fpg_mmol_l, NULL, TRUE, 0 FROM rows
      WHERE fpg_mmol_l IS NOT NULL AND glucose_date IS NOT NULL
    UNION ALL SELECT resident_id, glucose_date, 'ogtt', ogtt_2h_mmol_l, NULL, TRUE, 0 FROM rows
      WHERE ogtt_2h_mmol_l IS NOT NULL AND glucose_date IS NOT NULL
    UNION ALL SELECT resident_id, glucose_date, 'hba1c', hba1c_pct, NULL, TRUE, 0 FROM rows
      WHERE hba1c_pct IS NOT NULL AND glucose_date IS NOT NULL
    UNION ALL SELECT resident_id, exam_date, 'weight', weight_kg, NULL, TRUE, 0 FROM rows
      WHERE weight_kg IS NOT NULL AND exam_date IS NOT NULL
    UNION ALL SELECT resident_id, exam_date, 'waist', waist_cm, NULL, TRUE, 0 FROM rows
      WHERE waist_cm IS NOT NULL AND exam_date IS NOT NULL
    UNION ALL SELECT resident_id, event_date, 'bp', sbp_mmhg, dbp_mmhg,
           NOT (coalesce(on_treatment, FALSE) AND coalesce(disease, 'hypertension') = 'hypertension'), 1
      FROM events WHERE sbp_mmhg IS NOT NULL AND dbp_mmhg IS NOT NULL
    UNION ALL SELECT resident_id, event_date, 'fpg', fpg_mmol_l, NULL, TRUE, 1 FROM events WHERE fpg_mmol_l IS NOT NULL
    UNION ALL SELECT resident_id, event_date, 'ogtt', ogtt_2h_mmol_l, NULL, TRUE, 1 FROM events
      WHERE ogtt_2h_mmol_l IS NOT NULL
    UNION ALL SELECT resident_id, event_date, 'hba1c', hba1c_pct, NULL, TRUE, 1 FROM events WHERE hba1c_pct IS NOT NULL
    UNION ALL SELECT resident_id, event_date, 'random_glucose', random_glucose_mmol_l,
           CASE WHEN coalesce(symptoms, FALSE) THEN 1.0 ELSE 0.0 END, TRUE, 1 FROM events
      WHERE random_glucose_mmol_l IS NOT NULL
    UNION ALL SELECT resident_id, event_date, 'weight', weight_kg, NULL, TRUE, 1 FROM events WHERE weight_kg IS NOT NULL
    UNION ALL SELECT resident_id, event_date, 'waist', waist_cm, NULL, TRUE, 1 FROM events WHERE waist_cm IS NOT NULL
),
daily AS (
    SELECT resident_id, day, measure, avg(v1) AS v1, avg(v2) AS v2, bool_and(off_treatment) AS off_treatment,
           from_event
      FROM daily_raw GROUP BY resident_id, day, measure, from_event
    QUALIFY row_number() OVER (PARTITION BY resident_id, measure, day ORDER BY from_event DESC) = 1
)"""

LATEST_VALUES = """
latest AS (
    SELECT resident_id,
        {columns}
      FROM daily GROUP BY resident_id
)"""

FOLLOWUP_COUNTS = """
followups AS (
    SELECT resident_id,
        {columns}
      FROM events GROUP BY resident_id
)"""

RETURNS = """
returns AS (
    SELECT resident_id, disease, max(event_date) AS returned FROM events
     WHERE kind = 'referral' AND referral_status = 'returned' GROUP BY resident_id, disease
)"""
"""The newest return of a referral per disease: follow-ups before it belong to the referral's episode (SPEC
13.3: after ``returned``, the uncontrolled streak counts only follow-ups after the return date)."""

UNCONTROLLED_STREAK = """
measured_followups AS (
    SELECT e.resident_id, e.disease, e.event_date,
           CASE WHEN e.disease = 'hypertension' THEN {htn_controlled} ELSE {dm_controlled} END AS controlled
      FROM events e
      JOIN (SELECT r0.* REPLACE (r0.diabetes_recorded OR coalesce(f.diabetes_recorded_by_events, FALSE)
                                 AS diabetes_recorded)
              FROM rows r0 LEFT JOIN followups f USING (resident_id)) r USING (resident_id)
      LEFT JOIN returns rt ON rt.resident_id = e.resident_id AND rt.disease = e.disease
     WHERE e.kind = 'followup' AND e.event_date > coalesce(rt.returned, DATE '0001-01-01') AND (
           (e.disease = 'hypertension' AND e.sbp_mmhg IS NOT NULL AND e.dbp_mmhg IS NOT NULL)
        OR (e.disease = 'diabetes' AND {dm_measured}))
),
marked AS (
    SELECT *, max(CASE WHEN controlled THEN event_date END)
                  OVER (PARTITION BY resident_id, disease) AS last_controlled
      FROM measured_followups
),
streaks AS (
    SELECT resident_id,
        {columns}
      FROM marked GROUP BY resident_id
)"""

REACTIONS = """
followup_sequence AS (
    SELECT e.resident_id, e.disease, e.event_date,
           coalesce(e.adverse_reaction, FALSE) AS adverse, coalesce(e.new_complication, FALSE) AS complication,
           coalesce(lead(coalesce(e.adverse_reaction, FALSE)) OVER newest_first, FALSE) AS adverse_before,
           row_number() OVER newest_first AS k
      FROM events e LEFT JOIN returns rt ON rt.resident_id = e.resident_id AND rt.disease = e.disease
     WHERE e.kind = 'followup' AND e.event_date > coalesce(rt.returned, DATE '0001-01-01')
    WINDOW newest_first AS (PARTITION BY e.resident_id, e.disease ORDER BY e.event_date DESC, e.event_id DESC)
),
reactions AS (
    SELECT resident_id,
        {columns}
      FROM followup_sequence WHERE k = 1 GROUP BY resident_id
)"""
"""At the newest follow-up of each disease (after any return): a new complication, or an adverse reaction that
the follow-up before it also recorded, refers (``complication_date``); a first adverse reaction is adjusted and
seen again within two weeks (``adverse_date``) [BPHS 2017]."""

CONFIRMATIONS = """
htn_days AS (
    SELECT resident_id, day, v1, v2 FROM daily
     WHERE measure = 'bp' AND off_treatment AND (v1 >= {sbp_htn} OR v2 >= {dbp_htn})
),
htn_windows AS (
    SELECT resident_id, day, v1, v2, count(*) OVER (
               PARTITION BY resident_id ORDER BY day
               RANGE BETWEEN INTERVAL {window} DAY PRECEDING AND CURRENT ROW) AS days_in_window
      FROM htn_days
),
htn_series AS (
    SELECT resident_id, bool_or(days_in_window >= 3) AS completed, max(day) AS newest,
           coalesce(max(day) FILTER (WHERE days_in_window >= 3), max(day)) AS series_end
      FROM htn_windows GROUP BY resident_id
),
htn_shown AS (
    SELECT w.resident_id, w.day, w.v1, w.v2, row_number() OVER (PARTITION BY w.resident_id ORDER BY w.day DESC) AS k
      FROM htn_windows w JOIN htn_series s USING (resident_id)
     WHERE w.day <= s.series_end AND w.day >= s.series_end - INTERVAL {window} DAY
),
htn_confirmations AS (
    SELECT s.resident_id,
           CASE WHEN s.completed THEN 3 ELSE least(count(*) FILTER (WHERE h.k IS NOT NULL), 3) END
               AS hypertension_confirmations,
           s.newest AS hypertension_qualifying_date,
           CASE WHEN NOT s.completed AND EXISTS (
               SELECT 1 FROM htn_days o WHERE o.resident_id = s.resident_id
                  AND o.day < s.newest - INTERVAL {window} DAY AND o.day >= s.newest - INTERVAL {bp_valid} DAY)
               THEN 1 ELSE 0 END AS hypertension_series_lapsed,
           {htn_shown}
      FROM htn_series s LEFT JOIN htn_shown h ON h.resident_id = s.resident_id AND h.k <= 3
     GROUP BY s.resident_id, s.completed, s.newest
),
dm_results AS (
    SELECT resident_id, day, v1, CASE measure WHEN 'fpg' THEN 1 WHEN 'ogtt' THEN 2 WHEN 'hba1c' THEN 3 ELSE 4 END AS code
      FROM daily
     WHERE (measure = 'fpg' AND v1 >= {fpg_dm}) OR (measure = 'ogtt' AND v1 >= {ogtt_dm})
        OR (measure = 'hba1c' AND v1 >= {hba1c_dm}) OR (measure = 'random_glucose' AND v1 >= {random_dm} AND v2 > 0)
),
dm_days AS (
    SELECT resident_id, day, count(*) AS tests, bool_or(code = 4) AS symptomatic FROM dm_results
     GROUP BY resident_id, day
),
dm_windows AS (
    SELECT resident_id, day, tests, symptomatic, count(*) OVER (
               PARTITION BY resident_id ORDER BY day
               RANGE BETWEEN INTERVAL {glucose_valid} DAY PRECEDING AND CURRENT ROW) AS days_in_window
      FROM dm_days
),
dm_shown AS (
    SELECT resident_id, day, v1, code, row_number() OVER (PARTITION BY resident_id ORDER BY day DESC, code) AS k
      FROM dm_results
),
dm_confirmations AS (
    SELECT w.resident_id,
           CASE WHEN bool_or(w.days_in_window >= 2 OR w.tests >= 2 OR w.symptomatic) THEN 2 ELSE 1 END
               AS diabetes_confirmations,
           max(w.day) AS diabetes_qualifying_date,
           0 AS diabetes_series_lapsed
      FROM dm_windows w GROUP BY w.resident_id
),
dm_qualifying AS (
    SELECT resident_id,
           {dm_shown}
      FROM dm_shown WHERE k <= 3 GROUP BY resident_id
),
prediabetes AS (
    SELECT resident_id, TRUE AS prediabetes_history FROM daily
     WHERE (measure = 'fpg' AND v1 >= {ifg_low} AND v1 < {fpg_dm})
        OR (measure = 'ogtt' AND v1 >= {igt_low} AND v1 < {ogtt_dm})
        {hba1c_prediabetes}
     GROUP BY resident_id
)"""

_MEASURE_OF_VALUE = {
    "sbp_mmhg": ("bp", "v1"),
    "dbp_mmhg": ("bp", "v2"),
    "fpg_mmol_l": ("fpg", "v1"),
    "ogtt_2h_mmol_l": ("ogtt", "v1"),
    "hba1c_pct": ("hba1c", "v1"),
    "random_glucose_mmol_l": ("random_glucose", "v1"),
    "weight_kg": ("weight", "v1"),
    "waist_cm": ("waist", "v1"),
}


def _latest_columns() -> str:
    parts = ["arg_max(v2, day) FILTER (WHERE measure = 'random_glucose') AS random_glucose_symptoms"]
    for measure, (values, date) in MEASURES.items():
        for value in values:
            _, field = _MEASURE_OF_VALUE[value]
            parts.append(f"arg_max({field}, day) FILTER (WHERE measure = '{measure}') AS {value}")
        parts.append(f"max(day) FILTER (WHERE measure = '{measure}') AS {date}")
    return ",\n        ".join(parts)


def _followup_columns() -> str:
    parts = []
    face = ", ".join(f"'{mode}'" for mode in FACE_TO_FACE)
    for d in DISEASE_NAMES:
        followup = f"kind = 'followup' AND disease = '{d}'"
        referral = f"kind = 'referral' AND disease = '{d}'"
        parts += [
            f"max(event_date) FILTER (WHERE {followup}) AS {d}_last_followup_date",
            # The next follow-up date agreed at the newest follow-up (NULL when that one names none) [SPEC 14.4].
            f"arg_max_null(next_followup_date, event_date) FILTER (WHERE {followup}) AS {d}_next_followup_date",
            f"count(*) FILTER (WHERE {followup} AND mode IN ({face}) "
            f"AND event_date > $as_of::DATE - INTERVAL {FOLLOWUPS_WINDOW_DAYS} DAY) AS {d}_followups_12m",
            f"count(*) FILTER (WHERE {followup}) AS {d}_followups",
            f"coalesce(min(event_date) FILTER (WHERE kind = 'diagnosis' AND disease = '{d}'), "
            f"min(event_date) FILTER (WHERE {followup})) AS {d}_registered_date",
            f"max(event_date) FILTER (WHERE emergency_signs AND coalesce(disease, '{d}') = '{d}') AS {d}_emergency_date",
            f"max(event_date) FILTER (WHERE {followup} AND mode IN ({face})) AS {d}_last_face_to_face_date",
            f"max(event_date) FILTER (WHERE kind = 'diagnosis' AND disease = '{d}') AS {d}_diagnosis_date",
            f"CASE WHEN max(event_date) FILTER (WHERE {referral} AND referral_status = 'sent') > coalesce("
            f"max(event_date) FILTER (WHERE {referral} AND referral_status = 'returned'), DATE '0001-01-01') "
            f"THEN max(event_date) FILTER (WHERE {referral} AND referral_status = 'sent') END AS {d}_referral_open_date",
            f"max(event_date) FILTER (WHERE {referral} AND referral_status = 'returned') AS {d}_referral_returned_date",
            f"CAST(arg_max(on_treatment, event_date) FILTER (WHERE disease = '{d}' AND on_treatment IS NOT NULL) "
            f"AS DOUBLE) AS {d}_treated",
            f"CASE WHEN max(event_date) FILTER (WHERE kind = 'referral' AND disease = '{d}' AND referral_status = 'sent') "
            f"> coalesce(max(event_date) FILTER (WHERE kind = 'referral' AND disease = '{d}' "
            f"AND referral_status IN ('arrived', 'returned')), DATE '0001-01-01') "
            f"THEN max(event_date) FILTER (WHERE kind = 'referral' AND disease = '{d}' AND referral_status = 'sent') "
            f"END AS {d}_referral_sent_date",
            f"bool_or(disease = '{d}' AND (kind IN ('diagnosis', 'followup') OR coalesce(on_treatment, FALSE))) "
            f"AS {d}_recorded_by_events",
        ]
    parts += [
        "max(event_date) AS last_event_date",
        "CAST(arg_max(pregnant, event_date) FILTER (WHERE pregnant IS NOT NULL) AS DOUBLE) AS pregnant",
        "max(event_date) FILTER (WHERE pregnant IS NOT NULL) AS pregnant_date",
    ]
    return ",\n        ".join(parts)


def _reaction_columns() -> str:
    parts = []
    for d in DISEASE_NAMES:
        parts += [
            f"max(event_date) FILTER (WHERE disease = '{d}' AND (complication OR (adverse AND adverse_before))) "
            f"AS {d}_complication_date",
            f"max(event_date) FILTER (WHERE disease = '{d}' AND adverse AND NOT complication AND NOT adverse_before) "
            f"AS {d}_adverse_date",
        ]
    return ",\n        ".join(parts)


def _shown_columns(disease: str, table: str, count: int) -> str:
    """The qualifying results shown with a confirmation, newest first, as columns q1 ... q<count>."""
    second = "v2" if disease == "hypertension" else "code"
    parts = []
    for k in range(1, count + 1):
        parts += [
            f"max({table}day) FILTER (WHERE {table}k = {k}) AS {disease}_q{k}_date",
            f"max({table}v1) FILTER (WHERE {table}k = {k}) AS {disease}_q{k}_v1",
            f"max({table}{second}) FILTER (WHERE {table}k = {k}) AS {disease}_q{k}_v2",
        ]
    return ",\n           ".join(parts)


def _streak_columns() -> str:
    parts = []
    for d in DISEASE_NAMES:
        mine = f"disease = '{d}'"
        late = f"{mine} AND NOT controlled AND event_date > coalesce(last_controlled, DATE '0001-01-01')"
        parts += [
            f"count(*) FILTER (WHERE {late}) AS {d}_uncontrolled_visits",
            f"CASE WHEN count(*) FILTER (WHERE {late}) > 0 THEN max(event_date) FILTER (WHERE {mine}) END "
            f"AS {d}_uncontrolled_date",
        ]
    return ",\n        ".join(parts)


def state_query(config: RiskConfig) -> str:
    """The whole derivation as one query over relations ``rows`` and ``events`` (parameter ``$as_of``)."""
    htn_controlled, dm_controlled, dm_measured = control_rule_sql(config.control.profile)
    ifg_low = FPG_IFG_ADA_MMOL_L if config.glycaemia.criteria == "ada" else FPG_IFG_WHO_MMOL_L
    hba1c_pre = (
        f"OR (measure = 'hba1c' AND v1 >= {HBA1C_PREDIABETES_PCT} AND v1 < {HBA1C_DIABETES_PCT})"
        if config.glycaemia.hba1c_prediabetes
        else ""
    )
    ctes = ",".join(
        [
            DAILY_RESULTS,
            LATEST_VALUES.format(columns=_latest_columns()),
            FOLLOWUP_COUNTS.format(columns=_followup_columns()),
            RETURNS,
            REACTIONS.format(columns=_reaction_columns()),
            UNCONTROLLED_STREAK.format(
                htn_controlled=htn_controlled,
                dm_controlled=dm_controlled,
                dm_measured=dm_measured,
                columns=_streak_columns(),
            ),
            CONFIRMATIONS.format(
                glucose_valid=config.tiers.glucose_result_valid_days,
                bp_valid=config.tiers.bp_result_valid_days,
                window=config.tiers.htn_confirmation_window_days,
                fpg_dm=FPG_DIABETES_MMOL_L,
                ogtt_dm=OGTT_2H_DIABETES_MMOL_L,
                hba1c_dm=HBA1C_DIABETES_PCT,
                sbp_htn=SBP_HYPERTENSION_MMHG,
                dbp_htn=DBP_HYPERTENSION_MMHG,
                ifg_low=ifg_low,
                igt_low=OGTT_2H_IGT_MMOL_L,
                hba1c_prediabetes=hba1c_pre,
                random_dm=RANDOM_GLUCOSE_DIABETES_MMOL_L,
                htn_shown=_shown_columns("hypertension", "h.", 3),
                dm_shown=_shown_columns("diabetes", "", 3),
            ),
        ]
    )
    return f"""
WITH {ctes}
SELECT f.resident_id, l.* EXCLUDE (resident_id), f.* EXCLUDE (resident_id), s.* EXCLUDE (resident_id),
       dc.* EXCLUDE (resident_id), dq.* EXCLUDE (resident_id), hc.* EXCLUDE (resident_id),
       rc.* EXCLUDE (resident_id), coalesce(p.prediabetes_history, FALSE) AS prediabetes_history
  FROM followups f
  LEFT JOIN latest l USING (resident_id)
  LEFT JOIN streaks s USING (resident_id)
  LEFT JOIN reactions rc USING (resident_id)
  LEFT JOIN dm_qualifying dq USING (resident_id)
  LEFT JOIN dm_confirmations dc USING (resident_id)
  LEFT JOIN htn_confirmations hc USING (resident_id)
  LEFT JOIN prediabetes p USING (resident_id)
"""


def rows_table(rows: Mapping[str, np.ndarray]) -> pa.Table:
    """The relation ``rows`` from the engine's row inputs (:func:`riskmodel.records.derivation.row_inputs`)."""
    data: dict[str, pa.Array] = {"resident_id": pa.array(rows["resident_id"], pa.string())}
    for name in ROW_COLUMNS[1:]:
        if name.endswith("_recorded"):
            data[name] = pa.array(rows[name], pa.bool_())
        elif name.endswith("_date"):
            data[name] = pa.array(rows[name].astype("datetime64[D]"), pa.date32())
        else:
            data[name] = pa.array(rows[name], pa.float64(), from_pandas=True)
    return pa.table(data)


def oracle_state(rows: Mapping[str, np.ndarray], events: pa.Table, *, as_of: dt.date, config: RiskConfig) -> pa.Table:
    """``state_query`` over the residents' rows and their events, as the derivation ran it before round 5."""
    con = duckdb.connect()
    try:
        con.register("rows", rows_table(rows))
        con.register("events_given", events)
        con.execute("CREATE TEMP VIEW events AS SELECT * FROM events_given SEMI JOIN rows USING (resident_id)")
        return con.sql(state_query(config), params={"as_of": as_of}).to_arrow_table()
    finally:
        con.close()
