"""The BPHS 2017 forms in (SPEC 14.4): 高血压 / 2型糖尿病患者随访服务记录表, 健康体检表 and 个人基本信息表, as Excel
(.xlsx) or CSV (UTF-8 or GBK) with Chinese headers, become the residents and events of SPEC 2.

Each file is one form (named by a title row, found from its headers, or given). Its cells are read by the
mapping (:mod:`riskmodel.interchange.bphs_mapping`) into the same pieces the FHIR import makes (a follow-up is an
encounter with its results, treatment and extensions; a health check its results; a referral a request), and
:func:`riskmodel.interchange.fhir_assembly.assemble` puts them together. A row with a bad cell is a rejected row
(file, row number, header, reason); a header the mapping does not know is listed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.exceptions import RiskModelError
from riskmodel.interchange.bphs_mapping import (
    CellError,
    FormsMapping,
    FormSpec,
    load_forms_mapping,
    parse_cell,
    pseudonymous_id,
)
from riskmodel.interchange.fhir_assembly import assemble
from riskmodel.interchange.fhir_export import EVENT_EXTENSIONS, PATIENT_EXTENSIONS
from riskmodel.interchange.fhir_in import FhirImport
from riskmodel.interchange.fhir_reading import rejected_frame

ENCODINGS = ("utf-8", "gbk", "gb18030")
_RESULTS = (
    "sbp_mmhg",
    "dbp_mmhg",
    "weight_kg",
    "height_cm",
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
)
_ROW_FACTS = tuple(c for c in PATIENT_EXTENSIONS if c != "pregnant")
_DIAGNOSES = {"hypertension": "htn", "diabetes": "dm"}
_TREATMENT = {"hypertension": "on_antihypertensive", "diabetes": "on_glucose_lowering"}
_HEADER_SEARCH_ROWS = 5


class FormsError(RiskModelError):
    """A file that cannot be read as a form (its encoding, its kind): one line, naming the file."""


@dataclass
class FormsImport(FhirImport):
    """A forms import: the FHIR import's residents, events, rejected rows and counts (per form), and per file the
    form it was read as, its encoding and the headers the mapping does not know."""

    files: list[dict[str, Any]] = field(default_factory=list)
    origins: dict[str, tuple[str, int]] = field(default_factory=dict)
    """Record and resident ids to the (file, row number) they came from, for the validators' rejected rows."""


@dataclass
class _Sheet:
    path: Path
    title: str | None
    headers: list[str]
    rows: list[tuple[int, list[Any]]]  # (row number in the file, cells)
    encoding: str | None


