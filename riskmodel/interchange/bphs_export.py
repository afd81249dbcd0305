"""Residents and events (SPEC 2) written as the BPHS 2017 forms: what :mod:`riskmodel.interchange.bphs_in` reads back.

The synthetic generator's histories go through it so that the forms path is tested without real data (SPEC 14.4):

- 个人基本信息表: one row per resident (sex, birth date from the age, team, grid, the record's facts as 有/无
  columns, each diagnosis event's date and treatment);
- 高血压 / 2型糖尿病患者随访服务记录表: one row per follow-up; a referral sent on the day of a follow-up is its
  转诊原因 / 转诊机构, the referral's arrival its 转诊到位日期;
- 健康体检表: one row per health check; screening and lab readings, which have no form of their own, as a
  健康体检表 row holding that reading; the record's own dated results (exam, BP, glucose) as rows on their dates.

Headers are the first alias of each column in ``configs/bphs_forms.yaml``; values the first cell that the mapping
reads as that value. A returned referral, or a sent one on a day without a follow-up, has no place in these forms
and is counted in ``not_written``.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from riskmodel.interchange.bphs_mapping import FormsMapping, load_forms_mapping

DRUGS = {"hypertension": "硝苯地平缓释片", "diabetes": "二甲双胍片"}
"""The drug name written in 用药情况 when a follow-up records treatment (any name reads as treated)."""
REFERRAL_REASON = {"hypertension": "血压控制不满意", "diabetes": "血糖控制不满意"}
REFERRAL_FACILITY = "上级医院"
_PROFILE = (
    "diagnosed_hypertension",
    "diagnosed_diabetes",
    "htn_diagnosis_date",
    "htn_diagnosis_treated",
    "dm_diagnosis_date",
    "dm_diagnosis_treated",
    "htn_registered_date",
    "dm_registered_date",
    "ascvd_history",
    "gdm_history",
    "family_history_diabetes",
    "family_history_hypertension",
    "pregnant",
    "on_antihypertensive",
    "on_glucose_lowering",
    "on_lipid_lowering",
    "last_followup_date",
    "uncontrolled_visits",
    "physically_active",
    "high_salt_diet",
    "alcohol_excess",
)
_FOLLOWUP = (
    "record_id",
    "resident_id",
    "name",
    "followup_date",
    "mode",
    "symptoms",
    "sbp_mmhg",
    "dbp_mmhg",
    "weight_kg",
    "on_treatment",
    "adherence",
    "adverse_reaction",
    "followup_class",
    "emergency_signs",
    "pregnant",
    "next_followup_date",
    "referral_reason",
    "referral_facility",
    "referral_arrived_date",
)
_DIABETES_ONLY = ("fpg_mmol_l", "hba1c_pct", "random_glucose_mmol_l")
_CHECK = (
    "record_id",
    "resident_id",
    "name",
    "exam_date",
    "blood_pressure",
    "height_cm",
    "weight_kg",
    "waist_cm",
    "bmi_kg_m2",
    "fpg_mmol_l",
    "hba1c_pct",
    "ogtt_2h_mmol_l",
    "random_glucose_mmol_l",
    "tc_mmol_l",
    "tg_mmol_l",
    "hdl_mmol_l",
    "ldl_mmol_l",
    "smoking",
)
_ROW_RESULTS = {
    "bp_date": ("sbp_mmhg", "dbp_mmhg"),
    "glucose_date": ("fpg_mmol_l", "ogtt_2h_mmol_l", "hba1c_pct"),
    "exam_date": (
        "height_cm",
        "weight_kg",
        "waist_cm",
        "bmi_kg_m2",
        "tc_mmol_l",
        "tg_mmol_l",
        "hdl_mmol_l",
        "ldl_mmol_l",
    ),
}
_TOKENS = {"symptoms": ("多饮、多尿", "无症状"), "high_salt_diet": ("嗜盐", "荤素均衡")}


def _present(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return False
    return not (isinstance(value, float) and np.isnan(value))


def _day(value: Any) -> str:
    return pd.Timestamp(value).date().isoformat()


class _Writer:
    def __init__(self, mapping: FormsMapping) -> None:
        self.mapping = mapping

    def header(self, key: str) -> str:
        return self.mapping.columns[key].headers[0]

    def cell(self, key: str, value: Any) -> str:
        if not _present(value):
            return ""
        spec = self.mapping.columns[key]
        if spec.type == "choice":
            wanted = bool(value) if isinstance(value, bool | np.bool_) else value
            return next(k for k, v in spec.values.items() if v == wanted)
        if spec.type == "tokens":
            return _TOKENS[key][0 if value else 1]
        if spec.type == "date":
            return _day(value)
        if spec.type in ("number", "int"):
            number = float(value)
            return str(int(number)) if number.is_integer() else f"{number:g}"
        return str(value)


def _birth(age: float, as_of: dt.date) -> dt.date:
    years = int(age)
    try:
        born = as_of.replace(year=as_of.year - years)
    except ValueError:  # 29 February
        born = as_of.replace(year=as_of.year - years, day=28)
    return born - dt.timedelta(days=round((age - years) * 365.25))


def form_rows(
    residents: pd.DataFrame, events: pd.DataFrame | None, as_of: dt.date
) -> tuple[dict[str, list[dict[str, Any]]], int]:
    """Per form key, its rows as column values (keys of the mapping); and how many events have no place."""
    events = events if events is not None else pd.DataFrame(columns=["resident_id", "event_date", "kind"])
    events = events.sort_values(["resident_id", "event_date"], kind="stable")
    profile: dict[str, dict[str, Any]] = {}
    for r in residents.to_dict("records"):
        rid = str(r["resident_id"])
        row = {
            "resident_id": rid,
            "name": "",
            "sex": r["sex"],
            "birth_date": _birth(float(r["age_years"]), as_of),
            "team_id": r["team_id"],
            "grid_id": r.get("grid_id"),
        }
        row.update({k: r.get(k) for k in _PROFILE if k in r})
        profile[rid] = row
    forms: dict[str, list[dict[str, Any]]] = {"hypertension_followup": [], "diabetes_followup": [], "health_check": []}
    followup_at: dict[tuple[str, str, str], dict[str, Any]] = {}
    last_sent: dict[tuple[str, str], dict[str, Any]] = {}
    not_written = 0
    for e in events.to_dict("records"):
        rid, kind, day = str(e["resident_id"]), e["kind"], _day(e["event_date"])
        disease = e.get("disease") if _present(e.get("disease")) else None
        if kind == "followup" and disease:
            row = {k: e.get(k) for k in _FOLLOWUP if k in e}
            row.update(record_id=e["event_id"], resident_id=rid, name="", followup_date=day)
            if _present(e.get("on_treatment")):
                row["on_treatment"] = DRUGS[disease] if e["on_treatment"] else "无"
            if not _present(e.get("followup_class")) and e.get("new_complication") is True:
                row["followup_class"] = "complication"
            if disease == "diabetes":
                row.update({k: e.get(k) for k in _DIABETES_ONLY})
            forms[f"{disease}_followup"].append(row)
            followup_at[(rid, disease, day)] = row
        elif kind == "diagnosis" and disease:
            prefix = "htn" if disease == "hypertension" else "dm"
            profile[rid][f"{prefix}_diagnosis_date"] = day
            profile[rid][f"{prefix}_diagnosis_treated"] = e.get("on_treatment")
        elif (
            kind == "referral" and disease and e.get("referral_status") == "sent" and (rid, disease, day) in followup_at
        ):
            row = followup_at[(rid, disease, day)]
            row.update(referral_reason=REFERRAL_REASON[disease], referral_facility=REFERRAL_FACILITY)
            last_sent[(rid, disease)] = row
        elif kind == "referral" and e.get("referral_status") == "arrived" and (rid, disease) in last_sent:
            last_sent.pop((rid, cast(str, disease)))["referral_arrived_date"] = day
        elif kind in ("health_check", "screening", "lab"):
            row = {k: e.get(k) for k in _CHECK if k in e}
            row.update(record_id=e["event_id"], resident_id=rid, name="", exam_date=day)
            if _present(e.get("sbp_mmhg")) and _present(e.get("dbp_mmhg")):
                row["blood_pressure"] = f"{e['sbp_mmhg']:g}/{e['dbp_mmhg']:g}"
            forms["health_check"].append(row)
        else:
            not_written += 1
    for r in residents.to_dict("records"):
        rid = str(r["resident_id"])
        for date_column, columns in _ROW_RESULTS.items():
            values = {c: r.get(c) for c in columns if _present(r.get(c))}
            if date_column == "exam_date" and _present(r.get("smoking")):
                values["smoking"] = r["smoking"]
            if not values:
                continue
            row = {
                "record_id": f"{rid}-{date_column}",
                "resident_id": rid,
                "name": "",
                "exam_date": _day(r[date_column]) if _present(r.get(date_column)) else as_of.isoformat(),
            }
            if "sbp_mmhg" in values:
                sbp, dbp = values.pop("sbp_mmhg"), values.pop("dbp_mmhg", None)
                if _present(dbp):
                    row["blood_pressure"] = f"{sbp:g}/{dbp:g}"
            forms["health_check"].append({**row, **values})
    return {"profile": list(profile.values()), **forms}, not_written


_PROFILE_HEADERS = ("resident_id", "name", "sex", "birth_date", "team_id", "grid_id", *_PROFILE)
_COLUMNS = {
    "profile": _PROFILE_HEADERS,
    "hypertension_followup": _FOLLOWUP,
    "diabetes_followup": (*_FOLLOWUP[:8], *_DIABETES_ONLY, *_FOLLOWUP[8:]),
    "health_check": _CHECK,
}


def write_forms(
    residents: pd.DataFrame,
    events: pd.DataFrame | None,
    folder: Path,
    *,
    as_of: dt.date,
    file_format: str = "csv",
    encoding: str = "utf-8",
    mapping: FormsMapping | None = None,
) -> tuple[list[Path], int]:
    """Write the four forms into ``folder`` (``<表名>.csv`` in ``encoding``, or ``.xlsx``); the paths and the
    number of events with no place in the forms."""
    mapping = mapping or load_forms_mapping()
    writer = _Writer(mapping)
    rows, not_written = form_rows(residents, events, as_of)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for key, columns in _COLUMNS.items():
        table = [[writer.header(c) for c in columns]]
        table += [[writer.cell(c, row.get(c)) for c in columns] for row in rows[key]]
        title = mapping.forms[key].title
        if file_format == "xlsx":
            from openpyxl import Workbook

            book = Workbook(write_only=True)
            sheet = book.create_sheet(title[:31])
            for line in table:
                sheet.append(line)
            path = folder / f"{title}.xlsx"
            book.save(path)
        else:
            path = folder / f"{title}.csv"
            with open(path, "w", encoding="utf-8-sig" if encoding == "utf-8" else encoding, newline="") as handle:
                csv.writer(handle).writerows(table)
        paths.append(path)
    return paths, not_written
