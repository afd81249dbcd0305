"""Indicators for a team, a grid or the county as of a date, with their trend (SPEC 11).

A published batch stores its indicators for its as-of date and the month ends before it; asked for those,
they are read back. Asked for another date, they are recomputed from the batch's stored residents and events
by the same queries (:mod:`riskmodel.indicators.compute`). The work-list follow-through figures come from
the team's outcomes.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.config import RiskConfig
from riskmodel.indicators.compute import compute_indicators, departure_outcomes, month_ends, resident_table
from riskmodel.indicators.definitions import BY_CODE, INDICATORS
from riskmodel.records.reading import resident_columns
from riskmodel.scoring import assess_rules
from riskmodel.store.batches import ResultStore, stored_probabilities, stored_state

RETURN_WITHIN_DAYS = 15
"""``returned_within_15_days``: an ``agreed`` resident's next follow-up within 15 days (SPEC 11)."""


def _recompute(
    store: ResultStore, batch: dict[str, Any], level: str, units: list[str], dates: list[dt.date], config: RiskConfig
) -> list[dict[str, Any]]:
    frame = store.residents_of(level, units)
    if frame.empty:
        return []
    columns = resident_columns(frame)
    assessment = assess_rules(
        columns,
        stored_probabilities(frame),
        as_of=batch["as_of"],
        config=config,
        state=stored_state(frame),
    )
    residents = resident_table(frame, columns, assessment)
    events = store.team_events(batch["batch_id"], sorted(set(frame["team_id"].tolist())))
    rows = compute_indicators(
        residents, events, dates, as_of=batch["as_of"], config=config, outcomes=departure_outcomes(store)
    )
    return [row for row in rows if row["level"] == level and row["unit_id"] in units]


def _follow_through(
    store: ResultStore, batch: dict[str, Any], team_ids: list[str], dates: list[dt.date]
) -> dict[tuple[str, dt.date], tuple[float, float, float]]:
    """Per (team, date): outcomes recorded in the 30 days up to it, and agreed residents who came back within
    15 days (with a follow-up event) of all agreed residents whose 15 days have passed.

    Vectorised: each ``agreed`` is matched once to the resident's first follow-up on or after it (an as-of
    join), then every date counts with array comparisons.
    """
    figures: dict[tuple[str, dt.date], tuple[float, float, float]] = {}
    followups = store.agreed_followups(batch["batch_id"], team_ids).sort_values("event_date")
    ends = np.array(dates, dtype="datetime64[D]")
    window = np.timedelta64(RETURN_WITHIN_DAYS, "D")
    for team in team_ids:
        outcomes = pd.DataFrame(store.outcomes.for_team(team), columns=["resident_id", "outcome", "recorded_on"])
        if outcomes.empty:
            figures.update({(team, day): (0.0, 0.0, 0.0) for day in dates})
            continue
        recorded = np.sort(outcomes["recorded_on"].to_numpy(dtype="datetime64[D]"))
        upto = np.searchsorted(recorded, ends, side="right")
        after_start = np.searchsorted(recorded, ends - np.timedelta64(30, "D"), side="right")
        agreed = outcomes[outcomes["outcome"] == "agreed"]
        agreed = agreed.assign(recorded_on=pd.to_datetime(agreed["recorded_on"])).sort_values("recorded_on")
        matched = pd.merge_asof(
            agreed,
            followups.rename(columns={"event_date": "next_followup"}).assign(_on=lambda f: f["next_followup"]),
            left_on="recorded_on",
            right_on="_on",
            by="resident_id",
            direction="forward",
        )
        on = matched["recorded_on"].to_numpy(dtype="datetime64[D]")
        back = (matched["next_followup"].to_numpy(dtype="datetime64[D]") - on) <= window
        due = on[None, :] <= (ends - window)[:, None]
        agreed_n = due.sum(axis=1)
        returned_n = (due & back[None, :]).sum(axis=1)
        for k, day in enumerate(dates):
            figures[(team, day)] = (float(upto[k] - after_start[k]), float(returned_n[k]), float(agreed_n[k]))
    return figures


