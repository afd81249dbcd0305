"""Synthetic histories: the events of SPEC 2.2 generated through time from the same residents (SPEC 9).

For each chunk of residents (drawn by :func:`riskmodel.synth.population.draw_truth`), over the last
``years`` before the as-of date:

- **Health checks**: yearly for ages >= 65 and managed patients, about every two years for a share of the
  others; BP at most checks, FPG at many, HbA1c and an OGTT at some. Untreated values drift up with time
  (SBP about 1.2 mmHg a year, FPG 0.06 mmol/L), so some residents cross a threshold within the window:
  incident high-normal BP, prediabetes, diabetes and hypertension.
- **Opportunistic BP** at clinic visits (about one visit every two years).
- **Confirmation**: after a reading >= 140/90 some residents come back for a second and a third reading
  within a few weeks; after an FPG >= 7.0, some for a second FPG. Both confirmed and unconfirmed measured
  cases result.
- **Managed patients** (a recorded diagnosis): a diagnosis event, then follow-ups about every 90 days (clinic,
  home, phone or online) from the diagnosis or the window's start, with realistic lapses (a quarter stop
  coming for a while, so about 25-35 % are overdue at the as-of date). Each follow-up measures the disease;
  control at a follow-up is drawn from the patient's own propensity (about half of hypertensive follow-ups
  controlled; treated diabetes FPG and HbA1c < 7 in about half), so uncontrolled streaks come from the
  readings. Two uncontrolled follow-ups in a row lead to a referral for some, most of which arrive.

The resident row is then rewritten to be what the events imply at the as-of date: the latest health check,
the newest BP and glucose results with their dates, the last follow-up and the uncontrolled streak counted
from the readings (:func:`row_from_events`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from riskmodel.records.events import EVENT_ARROW_SCHEMA
from riskmodel.rules.guidelines.blood_pressure import DBP_HYPERTENSION_MMHG, SBP_HYPERTENSION_MMHG, bp_controlled
from riskmodel.rules.guidelines.glycaemia import FPG_DIABETES_MMOL_L

FOLLOW_UP_MODES = ("clinic", "home", "phone", "online")
FOLLOW_UP_MODE_SHARES = (0.6, 0.15, 0.2, 0.05)
LAPSED_SHARE = 0.27
"""Managed patients who stop coming for a while before the as-of date (overdue at any date: 25-35 %)."""
CONTROL_PROPENSITY = (2.0, 2.0)
"""Beta(a, b) of each patient's chance of being controlled at a follow-up: mean 0.5 (SPEC 9)."""


@dataclass
class _Events:
    """Events being generated, column by column (numpy), one entry per event."""

    columns: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def add(self, resident: np.ndarray, date: np.ndarray, kind: str, **values: Any) -> None:
        n = len(resident)
        if n == 0:
            return
        block = {"resident": resident, "event_date": date.astype("datetime64[D]"), "kind": np.full(n, kind, object)}
        if "sbp_mmhg" in values:  # plausible readings, SBP above DBP (SPEC 2.1 ranges)
            sbp = np.clip(values["sbp_mmhg"], 85, 260)
            values["dbp_mmhg"] = np.clip(np.minimum(values["dbp_mmhg"], sbp - 15), 40, 150)
            values["sbp_mmhg"] = sbp
        for name, value in values.items():
            block[name] = value if isinstance(value, np.ndarray) else np.full(n, value, dtype=object)
        for name in ("resident", *(c for c in self._names() if c not in block)):
            block.setdefault(name, np.full(n, None, dtype=object))
        for name, value in block.items():
            self.columns.setdefault(name, []).append(value)

    @staticmethod
    def _names() -> tuple[str, ...]:
        return tuple(name for name in EVENT_ARROW_SCHEMA.names if name not in ("event_id", "resident_id"))

    def gather(self) -> dict[str, np.ndarray]:
        if not self.columns:
            return {}
        return {name: np.concatenate(parts) for name, parts in self.columns.items()}


def _days(values: np.ndarray) -> np.ndarray:
    return np.round(values).astype("timedelta64[D]")


def _drift(rng: np.random.Generator, n: int, per_year: float, spread: float) -> np.ndarray:
    return np.maximum(rng.normal(per_year, spread, n), 0.0)


