"""FHIR R4 in (SPEC 14.2): Patients, Observations, Conditions, medications, Encounters and referrals become the
residents and events of SPEC 2, with rejected rows (resource type, id, path, reason) and counts per type.

The JSON is flattened by DuckDB; the code tables (:mod:`riskmodel.interchange.fhir_codes`) are applied to the
flattened columns with pandas; the result is validated by the SPEC 2 validators like any other input.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from riskmodel.interchange.fhir_codes import (
    ATC_TREATMENT,
    BP_PANEL,
    ENCOUNTER_CLASSES,
    ICD10,
    ICD10_DISEASES,
    LOINC,
    OBSERVATION_CODES,
    OBSERVATION_USED_STATUSES,
    SMOKING_ANSWERS,
    SMOKING_STATUS,
    SNOMED,
    SNOMED_DISEASES,
)
from riskmodel.interchange.fhir_export import EVENT_EXTENSIONS, PATIENT_EXTENSIONS
from riskmodel.interchange.fhir_reading import load_resources, rejected_frame
from riskmodel.interchange.settings import EXTENSION_BASE, FhirSettings
from riskmodel.records.schema import COLUMNS_BY_NAME, EVENT_COLUMNS_BY_NAME

READ_TYPES = (
    "Patient",
    "Observation",
    "Condition",
    "MedicationStatement",
    "MedicationRequest",
    "Encounter",
    "ServiceRequest",
)
_LAB = {"fpg_mmol_l", "ogtt_2h_mmol_l", "random_glucose_mmol_l", "hba1c_pct"}


@dataclass
class FhirImport:
    """What an import gives: residents and events (SPEC 2 columns, as text, for the validators), rejected rows,
    and per resource type the counts in = used + skipped + rejected."""

    residents: pd.DataFrame
    events: pd.DataFrame
    rejected: pd.DataFrame
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    observations: pd.DataFrame | None = None
    """Each result used: ``resident_id``, ``date``, ``column`` and the Observation ``id`` it came from (what an
    assessment's ``basis`` references)."""


def _list(values: object) -> list:
    """A JSON list as DuckDB returns it (a numpy array, a list, or None)."""
    if values is None or values is pd.NA or (isinstance(values, float) and np.isnan(values)):
        return []
    return list(values)  # type: ignore[call-overload]


def _date(values: pd.Series) -> pd.Series:
    """FHIR date/dateTime → YYYY-MM-DD (the day as written, before any zone); a partial date is missing."""
    text = values.astype("string").str.slice(0, 10)
    return text.where(text.str.fullmatch(r"\d{4}-\d{2}-\d{2}").fillna(False))


def _reference_id(values: pd.Series, kind: str) -> pd.Series:
    text = values.astype("string")
    return text.str.extract(rf"^(?:.*/)?{kind}/([^/]+)$", expand=False)


def _disease(systems: pd.Series, codes: pd.Series) -> pd.Series:
    """The disease named by the first ICD-10 or SNOMED CT coding of each row's lists, else missing."""
    out = []
    for row_systems, row_codes in zip(systems, codes, strict=True):
        found = None
        for system, code in zip(_list(row_systems), _list(row_codes), strict=False):
            if system in ICD10 and code:
                found = ICD10_DISEASES.get(str(code).split(".")[0].upper())
            elif system == SNOMED:
                found = SNOMED_DISEASES.get(str(code))
            if found:
                break
        out.append(found)
    return pd.Series(out, index=systems.index, dtype="object")


def _first_code(systems: pd.Series, codes: pd.Series, system: str) -> pd.Series:
    out = []
    for row_systems, row_codes in zip(systems, codes, strict=True):
        pairs = zip(_list(row_systems), _list(row_codes), strict=False)
        out.append(next((str(code) for s, code in pairs if s == system and code is not None), None))
    return pd.Series(out, index=systems.index, dtype="object")


class _Tally:
    def __init__(self) -> None:
        self.counts: dict[str, dict[str, int]] = {}
        self.rejected: list[pd.DataFrame] = []

    def count(self, kind: str, what: str, n: int) -> None:
        entry = self.counts.setdefault(kind, {"in": 0, "used": 0, "skipped": 0, "rejected": 0})
        entry[what] += int(n)

    def reject(self, frame: pd.DataFrame, kind: str, mask: pd.Series, path: str, reason: str | pd.Series) -> pd.Series:
        """Reject the rows of ``frame`` under ``mask`` (not already rejected); returns the rows still good."""
        mask = mask.fillna(False).astype(bool) & frame["_ok"]
        if mask.any():
            reasons = reason[mask] if isinstance(reason, pd.Series) else reason
            self.rejected.append(
                pd.DataFrame(
                    {
                        "resource_type": kind,
                        "resource_id": frame.loc[mask, "id"],
                        "path": path,
                        "reason": reasons,
                        "source": frame.loc[mask, "source"],
                        "line": frame.loc[mask, "line"],
                    }
                )
            )
            frame.loc[mask, "_ok"] = False
        return frame["_ok"]


def _fetch(connection: duckdb.DuckDBPyConnection, kind: str, columns: str) -> pd.DataFrame:
    kinds = (kind,) if kind != "Medication" else ("MedicationStatement", "MedicationRequest")
    names = ", ".join(f"'{k}'" for k in kinds)
    frame = connection.sql(
        f"SELECT source, line, type, id, {columns} FROM resources WHERE valid AND type IN ({names})"
    ).df()
    frame["_ok"] = True
    return frame


def _extensions(connection: duckdb.DuckDBPyConnection, kind: str, names: Iterable[str]) -> pd.DataFrame:
    """One row per resource with an extension of ours: its value (as text) per column name."""
    urls = {EXTENSION_BASE + name: name for name in names}
    frame = connection.sql(
        f"""
        SELECT source, line, x->>'url' AS url,
               coalesce(x->>'valueCode', x->>'valueString', x->>'valueDate', x->>'valueBoolean',
                        x->>'valueInteger', x->>'valueDateTime') AS value
          FROM (SELECT source, line, unnest(json_extract(j, '$.extension[*]')) AS x
                  FROM resources WHERE valid AND type = '{kind}')
        """
    ).df()
    frame = frame[frame["url"].isin(list(urls))]
    if frame.empty:
        return pd.DataFrame(columns=["source", "line", *urls.values()])
    frame["name"] = frame["url"].map(urls)
    wide = frame.pivot_table(index=["source", "line"], columns="name", values="value", aggfunc="last")
    return wide.reset_index()


def _patients(con: duckdb.DuckDBPyConnection, tally: _Tally, as_of: dt.date, settings: FhirSettings) -> pd.DataFrame:
    address = f"j->'address'->0->>'{settings.grid_address_part}'" if settings.grid_address_part else "NULL"
    grid_url = settings.grid_extension_url.replace("'", "''")
    frame = _fetch(
        con,
        "Patient",
        f"""j->>'gender' AS gender, j->>'birthDate' AS birth, j->'generalPractitioner'->0->>'reference' AS gp,
            {address} AS address_grid,
            (SELECT coalesce(x->>'valueString', x->>'valueCode') FROM
               (SELECT unnest(json_extract(j, '$.extension[*]')) AS x) WHERE x->>'url' = '{grid_url}' LIMIT 1)
               AS ext_grid""",
    )
    tally.count("Patient", "in", len(frame))
    tally.reject(frame, "Patient", frame["id"].isna(), "Patient.id", "missing")
    tally.reject(
        frame,
        "Patient",
        ~frame["gender"].isin(["male", "female"]),
        "Patient.gender",
        "not male or female (riskmodel needs the sex, SPEC 2.1)",
    )
    birth = _date(frame["birth"])
    tally.reject(frame, "Patient", birth.isna(), "Patient.birthDate", "missing or not a full date (YYYY-MM-DD)")
    team = frame["gp"].astype("string").str.extract(r"^(?:.*/)?(?:CareTeam|Organization)/([^/]+)$", expand=False)
    tally.reject(
        frame,
        "Patient",
        team.isna(),
        "Patient.generalPractitioner",
        "no CareTeam or Organization reference (the family-doctor team)",
    )
    ok = frame["_ok"]
    born = pd.to_datetime(birth[ok], errors="coerce")
    tally.reject(frame, "Patient", ok & born.reindex(frame.index).isna(), "Patient.birthDate", "not a calendar date")
    ok = frame["_ok"]
    frame, born, team = frame[ok], born[ok[ok.index.isin(born.index)]], team[ok]
    years = as_of.year - born.dt.year - ((born.dt.month * 100 + born.dt.day) > (as_of.month * 100 + as_of.day))
    residents = pd.DataFrame(
        {
            "resident_id": frame["id"],
            "team_id": team,
            "sex": frame["gender"].map({"male": "M", "female": "F"}),
            "age_years": years.astype("float64"),
            "grid_id": frame["ext_grid"].fillna(frame["address_grid"]),
            "_source": frame["source"],
            "_line": frame["line"],
        }
    )
    extensions = _extensions(con, "Patient", PATIENT_EXTENSIONS)
    residents = residents.merge(
        extensions.rename(columns={"source": "_source", "line": "_line"}), on=["_source", "_line"], how="left"
    )
    return residents


def _first_loinc(systems: str, codes: str) -> str:
    """SQL: the first code of the lists whose system is LOINC (the lists as ``json_extract_string`` gives them,
    paired by position like :func:`_first_code`), else NULL."""
    return f"list_filter(list_zip({systems}, {codes}), lambda x: x[1] = '{LOINC}' AND x[2] IS NOT NULL)[1][2]"


def _observation_parts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    component_loinc = _first_loinc(
        "json_extract_string(c, '$.code.coding[*].system')", "json_extract_string(c, '$.code.coding[*].code')"
    )
    parts = con.sql(
        f"""
        WITH o AS (
            SELECT source, line, id, j->>'status' AS status, j->'subject'->>'reference' AS subject,
                   j->'encounter'->>'reference' AS encounter,
                   coalesce(j->>'effectiveDateTime', j->'effectivePeriod'->>'start', j->>'effectiveInstant')
                       AS effective,
                   json_extract_string(j, '$.code.coding[*].system') AS systems,
                   json_extract_string(j, '$.code.coding[*].code') AS codes, j
              FROM resources WHERE valid AND type = 'Observation'
        )
        SELECT source, line, id, status, subject, encounter, effective,
               'Observation.valueQuantity' AS part,
               {_first_loinc("systems", "codes")} AS loinc,
               j->'valueQuantity'->>'value' AS value,
               coalesce(j->'valueQuantity'->>'code', j->'valueQuantity'->>'unit') AS unit,
               json_extract_string(j, '$.valueCodeableConcept.coding[*].system') AS answer_systems,
               json_extract_string(j, '$.valueCodeableConcept.coding[*].code') AS answer_codes,
               json_array_length(j, '$.component') AS n_components
          FROM o
        UNION ALL
        SELECT source, line, id, status, subject, encounter, effective,
               'Observation.component[' || (k - 1) || '].valueQuantity',
               {component_loinc},
               c->'valueQuantity'->>'value', coalesce(c->'valueQuantity'->>'code', c->'valueQuantity'->>'unit'),
               NULL, NULL, NULL
          FROM (SELECT *, unnest(json_extract(j, '$.component[*]')) AS c,
                       generate_subscripts(json_extract(j, '$.component[*]'), 1) AS k FROM o)
        """
    ).df()
    parts["loinc"] = parts["loinc"].astype(object).where(parts["loinc"].notna(), None)
    return parts


def _observations(con: duckdb.DuckDBPyConnection, tally: _Tally) -> pd.DataFrame:
    """Each usable result as (resident, date, encounter, column, value, observation id)."""
    parts = _observation_parts(con)
    heads = parts[parts["part"] == "Observation.valueQuantity"].copy()
    heads["_ok"] = True
    tally.count("Observation", "in", len(heads))
    skipped = ~heads["status"].isin(OBSERVATION_USED_STATUSES)
    tally.count("Observation", "skipped", int(skipped.sum()))
    heads = heads[~skipped]
    parts = parts[parts["line"].isin(heads["line"]) & parts["source"].isin(heads["source"].unique())]
    keys = heads.set_index(["source", "line"]).index
    parts = parts[parts.set_index(["source", "line"]).index.isin(keys)].copy()
    parts["_ok"] = True
    is_head = parts["part"] == "Observation.valueQuantity"
    panel = is_head & (parts["loinc"] == BP_PANEL)
    smoking = is_head & (parts["loinc"] == SMOKING_STATUS)
    # a head part with components carries no value of its own (a panel); a lone code carries its value
    has_components = parts["n_components"].fillna(0) > 0
    quantity = ~panel & ~smoking & ~(is_head & has_components)
    problems: list[tuple[pd.Series, str | pd.Series, str | pd.Series]] = []
    measure = parts["loinc"].map({code: m.column for code, m in OBSERVATION_CODES.items()})
    unknown = (quantity & measure.isna()) | (is_head & has_components & ~panel)
    code_text = parts["loinc"].fillna("(none)")
    problems.append((unknown, "Observation.code", "LOINC code " + code_text + " is not one riskmodel reads"))
    value = pd.to_numeric(parts["value"], errors="coerce")
    problems.append((quantity & measure.notna() & value.isna(), parts["part"] + ".value", "missing or not a number"))
    factors = [_UNIT_FACTORS.get((c, u)) for c, u in zip(parts["loinc"], parts["unit"], strict=True)]
    scale = pd.Series([f[0] if f else np.nan for f in factors], index=parts.index)
    offset = pd.Series([f[1] if f else np.nan for f in factors], index=parts.index)
    accepted = parts["loinc"].map(_ACCEPTED_UNITS).fillna("")
    bad_unit = quantity & measure.notna() & scale.isna()
    problems.append(
        (
            bad_unit,
            parts["part"] + ".code",
            "UCUM unit "
            + parts["unit"].fillna("(none)").astype(str)
            + " not accepted for LOINC "
            + code_text
            + " (accepted: "
            + accepted
            + ")",
        )
    )
    converted = (value * scale + offset).round(4)
    low = measure.map({c: _range(c)[0] for c in measure.dropna().unique()}).astype("float64")
    high = measure.map({c: _range(c)[1] for c in measure.dropna().unique()}).astype("float64")
    outside = quantity & converted.notna() & ((converted < low) | (converted > high))
    problems.append(
        (
            outside,
            parts["part"] + ".value",
            "out of range " + low.astype(str) + "-" + high.astype(str) + " after conversion",
        )
    )
    answer = [
        next((SMOKING_ANSWERS.get(str(c), "?") for c in _list(codes) if str(c) in SMOKING_ANSWERS), "?")
        for codes in parts["answer_codes"]
    ]
    parts["answer"] = answer
    problems.append(
        (
            smoking & (parts["answer"] == "?"),
            "Observation.valueCodeableConcept",
            "not a smoking-status answer riskmodel reads",
        )
    )
    parts["date"] = _date(parts["effective"])
    problems.append((is_head & parts["date"].isna(), "Observation.effective[x]", "missing or not a full date"))
    parts["resident_id"] = _reference_id(parts["subject"], "Patient")
    problems.append((is_head & parts["resident_id"].isna(), "Observation.subject", "not a Patient reference"))
    # One rejected row per Observation: its first problem.
    bad = pd.Series(False, index=parts.index)
    rows = []
    for mask, path, reason in problems:
        mask = mask.fillna(False) & ~bad
        if mask.any():
            rows.append(
                pd.DataFrame(
                    {
                        "key": list(zip(parts.loc[mask, "source"], parts.loc[mask, "line"], strict=True)),
                        "id": parts.loc[mask, "id"],
                        "path": path[mask] if isinstance(path, pd.Series) else path,
                        "reason": reason[mask] if isinstance(reason, pd.Series) else reason,
                    }
                )
            )
            bad |= mask
    parts["_key"] = list(zip(parts["source"], parts["line"], strict=True))
    if rows:
        first = pd.concat(rows).drop_duplicates("key")
        rejected_keys = set(first["key"])
        tally.rejected.append(
            pd.DataFrame(
                {
                    "resource_type": "Observation",
                    "resource_id": first["id"],
                    "path": first["path"],
                    "reason": first["reason"],
                    "source": [k[0] for k in first["key"]],
                    "line": [k[1] for k in first["key"]],
                }
            )
        )
        tally.count("Observation", "rejected", len(first))
        parts = parts[~parts["_key"].isin(rejected_keys)]
    head = parts[parts["part"] == "Observation.valueQuantity"].set_index("_key")
    for name in ("resident_id", "date", "encounter", "id"):
        parts[name] = parts["_key"].map(head[name])
    results = parts[quantity.reindex(parts.index)].assign(
        column=measure.reindex(parts.index), value=converted.reindex(parts.index)
    )
    smokers = parts[smoking.reindex(parts.index)].assign(column="smoking", value=np.nan, text=parts["answer"])
    out = pd.concat([results, smokers], ignore_index=True)
    out["encounter_id"] = _reference_id(out["encounter"], "Encounter")
    tally.count("Observation", "used", head.shape[0])
    return out[["resident_id", "date", "encounter_id", "column", "value", "id", "source", "line"]].assign(
        text=out.get("text")
    )


_UNIT_FACTORS = {(code, unit): factor for code, m in OBSERVATION_CODES.items() for unit, factor in m.units.items()}
_ACCEPTED_UNITS = {code: ", ".join(m.units) for code, m in OBSERVATION_CODES.items()}


def _range(column: object) -> tuple[float, float]:
    if not isinstance(column, str):
        return (np.nan, np.nan)
    spec = EVENT_COLUMNS_BY_NAME.get(column) or COLUMNS_BY_NAME[column]
    return (float(spec.low), float(spec.high))  # type: ignore[arg-type]


def _coded(con: duckdb.DuckDBPyConnection, kind: str, columns: str, path: str) -> pd.DataFrame:
    return _fetch(
        con,
        kind,
        f"{columns}, json_extract_string(j, '{path}.system') AS systems, "
        f"json_extract_string(j, '{path}.code') AS codes",
    )


def _conditions(con: duckdb.DuckDBPyConnection, tally: _Tally) -> pd.DataFrame:
    frame = _coded(
        con,
        "Condition",
        "j->'subject'->>'reference' AS subject, json_extract_string(j, '$.clinicalStatus.coding[*].code') "
        "AS clinical, coalesce(j->>'onsetDateTime', j->>'recordedDate') AS effective",
        "$.code.coding[*]",
    )
    tally.count("Condition", "in", len(frame))
    active = frame["clinical"].map(lambda codes: "active" in _list(codes)).astype(bool)
    tally.count("Condition", "skipped", int((~active).sum()))
    frame = frame.loc[active.astype(bool)].copy()
    frame["disease"] = _disease(frame["systems"], frame["codes"])
    frame["resident_id"] = _reference_id(frame["subject"], "Patient")
    tally.reject(
        frame,
        "Condition",
        frame["disease"].isna(),
        "Condition.code",
        "not an ICD-10 I10-I15 / E11 or SNOMED CT 38341003 / 44054006 code",
    )
    tally.reject(frame, "Condition", frame["resident_id"].isna(), "Condition.subject", "not a Patient reference")
    written = frame["effective"].notna()
    frame["date"] = _date(frame["effective"])
    tally.reject(frame, "Condition", written & frame["date"].isna(), "Condition.onset[x]", "not a full date")
    frame = frame[frame["_ok"]]
    tally.count("Condition", "used", len(frame))
    return frame


def _medications(con: duckdb.DuckDBPyConnection, tally: _Tally) -> pd.DataFrame:
    frame = _coded(
        con,
        "Medication",
        "j->>'status' AS status, j->'subject'->>'reference' AS subject, j->'context'->>'reference' AS context, "
        "j->'reasonReference'->0->>'reference' AS reason, j->>'effectiveDateTime' AS effective",
        "$.medicationCodeableConcept.coding[*]",
    )
    for kind in ("MedicationStatement", "MedicationRequest"):
        tally.count(kind, "in", int((frame["type"] == kind).sum()))
    frame["encounter_id"] = _reference_id(frame["context"], "Encounter")
    frame["condition_id"] = _reference_id(frame["reason"], "Condition")
    linked = frame["encounter_id"].notna() | frame["condition_id"].notna()
    usable = (frame["status"] == "active") | (linked & frame["status"].isin(["completed", "not-taken"]))
    for kind in ("MedicationStatement", "MedicationRequest"):
        tally.count(kind, "skipped", int((~usable & (frame["type"] == kind)).sum()))
    frame = frame.loc[usable.astype(bool)].copy()
    atc = _first_code(frame["systems"], frame["codes"], "http://www.whocc.no/atc")
    frame["treatment"] = atc.str.slice(0, 3).map(ATC_TREATMENT)
    frame["resident_id"] = _reference_id(frame["subject"], "Patient")
    for kind in ("MedicationStatement", "MedicationRequest"):
        rows = frame["type"] == kind
        tally.reject(
            frame,
            kind,
            rows & frame["treatment"].isna(),
            f"{kind}.medicationCodeableConcept",
            "no ATC code in C02, C03, C07, C08, C09, C10 or A10",
        )
        tally.reject(frame, kind, rows & frame["resident_id"].isna(), f"{kind}.subject", "not a Patient reference")
    frame = frame[frame["_ok"]]
    for kind in ("MedicationStatement", "MedicationRequest"):
        tally.count(kind, "used", int((frame["type"] == kind).sum()))
    return frame


def _encounters(con: duckdb.DuckDBPyConnection, tally: _Tally) -> pd.DataFrame:
    frame = _coded(
        con,
        "Encounter",
        "j->'subject'->>'reference' AS subject, j->'class'->>'code' AS class, j->'period'->>'start' AS start, "
        "j->'basedOn'->0->>'reference' AS based_on, json_extract_string(j, '$.type[*].coding[*].code') AS types",
        "$.reasonCode[*].coding[*]",
    )
    tally.count("Encounter", "in", len(frame))
    frame["disease"] = _disease(frame["systems"], frame["codes"])
    frame["referral_id"] = _reference_id(frame["based_on"], "ServiceRequest")
    wanted = frame["disease"].notna()
    tally.count("Encounter", "skipped", int((~wanted).sum()))
    frame = frame.loc[wanted.astype(bool)].copy()
    frame["resident_id"] = _reference_id(frame["subject"], "Patient")
    frame["date"] = _date(frame["start"])
    frame["mode"] = frame["class"].map(ENCOUNTER_CLASSES)
    online = frame["types"].map(lambda codes: "online" in [str(c) for c in _list(codes)]).astype(bool)
    frame.loc[online & (frame["mode"] == "phone"), "mode"] = "online"
    followup = frame["referral_id"].isna()
    tally.reject(
        frame,
        "Encounter",
        followup & frame["mode"].isna(),
        "Encounter.class",
        "class " + frame["class"].fillna("(none)").astype(str) + " is not AMB, HH or VR",
    )
    tally.reject(frame, "Encounter", frame["resident_id"].isna(), "Encounter.subject", "not a Patient reference")
    tally.reject(frame, "Encounter", frame["date"].isna(), "Encounter.period.start", "missing or not a full date")
    frame = frame[frame["_ok"]]
    extensions = _extensions(con, "Encounter", EVENT_EXTENSIONS)
    frame = frame.merge(extensions, on=["source", "line"], how="left")
    tally.count("Encounter", "used", len(frame))
    return frame


def _referrals(con: duckdb.DuckDBPyConnection, tally: _Tally) -> pd.DataFrame:
    frame = _coded(
        con,
        "ServiceRequest",
        "j->>'status' AS status, j->'subject'->>'reference' AS subject, j->>'authoredOn' AS authored, "
        "coalesce(j->'occurrencePeriod'->>'end', j->>'occurrenceDateTime') AS returned",
        "$.reasonCode[*].coding[*]",
    )
    tally.count("ServiceRequest", "in", len(frame))
    usable = frame["status"].isin(["active", "completed"])
    tally.count("ServiceRequest", "skipped", int((~usable).sum()))
    frame = frame.loc[usable.astype(bool)].copy()
    frame["disease"] = _disease(frame["systems"], frame["codes"])
    frame["resident_id"] = _reference_id(frame["subject"], "Patient")
    frame["date"] = _date(frame["authored"])
    frame["returned_date"] = _date(frame["returned"])
    tally.reject(
        frame,
        "ServiceRequest",
        frame["disease"].isna(),
        "ServiceRequest.reasonCode",
        "no ICD-10 or SNOMED CT code for diabetes or hypertension",
    )
    tally.reject(
        frame, "ServiceRequest", frame["resident_id"].isna(), "ServiceRequest.subject", "not a Patient reference"
    )
    tally.reject(
        frame, "ServiceRequest", frame["date"].isna(), "ServiceRequest.authoredOn", "missing or not a full date"
    )
    tally.reject(
        frame,
        "ServiceRequest",
        (frame["status"] == "completed") & frame["returned_date"].isna(),
        "ServiceRequest.occurrencePeriod.end",
        "a completed referral without its return date",
    )
    frame = frame[frame["_ok"]]
    tally.count("ServiceRequest", "used", len(frame))
    return frame


def read_fhir(
    paths: Iterable[str | Path],
    *,
    as_of: dt.date,
    settings: FhirSettings | None = None,
    validate: str = "bundles",
    documents: Iterable[tuple[str, dict]] = (),
    connection: duckdb.DuckDBPyConnection | None = None,
) -> FhirImport:
    """Read Bundles and bulk NDJSON into residents and events (SPEC 2), rejected rows and counts (SPEC 14.2).

    ``documents``: Bundles already in memory as (source name, Bundle), e.g. a request body (SPEC 14.3), read by
    the same mapping as files. ``connection``: a DuckDB connection to work in (left without the tables made here),
    e.g. the thread's (:func:`riskmodel.records.local_connection.thread_connection`); else a new one."""
    settings = settings or FhirSettings()
    con = connection or duckdb.connect()
    try:
        rejected = load_resources(con, [Path(p) for p in paths], validate=validate, documents=documents)
        return map_resources(con, rejected, as_of=as_of, settings=settings)
    finally:
        if connection is None:
            con.close()
        else:
            for table in ("lines", "parsed", "resources"):
                con.execute(f"DROP TABLE IF EXISTS {table}")


def map_resources(
    con: duckdb.DuckDBPyConnection, rejected: pd.DataFrame, *, as_of: dt.date, settings: FhirSettings
) -> FhirImport:
    """The mapping of the relation ``resources`` (filled by :func:`load_resources`; ``rejected``: its rejected
    rows) into residents, events, rejected rows and counts."""
    tally = _Tally()
    for kind, n_bad, _ in con.sql(
        "SELECT coalesce(type, '(none)'), count(*) FILTER (WHERE NOT valid), count(*) FROM resources GROUP BY 1"
    ).fetchall():
        if n_bad:
            tally.count(kind, "in", n_bad)
            tally.count(kind, "rejected", n_bad)
    other = con.sql(
        f"SELECT coalesce(type, '(none)'), count(*) FROM resources WHERE valid AND coalesce(type, '') NOT IN "
        f"({', '.join(repr(k) for k in READ_TYPES)}) GROUP BY 1"
    ).fetchall()
    for kind, n in other:
        tally.count(kind, "in", n)
        tally.count(kind, "skipped", n)
    residents = _patients(con, tally, as_of, settings)
    observations = _observations(con, tally)
    conditions = _conditions(con, tally)
    medications = _medications(con, tally)
    encounters = _encounters(con, tally)
    referrals = _referrals(con, tally)
    for kind in ("Condition", "MedicationStatement", "MedicationRequest", "Encounter", "ServiceRequest", "Patient"):
        n = sum(len(f[f["resource_type"] == kind]) for f in tally.rejected)
        if n:
            tally.count(kind, "rejected", n)
    from riskmodel.interchange.fhir_assembly import assemble

    residents, events = assemble(residents, observations, conditions, medications, encounters, referrals)
    rejected = pd.concat([rejected, *tally.rejected], ignore_index=True) if tally.rejected else rejected
    counts = tally.counts
    for entry in counts.values():
        entry["used"] = entry["in"] - entry["skipped"] - entry["rejected"]
    return FhirImport(
        residents=residents,
        events=events,
        rejected=rejected_frame(rejected.to_dict("records")),
        counts=counts,
        observations=observations[["resident_id", "date", "column", "id"]],
    )