def unit_indicators(
    store: ResultStore,
    *,
    level: str,
    units: list[str] | None,
    as_of: dt.date | None = None,
    months: int | None = None,
    config: RiskConfig,
) -> dict[str, Any]:
    """Indicators of the units (teams or grids; all of them when ``None``; ``county`` for the whole store)
    as of a date, each with its trend over ``months`` month ends, numerators and denominators kept."""
    batch = store.latest_batch()
    if batch is None:
        from riskmodel.exceptions import StoreError

        raise StoreError("the result store holds no published batch yet; run 'riskmodel score' first")
    day = as_of or batch["as_of"]
    months = months or config.indicators.trend_months
    dates = month_ends(day, months)
    stored = month_ends(batch["as_of"], config.indicators.trend_months)
    unit_ids = None if level == "county" else units
    if set(dates) <= set(stored):
        rows = store.stored_indicators(batch["batch_id"], level=level, unit_ids=unit_ids, dates=dates)
    else:
        wanted = units if units is not None else store.units(level)
        rows = _recompute(store, batch, level if level != "county" else "county", wanted or ["*"], dates, config)
    by_unit = _trends(rows)
    if level == "team":
        team_ids = list(by_unit) if units is None else units
        _add_follow_through(by_unit, _follow_through(store, batch, team_ids, dates), team_ids, dates)
    units_out = [
        {"level": level, "unit_id": unit, "indicators": _unit_items(entries, config.indicators.targets)}
        for unit, entries in sorted(by_unit.items())
    ]
    return {
        "as_of": str(day),
        "batch_id": batch["batch_id"],
        "batch_as_of": str(batch["as_of"]),
        "months": months,
        "units": units_out,
    }


Trends = dict[str, dict[str, dict[str, Any]]]
"""Per unit, per ``disease:indicator``: the entry with its trend points."""


def _trends(rows: list[dict[str, Any]]) -> Trends:
    """The stored or recomputed rows as each unit's indicators, each with its points by reference date."""
    by_unit: Trends = defaultdict(dict)
    for row in rows:
        entry = by_unit[row["unit_id"]].setdefault(
            f"{row['disease']}:{row['indicator']}",
            {"disease": row["disease"], "indicator": row["indicator"], "trend": []},
        )
        numerator, denominator = row["numerator"], row["denominator"]
        entry["trend"].append(
            {
                "ref_date": str(row["ref_date"]),
                "numerator": numerator,
                "denominator": denominator,
                "rate": None if not denominator else numerator / denominator,
            }
        )
    return by_unit


def _add_follow_through(
    by_unit: Trends,
    through: dict[tuple[str, dt.date], tuple[float, float, float]],
    team_ids: list[str],
    dates: list[dt.date],
) -> None:
    """The teams' own follow-through (outcomes recorded; agreed referrals back within 15 days) at each date."""
    for team in team_ids:
        for disease in ("diabetes", "hypertension"):
            recorded = by_unit[team].setdefault(
                f"{disease}:outcomes_recorded", {"disease": disease, "indicator": "outcomes_recorded", "trend": []}
            )
            returned = by_unit[team].setdefault(
                f"{disease}:returned_within_15_days",
                {"disease": disease, "indicator": "returned_within_15_days", "trend": []},
            )
            for ref in dates:
                count, back, agreed = through.get((team, ref), (0.0, 0.0, 0.0))
                recorded["trend"].append({"ref_date": str(ref), "numerator": count, "denominator": None, "rate": None})
                returned["trend"].append(
                    {
                        "ref_date": str(ref),
                        "numerator": back,
                        "denominator": agreed,
                        "rate": back / agreed if agreed else None,
                    }
                )


def _unit_items(entries: dict[str, dict[str, Any]], targets: dict[str, Any]) -> list[dict[str, Any]]:
    """A unit's indicators in the definitions' order, each with its latest figure, label, source and target."""
    order = {ind.code: k for k, ind in enumerate(INDICATORS)}
    items = []
    for entry in sorted(entries.values(), key=lambda e: (e["disease"], order[e["indicator"]])):
        entry["trend"].sort(key=lambda point: point["ref_date"])
        latest = entry["trend"][-1]
        definition = BY_CODE[entry["indicator"]]
        items.append(
            {
                "disease": entry["disease"],
                "indicator": entry["indicator"],
                "label_zh": definition.zh,
                "label_en": definition.en,
                "reference": definition.reference,
                "is_rate": definition.rate,
                "estimated": definition.estimated,
                "numerator": latest["numerator"],
                "denominator": latest["denominator"],
                "rate": latest["rate"],
                "target": targets.get(entry["indicator"]),
                "trend": entry["trend"],
            }
        )
    return items


__all__ = ["unit_indicators"]