def generate_history(
    rng: np.random.Generator, truth_columns: dict[str, np.ndarray], as_of: dt.date, years: int
) -> dict[str, np.ndarray]:
    """The events of one chunk of residents (``resident`` holds each event's row position in the chunk).

    Drawn in a fixed order (drifts, health checks with their confirmation visits, clinic readings, then each
    disease's follow-ups), so a seed gives the same history."""
    n = len(truth_columns["age_years"])
    A = np.datetime64(as_of, "D")
    window = 365 * years
    drift = _Drift(truth_columns, _drift(rng, n, 1.2, 0.8), _drift(rng, n, 0.06, 0.05))
    events = _Events()
    _health_checks(rng, events, truth_columns, drift, A, years)
    _clinic_readings(rng, events, truth_columns, drift, A, years)
    dm = truth_columns["diagnosed_diabetes"].astype(bool)
    htn = truth_columns["diagnosed_hypertension"].astype(bool)
    for disease, patients in (("diabetes", dm), ("hypertension", htn)):
        _follow_ups(rng, events, disease, np.flatnonzero(patients), truth_columns, A, window)
    return events.gather()


@dataclass(frozen=True)
class _Drift:
    """Each resident's values today and how fast their BP and FPG drifted up over the years before."""

    truth_columns: dict[str, np.ndarray]
    sbp: np.ndarray
    fpg: np.ndarray

    def past(
        self, rng: np.random.Generator, name: str, days_before: np.ndarray, noise: float, who: np.ndarray
    ) -> np.ndarray:
        """The value ``days_before`` today of the residents ``who`` (today's, less the drift, plus noise)."""
        value, drift = self.truth_columns[name], self.sbp if name == "sbp_mmhg" else self.fpg
        return value[who] - drift[who] * days_before / 365.0 + rng.normal(0, noise, len(who))


def _health_checks(
    rng: np.random.Generator,
    events: _Events,
    truth_columns: dict[str, np.ndarray],
    drift: _Drift,
    A: np.datetime64,
    years: int,
) -> None:
    """Health checks: yearly (>= 65 or managed), else every ~2 years for 60 %; after a high reading, an
    undiagnosed resident may come back to confirm it."""
    n, window = len(truth_columns["age_years"]), 365 * years
    age = truth_columns["age_years"]
    dm = truth_columns["diagnosed_diabetes"].astype(bool)
    htn = truth_columns["diagnosed_hypertension"].astype(bool)
    sbp_now, dbp_now = truth_columns["sbp_mmhg"], truth_columns["dbp_mmhg"]
    hba1c_now, ogtt_now = truth_columns["hba1c_pct"], truth_columns["ogtt_2h_mmol_l"]
    yearly = (age >= 65) | dm | htn
    interval = np.where(yearly, 365.0, 730.0)
    attends = yearly | (rng.random(n) < 0.6)
    phase = rng.random(n) * interval
    for k in range(years + 1):
        before = phase + k * interval + rng.normal(0, 20, n)
        who = np.flatnonzero(attends & (before >= 0) & (before < window))
        if not len(who):
            continue
        d = before[who]
        date = A - _days(d)
        treated_htn = truth_columns["on_antihypertensive"][who].astype(bool)
        sbp = np.where(treated_htn, sbp_now[who] + rng.normal(0, 6, len(who)), drift.past(rng, "sbp_mmhg", d, 7.0, who))
        dbp = np.minimum(dbp_now[who] - 0.35 * (sbp_now[who] - sbp) + rng.normal(0, 4, len(who)), sbp - 15)
        has_bp = rng.random(len(who)) < 0.95
        fpg = np.clip(drift.past(rng, "fpg_mmol_l", d, 0.3, who), 3.0, 33.0)
        has_fpg = rng.random(len(who)) < 0.75
        has_hba1c = rng.random(len(who)) < 0.25
        has_ogtt = has_fpg & (rng.random(len(who)) < np.where(fpg >= 5.6, 0.12, 0.02))
        events.add(
            who,
            date,
            "health_check",
            sbp_mmhg=np.where(has_bp, np.round(sbp), np.nan),
            dbp_mmhg=np.where(has_bp, np.round(dbp), np.nan),
            fpg_mmol_l=np.where(has_fpg, np.round(fpg, 1), np.nan),
            hba1c_pct=np.where(has_hba1c, np.round(np.clip(hba1c_now[who] - 0.03 * d / 365, 4.0, 15.0), 1), np.nan),
            ogtt_2h_mmol_l=np.where(has_ogtt, np.round(np.clip(ogtt_now[who] - 0.1 * d / 365, 3.0, 40.0), 1), np.nan),
            weight_kg=truth_columns["weight_kg"][who],
            waist_cm=truth_columns["waist_cm"][who],
        )
        # Confirmation visits after a high reading at this check (undiagnosed residents).
        high_bp = has_bp & ((sbp >= SBP_HYPERTENSION_MMHG) | (dbp >= DBP_HYPERTENSION_MMHG)) & ~htn[who]
        second = high_bp & (rng.random(len(who)) < 0.35) & (d > 25)
        third = second & (rng.random(len(who)) < 0.55)
        for step, mask in ((1, second), (2, third)):
            gap = d[mask] - step * rng.uniform(5, 12, int(mask.sum()))
            events.add(
                who[mask],
                A - _days(gap),
                "screening",
                sbp_mmhg=np.round(sbp[mask] + rng.normal(0, 5, int(mask.sum()))),
                dbp_mmhg=np.round(np.minimum(dbp[mask] + rng.normal(0, 3, int(mask.sum())), sbp[mask] - 15)),
            )
        high_fpg = has_fpg & (fpg >= FPG_DIABETES_MMOL_L) & ~dm[who] & (rng.random(len(who)) < 0.3) & (d > 30)
        events.add(
            who[high_fpg],
            A - _days(d[high_fpg] - rng.uniform(7, 28, int(high_fpg.sum()))),
            "lab",
            fpg_mmol_l=np.round(fpg[high_fpg] + rng.normal(0, 0.4, int(high_fpg.sum())), 1),
        )