def _decode(path: Path, encoding: str | None) -> tuple[str, str]:
    data = path.read_bytes()
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError):
            raise FormsError(f"{path.name}: cannot be read as {encoding}") from None
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gbk"
    except UnicodeDecodeError:
        raise FormsError(f"{path.name}: neither UTF-8 nor GBK; give --encoding") from None


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _sheet(path: Path, encoding: str | None, mapping: FormsMapping) -> _Sheet:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
            raise FormsError(f"{path.name}: not an Excel workbook ({type(error).__name__})") from None
        table = [[_cell_text(v) for v in row] for row in book.worksheets[0].iter_rows(values_only=True)]
        book.close()
        used = None
    elif suffix in (".csv", ".txt"):
        text, used = _decode(path, encoding)
        table = [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
    else:
        raise FormsError(f"{path.name}: a form is an .xlsx or .csv file")
    # The header row: the first of the first rows naming at least two known columns; a row above it with one
    # cell may be the form's title.
    for index, row in enumerate(table[:_HEADER_SEARCH_ROWS]):
        if sum(mapping.column_of(c) is not None for c in row if c) >= 2:
            above = [c for r in table[:index] for c in r if c]
            title = above[0] if len(above) == 1 else None
            rows = [(index + 2 + k, r) for k, r in enumerate(table[index + 1 :]) if any(c for c in r)]
            return _Sheet(path, title, row, rows, used)
    raise FormsError(f"{path.name}: no header row with the BPHS form columns in its first {_HEADER_SEARCH_ROWS} rows")


class _Rows:
    """Rows of every file, read into column values, with the rejected ones."""

    def __init__(self, mapping: FormsMapping) -> None:
        self.mapping = mapping
        self.read: list[dict[str, Any]] = []
        self.rejected: list[dict[str, Any]] = []
        self.counts: dict[str, dict[str, int]] = {}

    def add(self, sheet: _Sheet, form: FormSpec) -> list[str]:
        keys = [self.mapping.column_of(h) if h else None for h in sheet.headers]
        unknown = [h for h, k in zip(sheet.headers, keys, strict=True) if h and k is None]
        count = self.counts.setdefault(form.title, {"in": 0, "used": 0, "skipped": 0, "rejected": 0})
        for number, cells in sheet.rows:
            count["in"] += 1
            row, problem = self._row(sheet, form, keys, number, cells)
            if problem:
                header, reason = problem
                self.rejected.append(
                    {
                        "resource_type": form.title,
                        "resource_id": row.get("record_id"),
                        "path": header,
                        "reason": reason,
                        "source": sheet.path.name,
                        "line": number,
                    }
                )
                count["rejected"] += 1
            else:
                self.read.append(row)
        return unknown

    def _row(self, sheet: _Sheet, form: FormSpec, keys: list[str | None], number: int, cells: list[Any]):  # type: ignore[no-untyped-def]
        row: dict[str, Any] = {
            "_form": form.key,
            "_kind": form.kind,
            "_disease": form.disease,
            "_source": sheet.path.name,
            "_line": number,
        }
        problem = None
        for header, key, cell in zip(sheet.headers, keys, cells, strict=False):
            text = _cell_text(cell)
            if key is None or not text:
                continue
            try:
                value = parse_cell(self.mapping.columns[key], text)
            except CellError as error:
                problem = problem or (header, f"{header}: {error}")
                continue
            if key == "blood_pressure":
                row.setdefault("sbp_mmhg", value[0])
                row.setdefault("dbp_mmhg", value[1])
            else:
                row[key] = value
        if problem:
            return row, problem
        if not row.get("resident_id"):
            if not row.get("id_card"):
                return row, ("居民健康档案编号", "no 居民健康档案编号 or 身份证号")
            try:
                row["resident_id"] = pseudonymous_id(row["id_card"], self.mapping.id_card_salt)
            except CellError as error:
                return row, ("身份证号", f"身份证号: {error}")
        row.pop("id_card", None)
        row.pop("name", None)  # 姓名 is never stored in the residents or events
        if form.date and not isinstance(row.get(form.date), dt.date):
            header = (
                next(h for h, k in zip(sheet.headers, keys, strict=False) if k == form.date)
                if form.date in keys
                else self.mapping.columns[form.date].headers[0]
            )
            return row, (header, f"{header}: missing (the {form.title} row's date)")
        row["_date"] = row.get(form.date) if form.date else None
        row.setdefault("record_id", f"{form.key}-{Path(sheet.path.name).stem}-{number}")
        return row, None


def _frame(rows: list[dict[str, Any]], columns: Iterable[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for name in columns:
        if name not in frame:
            frame[name] = None
    return frame


def _iso(values: pd.Series) -> pd.Series:
    return values.map(lambda v: v.isoformat() if isinstance(v, dt.date) else None)


def _text(values: pd.Series) -> pd.Series:
    """Values as the validators read them (booleans as true/false, dates ISO, missing as None)."""

    def one(v: Any) -> Any:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        if isinstance(v, bool | np.bool_):
            return "true" if v else "false"
        if isinstance(v, dt.date):
            return v.isoformat()
        return v

    return values.map(one)


def _residents(frame: pd.DataFrame, as_of: dt.date, rejected: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per resident: identity and facts from the profile first, then the newest dated row holding them."""
    order = frame.assign(_profile=frame["_kind"].isna(), _day=frame["_date"].map(lambda d: d or dt.date.min))
    order = order.sort_values(["_profile", "_day"], ascending=False, kind="stable")
    first = order.groupby("resident_id", sort=False).first()  # first non-null value of each column
    people = first.reset_index()
    missing = people[["sex", "birth_date", "team_id"]].isna().any(axis=1)
    for _, person in people[missing].iterrows():
        lacking = [
            h for h, k in (("性别", "sex"), ("出生日期", "birth_date"), ("签约团队", "team_id")) if pd.isna(person[k])
        ]
        rejected.append(
            {
                "resource_type": "居民",
                "resource_id": person["resident_id"],
                "path": lacking[0],
                "reason": f"no {'/'.join(lacking)} for this resident in any form",
                "source": person["_source"],
                "line": person["_line"],
            }
        )
    people = people[~missing]
    born = pd.to_datetime(people["birth_date"].map(lambda d: d.isoformat()))
    years = as_of.year - born.dt.year - ((born.dt.month * 100 + born.dt.day) > (as_of.month * 100 + as_of.day))
    residents = pd.DataFrame(
        {
            "resident_id": people["resident_id"],
            "team_id": people["team_id"],
            "sex": people["sex"],
            "age_years": years.astype("float64"),
            "grid_id": people["grid_id"],
        }
    )
    for name in _ROW_FACTS:
        residents[name] = _text(people[name])
    profile = frame[frame["_kind"].isna()].groupby("resident_id")["pregnant"].first()
    residents["pregnant"] = _text(residents["resident_id"].map(profile))
    return residents.reset_index(drop=True)


def _pieces(frame: pd.DataFrame, residents: pd.DataFrame):  # type: ignore[no-untyped-def]
    """The FHIR import's pieces (observations, conditions, medications, encounters, referrals) from the rows."""
    frame = frame[frame["resident_id"].isin(set(residents["resident_id"]))]
    dated = frame[frame["_kind"].notna()]
    long = dated.melt(
        id_vars=["record_id", "resident_id", "_date", "_kind"],
        value_vars=list(_RESULTS),
        var_name="column",
        value_name="value",
    ).dropna(subset=["value"])
    observations = pd.DataFrame(
        {
            "resident_id": long["resident_id"],
            "date": _iso(long["_date"]),
            "encounter_id": np.where(long["_kind"] == "followup", long["record_id"], None),
            "column": long["column"],
            "value": long["value"].astype(float),
            "id": long["record_id"],
            "source": None,
            "line": None,
            "text": None,
        }
    )
    smokers = dated[dated["smoking"].notna()]
    observations = pd.concat(
        [
            observations,
            pd.DataFrame(
                {
                    "resident_id": smokers["resident_id"],
                    "date": _iso(smokers["_date"]),
                    "encounter_id": None,
                    "column": "smoking",
                    "value": np.nan,
                    "id": smokers["record_id"],
                    "source": None,
                    "line": None,
                    "text": smokers["smoking"],
                }
            ),
        ],
        ignore_index=True,
    )
    followups = dated[dated["_kind"] == "followup"]
    encounters = pd.DataFrame(
        {
            "id": followups["record_id"],
            "resident_id": followups["resident_id"],
            "date": _iso(followups["_date"]),
            "disease": followups["_disease"],
            "mode": followups["mode"],
            "referral_id": None,
        }
    )
    for name in EVENT_EXTENSIONS:
        encounters[name] = _text(followups[name])
    # 此次随访分类 并发症 is a new or worse complication; 不良反应 an adverse reaction when 药物不良反应 is blank.
    complication = followups["followup_class"] == "complication"
    encounters["new_complication"] = encounters["new_complication"].where(~complication, "true")
    reaction = (followups["followup_class"] == "adverse_reaction") & followups["adverse_reaction"].isna()
    encounters["adverse_reaction"] = encounters["adverse_reaction"].where(~reaction, "true")
    sent = followups[followups["referral_reason"].notna() | followups["referral_facility"].notna()]
    referrals = pd.DataFrame(
        {
            "id": sent["record_id"] + "-referral",
            "resident_id": sent["resident_id"],
            "date": _iso(sent["_date"]),
            "disease": sent["_disease"],
            "status": "active",
            "returned_date": None,
        }
    )
    arrived = sent[sent["referral_arrived_date"].notna()]
    arrivals = pd.DataFrame(
        {
            "id": arrived["record_id"] + "-arrived",
            "resident_id": arrived["resident_id"],
            "date": _iso(arrived["referral_arrived_date"]),
            "disease": arrived["_disease"],
            "mode": None,
            "referral_id": arrived["record_id"] + "-referral",
        }
    )
    encounters = pd.concat([encounters, arrivals], ignore_index=True) if len(arrivals) else encounters
    treated = followups[followups["on_treatment"].notna()]
    medications = [
        pd.DataFrame(
            {
                "resident_id": treated["resident_id"],
                "encounter_id": treated["record_id"],
                "condition_id": None,
                "treatment": treated["_disease"].map(_TREATMENT),
                "status": np.where(treated["on_treatment"].astype(bool), "completed", "not-taken"),
            }
        )
    ]
    conditions = []
    for disease, prefix in _DIAGNOSES.items():
        flag = frame.groupby("resident_id")[f"diagnosed_{disease}"].first()
        recorded = set(flag[flag.astype(bool)].index)
        dates = (
            frame[frame[f"{prefix}_diagnosis_date"].notna()].groupby("resident_id")[f"{prefix}_diagnosis_date"].first()
        )
        ids = sorted(recorded | set(dates.index))
        condition_ids = [f"{rid}-{prefix}-diagnosis" for rid in ids]
        conditions.append(
            pd.DataFrame(
                {
                    "id": condition_ids,
                    "resident_id": ids,
                    "disease": disease,
                    "date": [d.isoformat() if (d := dates.get(r)) else None for r in ids],
                }
            )
        )
        at_diagnosis = frame.groupby("resident_id")[f"{prefix}_diagnosis_treated"].first().dropna()
        at_diagnosis = at_diagnosis[at_diagnosis.index.isin(dates.index)]
        medications.append(
            pd.DataFrame(
                {
                    "resident_id": at_diagnosis.index,
                    "encounter_id": None,
                    "condition_id": [f"{r}-{prefix}-diagnosis" for r in at_diagnosis.index],
                    "treatment": _TREATMENT[disease],
                    "status": np.where(at_diagnosis.astype(bool), "completed", "not-taken"),
                }
            )
        )
    for flag in ("on_antihypertensive", "on_glucose_lowering", "on_lipid_lowering"):
        current = frame.groupby("resident_id")[flag].first().dropna()
        current = current[current.astype(bool)]
        medications.append(
            pd.DataFrame(
                {
                    "resident_id": current.index,
                    "encounter_id": None,
                    "condition_id": None,
                    "treatment": flag,
                    "status": "active",
                }
            )
        )
    return (
        observations,
        pd.concat(conditions, ignore_index=True),
        pd.concat(medications, ignore_index=True),
        encounters,
        referrals,
    )


def read_forms(
    paths: Iterable[str | Path],
    *,
    as_of: dt.date,
    mapping: FormsMapping | None = None,
    encoding: str | None = None,
    form: str | None = None,
) -> FormsImport:
    """Read BPHS form files into residents and events (SPEC 2), rejected rows and counts per form (SPEC 14.4)."""
    mapping = mapping or load_forms_mapping()
    if form is not None and form not in mapping.forms:
        raise FormsError(f"--form {form}: choose {', '.join(mapping.forms)}")
    rows = _Rows(mapping)
    files = []
    for path in (Path(p) for p in paths):
        if not path.is_file():
            raise FormsError(f"{path}: no such file")
        sheet = _sheet(path, encoding, mapping)
        spec = mapping.forms[form] if form else mapping.detect(sheet.headers, sheet.title)
        if spec is None:
            raise FormsError(
                f"{path.name}: which form it is cannot be told from its headers; give --form "
                f"({', '.join(mapping.forms)})"
            )
        unknown = rows.add(sheet, spec)
        files.append({"file": path.name, "form": spec.title, "encoding": sheet.encoding or "xlsx", "unknown": unknown})
    columns = ["record_id", "resident_id", "_date", *mapping.columns, *EVENT_EXTENSIONS, *PATIENT_EXTENSIONS]
    frame = _frame(rows.read, columns)
    if frame.empty:
        residents = pd.DataFrame(columns=["resident_id", "team_id", "sex", "age_years", "grid_id"])
        events = pd.DataFrame()
    else:
        residents = _residents(frame, as_of, rows.rejected)
        residents, events = assemble(residents, *_pieces(frame, residents))
        checks = set(frame.loc[frame["_kind"] == "health_check", "record_id"])
        if len(events):
            events.loc[events["event_id"].isin(checks), "kind"] = "health_check"  # a 健康体检表 row, whatever it holds
    origins: dict[str, tuple[str, int]] = {}
    if len(frame):
        for column in ("resident_id", "record_id"):  # a record's own row wins over its resident's first row
            first = frame.drop_duplicates(column)
            origins.update(zip(first[column], zip(first["_source"], first["_line"], strict=True), strict=True))
    for count in rows.counts.values():
        count["used"] = count["in"] - count["rejected"]
    return FormsImport(
        residents=residents,
        events=events,
        rejected=rejected_frame(rows.rejected),
        counts=rows.counts,
        files=files,
        origins=origins,
    )
