"""The mapped FHIR resources put together as residents (SPEC 2.1) and events (SPEC 2.2).

A follow-up Encounter is one event; the Observations that reference it and the treatment stated in its context are
its values. Other Observations of an event measure are events of their own (``lab`` for glucose and HbA1c,
``health_check`` for BP and body size); height, BMI, lipids and smoking go to the resident row. The row also
holds the newest result of each measure with its date, as a health record does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmodel.interchange.fhir_export import EVENT_EXTENSIONS
from riskmodel.records.schema import EVENT_COLUMN_NAMES

_EVENT_MEASURES = (
    "sbp_mmhg",
    "dbp_mmhg",
    "fpg_mmol_l",
    "ogtt_2h_mmol_l",
    "random_glucose_mmol_l",
    "hba1c_pct",
    "weight_kg",
    "waist_cm",
)
_LAB = ("fpg_mmol_l", "ogtt_2h_mmol_l", "random_glucose_mmol_l", "hba1c_pct")
_GLUCOSE_ROW = ("fpg_mmol_l", "ogtt_2h_mmol_l", "hba1c_pct")
_BODY_ROW = ("height_cm", "weight_kg", "waist_cm", "bmi_kg_m2")
_LIPIDS = ("tc_mmol_l", "tg_mmol_l", "hdl_mmol_l", "ldl_mmol_l")
_FLAGS = {"diabetes": "diagnosed_diabetes", "hypertension": "diagnosed_hypertension"}


def _wide(results: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    if results.empty:
        return pd.DataFrame(columns=[*keys, *_EVENT_MEASURES])
    wide = results.pivot_table(index=keys, columns="column", values="value", aggfunc="mean").reset_index()
    wide.columns.name = None
    return wide


def _events(observations, conditions, medications, encounters, referrals) -> pd.DataFrame:
    parts = []
    followups = encounters[encounters["referral_id"].isna()]
    measures = observations[observations["column"].isin(_EVENT_MEASURES)]
    linked = measures["encounter_id"].isin(followups["id"])
    at_followup = _wide(measures[linked], ["encounter_id"]).rename(columns={"encounter_id": "event_id"})
    frame = followups.rename(columns={"id": "event_id", "date": "event_date"})[
        ["event_id", "resident_id", "event_date", "disease", "mode", *[c for c in EVENT_EXTENSIONS if c in followups]]
    ].assign(kind="followup")
    parts.append(frame.merge(at_followup, on="event_id", how="left"))
    alone = _wide(measures[~linked], ["id", "resident_id", "date"]).rename(
        columns={"id": "event_id", "date": "event_date"}
    )
    if len(alone):
        is_lab = alone[[c for c in _LAB if c in alone]].notna().any(axis=1)
        alone["kind"] = np.where(is_lab, "lab", "health_check")
        parts.append(alone)
    arrivals = encounters[encounters["referral_id"].notna()]
    parts.append(
        arrivals.rename(columns={"id": "event_id", "date": "event_date"})[
            ["event_id", "resident_id", "event_date", "disease"]
        ].assign(kind="referral", referral_status="arrived")
    )
    sent = referrals.rename(columns={"id": "event_id", "date": "event_date"})
    parts.append(
        sent[["event_id", "resident_id", "event_date", "disease"]].assign(kind="referral", referral_status="sent")
    )
    back = sent[sent["status"] == "completed"]
    parts.append(
        pd.DataFrame(
            {
                "event_id": back["event_id"] + "-returned",
                "resident_id": back["resident_id"],
                "event_date": back["returned_date"],
                "disease": back["disease"],
                "kind": "referral",
                "referral_status": "returned",
            }
        )
    )
    dated = conditions[conditions["date"].notna()]
    parts.append(
        dated.rename(columns={"id": "event_id", "date": "event_date"})[
            ["event_id", "resident_id", "event_date", "disease"]
        ].assign(kind="diagnosis")
    )
    events = (
        pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else pd.DataFrame()
    )
    for name in EVENT_COLUMN_NAMES:
        if name not in events:
            events[name] = None
    treated = medications[medications["treatment"].isin(["on_antihypertensive", "on_glucose_lowering"])]
    link = treated["encounter_id"].fillna(treated["condition_id"])
    taken = pd.Series(np.where(treated["status"] == "not-taken", "false", "true"), index=treated.index)
    on_treatment = dict(zip(link[link.notna()], taken[link.notna()], strict=True))
    events["on_treatment"] = (
        events["event_id"].map(on_treatment).where(events["kind"].isin(["followup", "diagnosis"]), None)
    )
    return events[list(EVENT_COLUMN_NAMES)]


def _newest(observations: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """Per resident, the newest value of each column (the mean of that day's) and its date."""
    chosen = observations[observations["column"].isin(columns)]
    if chosen.empty:
        return pd.DataFrame(columns=["resident_id"])
    daily = chosen.groupby(["resident_id", "column", "date"], as_index=False)["value"].mean()
    newest = daily.sort_values("date").groupby(["resident_id", "column"]).tail(1)
    wide = newest.pivot(index="resident_id", columns="column", values="value")
    wide.columns.name = None
    return wide.reset_index()


def _row_results(residents: pd.DataFrame, observations: pd.DataFrame) -> pd.DataFrame:
    obs = observations[observations["resident_id"].isin(residents["resident_id"])]
    numbers = obs[obs["column"] != "smoking"]
    # BP and glucose: the values of the newest day with a result, dated that day.
    for columns, date_name in ((("sbp_mmhg", "dbp_mmhg"), "bp_date"), (_GLUCOSE_ROW, "glucose_date")):
        chosen = numbers[numbers["column"].isin(columns)]
        last = chosen.groupby("resident_id")["date"].max().rename(date_name)
        on_day = chosen.merge(last, left_on=["resident_id", "date"], right_on=[last.index, last.values])
        values = _wide(on_day, ["resident_id"]).drop(
            columns=[c for c in _EVENT_MEASURES if c not in columns], errors="ignore"
        )
        residents = residents.merge(last.reset_index(), on="resident_id", how="left")
        residents = residents.merge(values, on="resident_id", how="left")
    body = numbers[numbers["column"].isin(_BODY_ROW)]
    residents = residents.merge(
        body.groupby("resident_id")["date"].max().rename("exam_date").reset_index(), on="resident_id", how="left"
    )
    residents = residents.merge(_newest(numbers, (*_BODY_ROW, *_LIPIDS)), on="resident_id", how="left")
    smoking = obs[(obs["column"] == "smoking") & obs["text"].notna()].sort_values("date")
    residents["smoking"] = residents["resident_id"].map(smoking.groupby("resident_id")["text"].last())
    return residents


def assemble(residents, observations, conditions, medications, encounters, referrals):  # type: ignore[no-untyped-def]
    """(residents, events) as frames in the columns of SPEC 2 (values as read; the validators type them)."""
    for disease, flag in _FLAGS.items():
        ids = set(conditions.loc[conditions["disease"] == disease, "resident_id"])
        residents[flag] = np.where(residents["resident_id"].isin(ids), "true", "false")
    current = medications[
        (medications["status"] == "active") & medications["encounter_id"].isna() & medications["condition_id"].isna()
    ]
    for flag in ("on_antihypertensive", "on_glucose_lowering", "on_lipid_lowering"):
        ids = set(current.loc[current["treatment"] == flag, "resident_id"])
        residents[flag] = np.where(residents["resident_id"].isin(ids), "true", "false")
    residents = _row_results(residents, observations)
    events = _events(observations, conditions, medications, encounters, referrals)
    return residents, events