def _clinic_readings(
    rng: np.random.Generator,
    events: _Events,
    truth_columns: dict[str, np.ndarray],
    drift: _Drift,
    A: np.datetime64,
    years: int,
) -> None:
    """Opportunistic BP at clinic visits (Poisson, half a visit a year)."""
    n, window = len(truth_columns["age_years"]), 365 * years
    sbp_now, dbp_now = truth_columns["sbp_mmhg"], truth_columns["dbp_mmhg"]
    visits = rng.poisson(0.5 * years, n)
    for k in range(int(visits.max(initial=0))):
        who = np.flatnonzero(visits > k)
        d = rng.uniform(0, window, len(who))
        sbp = drift.past(rng, "sbp_mmhg", d, 7.0, who)
        events.add(
            who,
            A - _days(d),
            "screening",
            sbp_mmhg=np.round(sbp),
            dbp_mmhg=np.round(
                np.minimum(dbp_now[who] - 0.35 * (sbp_now[who] - sbp) + rng.normal(0, 4, len(who)), sbp - 15)
            ),
        )


def _follow_ups(
    rng: np.random.Generator,
    events: _Events,
    disease: str,
    who: np.ndarray,
    truth: dict[str, np.ndarray],
    A: np.datetime64,
    window: int,
) -> None:
    """A diagnosis event, then follow-ups every ~90 days with lapses, readings and referrals."""
    m = len(who)
    if not m:
        return
    treated = truth["on_glucose_lowering" if disease == "diabetes" else "on_antihypertensive"][who].astype(bool)
    since = rng.uniform(0, 3650, m)  # days since diagnosis
    events.add(who, A - _days(since), "diagnosis", disease=disease, on_treatment=treated)
    start = np.minimum(since, window)
    lapse_at = np.where(rng.random(m) < LAPSED_SHARE, rng.uniform(95, 400, m), 0.0)  # no follow-up since
    propensity = rng.beta(*CONTROL_PROPENSITY, m)
    streak = np.zeros(m)
    ago = start - rng.uniform(0, 90, m)
    for _ in range(int(window / 55) + 2):
        live = (ago >= lapse_at) & (ago >= 0)
        if not live.any():
            break
        idx = np.flatnonzero(live)
        who_now, d = who[idx], ago[idx]
        k = len(idx)
        mode = rng.choice(len(FOLLOW_UP_MODES), size=k, p=FOLLOW_UP_MODE_SHARES)
        controlled = rng.random(k) < propensity[idx]
        measured = rng.random(k) < (0.85 if disease == "diabetes" else 0.92)
        values: dict[str, np.ndarray] = {}
        if disease == "hypertension":
            elderly_target = np.where(truth["age_years"][who_now] >= 65, 150.0, 140.0)
            sbp = np.where(controlled, rng.uniform(110, 138, k), elderly_target + rng.gamma(2.0, 7.0, k))
            dbp = np.where(controlled, rng.uniform(64, 88, k), rng.uniform(78, 102, k))
            dbp = np.minimum(dbp, sbp - 20)
            values = {
                "sbp_mmhg": np.where(measured, np.round(sbp), np.nan),
                "dbp_mmhg": np.where(measured, np.round(dbp), np.nan),
            }
            ok = bp_controlled(values["sbp_mmhg"], values["dbp_mmhg"], truth["age_years"][who_now])
        else:
            fpg = np.where(controlled, rng.uniform(5.0, 6.9, k), FPG_DIABETES_MMOL_L + rng.gamma(2.0, 1.3, k))
            hba1c = np.where(controlled, rng.uniform(5.8, 6.9, k), rng.uniform(7.0, 10.5, k))
            values = {
                "fpg_mmol_l": np.where(measured, np.round(fpg, 1), np.nan),
                "hba1c_pct": np.where(measured & (rng.random(k) < 0.15), np.round(hba1c, 1), np.nan),
            }
            ok = np.where(measured, (values["fpg_mmol_l"] < FPG_DIABETES_MMOL_L).astype(float), np.nan)
        date = A - _days(d)
        events.add(
            who_now,
            date,
            "followup",
            disease=disease,
            mode=np.array(FOLLOW_UP_MODES, dtype=object)[mode],
            on_treatment=treated[idx],
            adverse_reaction=rng.random(k) < 0.01,
            new_complication=rng.random(k) < 0.01,
            emergency_signs=rng.random(k) < 0.001,
            **values,
        )
        streak[idx] = np.where(ok == 0.0, streak[idx] + 1, np.where(ok == 1.0, 0, streak[idx]))
        refer = (streak[idx] == 2) & (ok == 0.0) & (rng.random(k) < 0.25)
        if refer.any():
            r = idx[refer]
            events.add(who[r], A - _days(ago[r]), "referral", disease=disease, referral_status="sent")
            arrived = rng.random(len(r)) < 0.6
            later = ago[r][arrived] - rng.uniform(3, 20, int(arrived.sum()))
            keep = later >= 0
            events.add(
                who[r][arrived][keep], A - _days(later[keep]), "referral", disease=disease, referral_status="arrived"
            )
        ago = ago - (60 + rng.gamma(4.0, 7.0, m))


def events_arrow(events: dict[str, np.ndarray], resident_ids: pa.Array) -> pa.Table:
    """The generated events as an Arrow table of SPEC 2.2, ordered by resident then date, with event ids."""
    if not events:
        return EVENT_ARROW_SCHEMA.empty_table()
    order = np.lexsort((events["event_date"], events["resident"]))
    resident = events["resident"][order]
    ids = pc.take(resident_ids, pa.array(resident))
    first = np.r_[True, resident[1:] != resident[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(resident)), 0))
    sequence = np.arange(len(resident)) - start + 1
    event_ids = pc.binary_join_element_wise(ids, pc.utf8_lpad(pc.cast(pa.array(sequence), pa.string()), 3, "0"), "-E")
    columns: dict[str, Any] = {"event_id": event_ids, "resident_id": ids}
    for field_ in EVENT_ARROW_SCHEMA:
        if field_.name in columns:
            continue
        values = events.get(field_.name)
        if values is None:
            columns[field_.name] = pa.nulls(len(order), field_.type)
            continue
        values = values[order]
        if pa.types.is_date(field_.type):
            days = values.astype("datetime64[D]")
            # NaT's int64 is the smallest integer: masked, so that an unset date is null, never 1970-01-01.
            columns[field_.name] = pa.array(days.astype(np.int64).astype(np.int32), pa.date32(), mask=np.isnat(days))
        elif pa.types.is_floating(field_.type):
            floats = (
                np.asarray([np.nan if v is None else v for v in values], dtype=float)
                if values.dtype == object
                else values.astype(float)
            )
            columns[field_.name] = pa.array(floats, pa.float64(), mask=np.isnan(floats))
        elif pa.types.is_boolean(field_.type):
            columns[field_.name] = pa.array([None if v is None else bool(v) for v in values], pa.bool_())
        else:
            columns[field_.name] = pa.array(values, pa.string())
    return pa.table(columns, schema=EVENT_ARROW_SCHEMA)


def row_from_events(columns: dict[str, Any], events: dict[str, np.ndarray], as_of: dt.date) -> dict[str, Any]:
    """The resident row as the events imply it at the as-of date (SPEC 9): latest check, latest BP and
    glucose results with their dates, last follow-up and the uncontrolled streak counted from the readings."""
    out = dict(columns)
    n = len(columns["age_years"])
    nat = np.datetime64("NaT")
    if not events:
        return out
    resident, date, kind = events["resident"], events["event_date"].astype("datetime64[D]"), events["kind"]

    def newest(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per resident, the newest date among the masked events and the position of that event."""
        best = np.full(n, nat, dtype="datetime64[D]")
        where = np.full(n, -1, dtype=np.int64)
        positions = np.flatnonzero(mask)
        order = positions[np.lexsort((date[positions], resident[positions]))]
        last = np.r_[resident[order][1:] != resident[order][:-1], True] if len(order) else np.array([], bool)
        chosen = order[last]
        best[resident[chosen]] = date[chosen]
        where[resident[chosen]] = chosen
        return best, where

    def values_at(where: np.ndarray, name: str) -> np.ndarray:
        source = (
            np.asarray([np.nan if v is None else v for v in events[name]], dtype=float)
            if events[name].dtype == object
            else events[name].astype(float)
        )
        # SPEC 2.2: several readings on one day count as that day's mean.
        day = np.where(where >= 0, date[np.maximum(where, 0)], nat)
        same = ~np.isnan(source) & (date == day[resident])
        total = np.bincount(resident[same], weights=source[same], minlength=n)
        count = np.bincount(resident[same], minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where((where >= 0) & (count > 0), total / count, np.nan)

    exam, exam_at = newest(kind == "health_check")
    out["exam_date"] = exam
    for name in (
        "height_cm",
        "weight_kg",
        "waist_cm",
        "bmi_kg_m2",
        "tc_mmol_l",
        "tg_mmol_l",
        "hdl_mmol_l",
        "ldl_mmol_l",
    ):
        out[name] = np.where(np.isnat(exam), np.nan, out[name])
    sbp = np.asarray(events["sbp_mmhg"], dtype=float)
    bp_date, bp_at = newest(~np.isnan(sbp))
    out["sbp_mmhg"], out["dbp_mmhg"], out["bp_date"] = (
        values_at(bp_at, "sbp_mmhg"),
        values_at(bp_at, "dbp_mmhg"),
        bp_date,
    )
    glucose = (
        ~np.isnan(np.asarray(events["fpg_mmol_l"], float))
        | ~np.isnan(np.asarray(events["hba1c_pct"], float))
        | ~np.isnan(np.asarray(events["ogtt_2h_mmol_l"], float))
    )
    glucose_date, glucose_at = newest(glucose)
    for name in ("fpg_mmol_l", "hba1c_pct", "ogtt_2h_mmol_l"):
        out[name] = values_at(glucose_at, name)
    out["glucose_date"] = glucose_date
    followup, _ = newest(kind == "followup")
    out["last_followup_date"] = followup
    out["uncontrolled_visits"] = np.where(
        np.isnat(followup), np.nan, _streaks(events, np.asarray(columns["age_years"]))
    )
    return out


def _streaks(events: dict[str, np.ndarray], age: np.ndarray) -> np.ndarray:
    """The longer of the two diseases' uncontrolled streaks, counted back from the newest measured follow-up
    (BPHS 2017 targets; a follow-up without the disease's measurement is skipped)."""
    n = len(age)
    best = np.zeros(n)
    kind, disease = events["kind"], events["disease"]
    for name in ("diabetes", "hypertension"):
        mask = (kind == "followup") & (disease == name)
        if name == "hypertension":
            sbp, dbp = np.asarray(events["sbp_mmhg"], float), np.asarray(events["dbp_mmhg"], float)
            measured = mask & ~np.isnan(sbp)
            controlled = np.zeros(len(kind), bool)
            controlled[measured] = bp_controlled(sbp[measured], dbp[measured], age[events["resident"][measured]]) == 1.0
        else:
            fpg = np.asarray(events["fpg_mmol_l"], float)
            measured = mask & ~np.isnan(fpg)
            controlled = measured & (fpg < FPG_DIABETES_MMOL_L)
        positions = np.flatnonzero(measured)
        order = positions[
            np.lexsort(
                (
                    -events["event_date"][positions].astype("datetime64[D]").astype(np.int64),
                    events["resident"][positions],
                )
            )
        ]
        resident = events["resident"][order]
        ok = controlled[order]
        # Streak = uncontrolled follow-ups before the first controlled one, newest first, per resident.
        first = np.r_[True, resident[1:] != resident[:-1]]
        group = np.cumsum(first) - 1
        seen_ok = np.maximum.accumulate(np.where(ok, np.arange(len(ok)), -1))
        group_start = np.flatnonzero(first)[group] if len(order) else np.array([], int)
        uncontrolled_run = (~ok) & (seen_ok < group_start)
        counts = np.bincount(resident[uncontrolled_run], minlength=n).astype(float)
        best = np.maximum(best, counts)
    return best
