"""Synthetic Chinese adults in the resident-record schema (SPEC section 9).

The generative model
--------------------
Each resident is drawn in four layers, every layer from the ones before it plus noise:

1. **Who and how they live.** Sex (49 % men); age from adult age bands of the 2020 census; physical
   activity, smoking (current: men 50.5 %, women 2.1 %), excess alcohol, high-salt diet, family
   histories, GDM history (women).
2. **Body size.** Log-BMI rises with age to the sixth decade and with inactivity; waist follows BMI, sex
   and age; height by sex; weight from BMI and height.
3. **Disease processes.** A latent glycaemic load ``g`` = age + adiposity (BMI and waist beyond BMI) +
   family history + inactivity + GDM + smoking + a large unobserved part. FPG and HbA1c are increasing
   functions of ``g`` with a steep diabetic tail and measurement noise; lipids follow adiposity and
   ``g`` (atherogenic TG/HDL). Untreated SBP rises with age, BMI, sex, salt, alcohol and family
   history, plus an unobserved part; DBP follows SBP and BMI, falling after 60. A resident whose
   untreated values meet a diagnostic threshold has the disease; awareness (diabetes 36.7 %,
   hypertension 46.9 %) and treatment (32.9 %, 40.7 % of all with the disease) are drawn, and
   treatment lowers the measured values (hypertension control 15.3 % of all).
4. **The record.** Dates relative to ``as_of``: the last health check (some recent, some stale, some
   never), which tests were done at it (FPG often, HbA1c and OGTT rarely, lipids about half), the
   follow-ups of managed patients (some overdue, some never recorded) and their consecutive
   uncontrolled visits. Teams hold at most 1,500 residents in grids of about 300.

The unobserved parts are sized so that lab-free models land in the published range (AUROC about
0.70-0.85): the generator does not hand its labels to the features. Generation is chunked
(:data:`CHUNK_ROWS` residents, each chunk with its own seeded stream), so output is identical for a seed
whatever the file format, and memory stays flat at any size.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from riskmodel.exceptions import InputFileError
from riskmodel.records.schema import COLUMNS_BY_NAME, RESIDENT_COLUMNS
from riskmodel.synth.history import events_arrow, generate_history, row_from_events
from riskmodel.vectorised import MISSING

CHUNK_ROWS = 100_000
MAX_TEAM_SIZE = 1_500
GRID_SIZE = 300

# Adult age bands (years, share) after the 2020 census.
AGE_BANDS = (
    (18, 30, 0.17),
    (30, 40, 0.19),
    (40, 50, 0.19),
    (50, 60, 0.20),
    (60, 70, 0.14),
    (70, 80, 0.08),
    (80, 95, 0.03),
)


@dataclass(frozen=True)
class Truth:
    """Generated values before any record gaps, for calibration checks."""

    columns: dict[str, np.ndarray]
    has_diabetes: np.ndarray
    has_hypertension: np.ndarray


def _bernoulli(rng: np.random.Generator, p: np.ndarray | float, n: int) -> np.ndarray:
    return rng.random(n) < p


def _ages(rng: np.random.Generator, n: int) -> np.ndarray:
    shares = np.array([b[2] for b in AGE_BANDS])
    band = rng.choice(len(AGE_BANDS), size=n, p=shares / shares.sum())
    low = np.array([b[0] for b in AGE_BANDS])[band]
    high = np.array([b[1] for b in AGE_BANDS])[band]
    return np.floor(low + rng.random(n) * (high - low))


def draw_truth(rng: np.random.Generator, n: int) -> Truth:
    """Layers 1-3 of the generative model: people, body size and disease, fully measured.

    The layers draw from ``rng`` in a fixed order (people, body size, glycaemia, lipids, blood pressure,
    awareness and treatment, cardiovascular history), so a seed gives the same population."""
    person = _people(rng, n)
    body = _body_size(rng, n, person)
    glycaemia = _glycaemia(rng, n, person, body)
    lipids = _lipids(rng, n, person, body, glycaemia["g"])
    pressure = _blood_pressure(rng, n, person, body, glycaemia["g"])
    treated = _treatment(rng, n, glycaemia, pressure)
    has_dm, has_htn = glycaemia["has_dm"], pressure["has_htn"]
    age_c, male = person["age_c"], person["male"]
    ascvd = _bernoulli(
        rng,
        np.clip(0.004 * np.exp(0.55 * age_c) * (1 + has_htn + has_dm + (person["smoking"] == "current")), 0, 0.4),
        n,
    )
    lipid_drugs = _bernoulli(rng, np.where(ascvd, 0.55, np.where(treated["dm_diag"], 0.2, 0.025)), n)
    columns: dict[str, np.ndarray] = {
        "sex": np.where(male, "M", "F").astype(object),
        "age_years": person["age"],
        "height_cm": np.round(np.clip(body["height"], 135, 200), 1),
        "weight_kg": np.round(np.clip(body["weight"], 30, 200), 1),
        "waist_cm": np.round(np.clip(body["waist"], 52, 150), 1),
        "sbp_mmhg": np.round(np.clip(treated["sbp"], 85, 260)),
        "fpg_mmol_l": np.round(np.clip(treated["fpg"], 3.0, 33.0), 1),
        "ogtt_2h_mmol_l": np.round(np.clip(treated["ogtt"], 3.0, 40.0), 1),
        "hba1c_pct": np.round(np.clip(treated["hba1c"], 4.0, 15.0), 1),
        "tc_mmol_l": np.round(np.clip(lipids["tc"], 2.0, 12.0), 2),
        "tg_mmol_l": np.round(np.clip(lipids["tg"], 0.3, 20.0), 2),
        "hdl_mmol_l": np.round(np.clip(lipids["hdl"], 0.4, 3.5), 2),
        "ldl_mmol_l": np.round(np.clip(lipids["ldl"], 0.3, 9.0), 2),
        "smoking": person["smoking"],
        "physically_active": person["active"],
        "alcohol_excess": person["alcohol"],
        "high_salt_diet": person["salt"],
        "family_history_diabetes": person["fh_dm"],
        "family_history_hypertension": person["fh_htn"],
        "gdm_history": person["gdm"],
        "ascvd_history": ascvd,
        "diagnosed_diabetes": treated["dm_diag"],
        "diagnosed_hypertension": treated["htn_diag"],
        "on_glucose_lowering": treated["dm_treated"],
        "on_antihypertensive": treated["htn_treated"],
        "on_lipid_lowering": lipid_drugs,
    }
    columns["dbp_mmhg"] = np.round(np.clip(np.minimum(treated["dbp"], columns["sbp_mmhg"] - 15), 45, 150))
    columns["bmi_kg_m2"] = np.round(columns["weight_kg"] / (columns["height_cm"] / 100) ** 2, 1)
    return Truth(columns=columns, has_diabetes=has_dm, has_hypertension=has_htn)


Layer = dict[str, np.ndarray]
"""One layer's draws by name."""


def _people(rng: np.random.Generator, n: int) -> Layer:
    """Sex, age, activity, smoking, alcohol, salt, family history and gestational diabetes."""
    male = _bernoulli(rng, 0.49, n)
    age = _ages(rng, n)
    active = _bernoulli(rng, np.clip(0.42 - 0.003 * (age - 45), 0.15, 0.6), n)
    smoke_draw = rng.random(n)
    current_p, former_p = np.where(male, 0.505, 0.021), np.where(male, 0.09, 0.006)
    smoking = np.where(
        smoke_draw < current_p, "current", np.where(smoke_draw < current_p + former_p, "former", "never")
    ).astype(object)
    alcohol = _bernoulli(rng, np.where(male, 0.17, 0.02), n)
    salt = _bernoulli(rng, 0.42, n)
    fh_dm = _bernoulli(rng, 0.13, n)
    fh_htn = _bernoulli(rng, 0.30, n)
    gdm = ~male & _bernoulli(rng, 0.05, n)
    return {
        "male": male,
        "age": age,
        "age_c": (age - 45) / 10,
        "active": active,
        "smoking": smoking,
        "alcohol": alcohol,
        "salt": salt,
        "fh_dm": fh_dm,
        "fh_htn": fh_htn,
        "gdm": gdm,
    }


def _body_size(rng: np.random.Generator, n: int, person: Layer) -> Layer:
    """BMI, waist (with its own residual, which glycaemia also reads), height and weight."""
    male, age_c = person["male"], person["age_c"]
    log_bmi = math.log(23.55) + 0.02 * age_c - 0.012 * age_c**2 + 0.03 * ~person["active"] + rng.normal(0, 0.142, n)
    bmi = np.exp(log_bmi)
    waist_resid = rng.normal(0, 6.4, n)
    waist = np.where(male, 82.6, 77.9) + 2.25 * (bmi - 23.6) + 1.1 * age_c + waist_resid
    height = np.where(male, rng.normal(169.5, 6.3, n), rng.normal(158.0, 5.8, n)) - 0.6 * np.clip(age_c, 0, None)
    weight = bmi * (height / 100) ** 2
    return {"bmi": bmi, "waist_resid": waist_resid, "waist": waist, "height": height, "weight": weight}


def _glycaemia(rng: np.random.Generator, n: int, person: Layer, body: Layer) -> Layer:
    """The glycaemic load ``g`` and the untreated FPG, HbA1c and 2-h OGTT values it gives."""
    g = (
        0.42 * person["age_c"]
        + 0.11 * (body["bmi"] - 23.6)
        + 0.035 * body["waist_resid"]
        + 0.55 * person["fh_dm"]
        + 0.18 * ~person["active"]
        + 0.35 * person["gdm"]
        + 0.12 * (person["smoking"] == "current")
        + 0.1 * person["male"]
        + rng.normal(0, 1.5, n)
    )
    g = 0.735 * g  # rescaled so that the larger unobserved part keeps the spread of glycaemia
    diabetic_excess = np.where(g > 1.68, rng.gamma(2.0, 1.0, n) * (g - 1.2), 0.0)
    fpg = 5.25 + 0.52 * g + 1.25 * diabetic_excess + rng.normal(0, 0.42, n)
    hba1c = 5.17 + 0.3 * g + 0.55 * diabetic_excess + rng.normal(0, 0.27, n)
    ogtt = 5.9 + 1.05 * g + 2.6 * diabetic_excess + rng.normal(0, 0.8, n)
    return {"g": g, "fpg": fpg, "hba1c": hba1c, "ogtt": ogtt, "has_dm": (fpg >= 7.0) | (hba1c >= 6.5)}


def _lipids(rng: np.random.Generator, n: int, person: Layer, body: Layer, g: np.ndarray) -> Layer:
    """HDL, triglycerides, total and LDL cholesterol."""
    male, bmi = person["male"], body["bmi"]
    hdl = np.exp(np.log(np.where(male, 1.17, 1.37)) - 0.018 * (bmi - 23.6) - 0.04 * g + rng.normal(0, 0.2, n))
    tg = np.exp(math.log(1.22) + 0.045 * (bmi - 23.6) + 0.13 * g + 0.08 * male + rng.normal(0, 0.5, n))
    tc = 4.68 + 0.12 * person["age_c"] + 0.04 * (bmi - 23.6) + 0.08 * g + rng.normal(0, 0.85, n)
    ldl = np.clip(tc - hdl - tg / 2.2 + rng.normal(0, 0.15, n), 0.3, None)
    return {"hdl": hdl, "tg": tg, "tc": tc, "ldl": ldl}


def _blood_pressure(rng: np.random.Generator, n: int, person: Layer, body: Layer, g: np.ndarray) -> Layer:
    """Untreated systolic and diastolic pressure."""
    age_c, bmi = person["age_c"], body["bmi"]
    sbp0 = (
        120.5
        + 6.2 * age_c
        + 0.35 * age_c**2
        + 1.15 * (bmi - 23.6)
        + 3.5 * person["male"]
        + 2.5 * person["salt"]
        + 3.0 * person["alcohol"]
        + 3.0 * person["fh_htn"]
        + 1.5 * (g > 1.55)
        + rng.normal(0, 14.5, n)
    )
    dbp0 = 0.38 * sbp0 + 29.0 + 0.45 * (bmi - 23.6) - 2.2 * np.clip(age_c - 1.5, 0, None) + rng.normal(0, 6.5, n)
    return {"sbp0": sbp0, "dbp0": dbp0, "has_htn": (sbp0 >= 140) | (dbp0 >= 90)}


def _treatment(rng: np.random.Generator, n: int, glycaemia: Layer, pressure: Layer) -> Layer:
    """Awareness and treatment, which lower the measured values (diabetes first, then hypertension)."""
    has_dm, has_htn = glycaemia["has_dm"], pressure["has_htn"]
    fpg, hba1c, ogtt, sbp0, dbp0 = (
        glycaemia["fpg"],
        glycaemia["hba1c"],
        glycaemia["ogtt"],
        pressure["sbp0"],
        pressure["dbp0"],
    )
    dm_diag = has_dm & _bernoulli(rng, 0.367, n)
    dm_treated = dm_diag & _bernoulli(rng, 0.329 / 0.367, n)
    dm_controlled = dm_treated & _bernoulli(rng, 0.50, n)
    fpg = np.where(dm_controlled, rng.uniform(5.6, 6.95, n), np.where(dm_treated, fpg - 0.8, fpg))
    hba1c = np.where(dm_controlled, rng.uniform(5.8, 6.9, n), np.where(dm_treated, hba1c - 0.5, hba1c))
    ogtt = np.where(dm_treated, ogtt - 2.0, ogtt)
    htn_diag = has_htn & _bernoulli(rng, 0.469, n)
    htn_treated = htn_diag & _bernoulli(rng, 0.407 / 0.469, n)
    htn_controlled = htn_treated & _bernoulli(rng, 0.153 / 0.407, n)
    sbp = np.where(
        htn_controlled,
        rng.uniform(112, 139, n),
        np.where(htn_treated, np.maximum(sbp0 - 8, rng.uniform(140, 152, n)), sbp0),
    )
    dbp = np.where(htn_controlled, np.minimum(dbp0 - 8, rng.uniform(68, 89, n)), np.where(htn_treated, dbp0 - 4, dbp0))
    return {
        "dm_diag": dm_diag,
        "dm_treated": dm_treated,
        "fpg": fpg,
        "hba1c": hba1c,
        "ogtt": ogtt,
        "htn_diag": htn_diag,
        "htn_treated": htn_treated,
        "sbp": sbp,
        "dbp": dbp,
    }


def _days_ago(
    rng: np.random.Generator, n: int, shares: tuple[float, float, float], spans: tuple[int, int, int, int]
) -> np.ndarray:
    """Draw how many days ago an event was: three bands with the given shares between the span bounds."""
    band = rng.choice(3, size=n, p=np.array(shares) / sum(shares))
    low = np.array(spans[:3])[band]
    high = np.array(spans[1:])[band]
    return np.floor(low + rng.random(n) * (high - low)).astype(np.int64)


def apply_record_gaps(rng: np.random.Generator, truth: Truth, as_of: dt.date) -> dict[str, object]:
    """Layer 4: dates, missing tests and follow-up history as a health record holds them."""
    columns: dict[str, Any] = dict(truth.columns)
    n = len(truth.has_diabetes)
    as_of_day = np.datetime64(as_of, "D")
    examined = _bernoulli(rng, 0.88, n)
    exam_date = as_of_day - _days_ago(rng, n, (0.55, 0.28, 0.17), (0, 365, 730, 1460)).astype("timedelta64[D]")
    exam_date = np.where(examined, exam_date, np.datetime64("NaT"))
    fpg_done = examined & _bernoulli(rng, 0.72, n)
    borderline = truth.columns["fpg_mmol_l"] >= 5.6
    ogtt_done = fpg_done & _bernoulli(rng, np.where(borderline, 0.10, 0.02), n)
    hba1c_done = examined & _bernoulli(rng, 0.22, n)
    lipids_done = examined & _bernoulli(rng, 0.55, n)
    masks = {
        "height_cm": examined & _bernoulli(rng, 0.97, n),
        "weight_kg": examined & _bernoulli(rng, 0.97, n),
        "waist_cm": examined & _bernoulli(rng, 0.85, n),
        "sbp_mmhg": examined & _bernoulli(rng, 0.95, n),
        "fpg_mmol_l": fpg_done,
        "ogtt_2h_mmol_l": ogtt_done,
        "hba1c_pct": hba1c_done,
        "tc_mmol_l": lipids_done,
        "tg_mmol_l": lipids_done,
        "hdl_mmol_l": lipids_done,
        "ldl_mmol_l": lipids_done & _bernoulli(rng, 0.9, n),
    }
    masks["dbp_mmhg"] = masks["sbp_mmhg"]
    masks["bmi_kg_m2"] = masks["height_cm"] & masks["weight_kg"]
    for name, keep in masks.items():
        columns[name] = np.where(keep, truth.columns[name], np.nan)
    for name, known_p in (
        ("family_history_diabetes", 0.85),
        ("family_history_hypertension", 0.85),
        ("physically_active", 0.9),
        ("alcohol_excess", 0.9),
        ("high_salt_diet", 0.8),
        ("gdm_history", 0.9),
        ("smoking", 0.93),
    ):
        columns[name] = _blank(truth.columns[name], _bernoulli(rng, known_p, n))
    columns["gdm_history"] = _blank(columns["gdm_history"], truth.columns["sex"] == "F")  # type: ignore[arg-type]

    # Managed patients: follow-ups, where the latest BP / FPG were taken, uncontrolled streaks.
    managed = truth.columns["diagnosed_diabetes"] | truth.columns["diagnosed_hypertension"]
    followed = managed & _bernoulli(rng, 0.93, n)
    followup_ago = _days_ago(rng, n, (0.68, 0.22, 0.10), (0, 90, 365, 730))
    last_followup = np.where(followed, as_of_day - followup_ago.astype("timedelta64[D]"), np.datetime64("NaT"))
    bp_date = np.where(masks["sbp_mmhg"], exam_date, np.datetime64("NaT"))
    at_followup = followed & (np.isnat(exam_date) | (last_followup > exam_date))
    for name in ("sbp_mmhg", "dbp_mmhg"):
        columns[name] = np.where(
            at_followup & truth.columns["diagnosed_hypertension"], truth.columns[name], columns[name]
        )
    bp_date = np.where(at_followup & truth.columns["diagnosed_hypertension"], last_followup, bp_date)
    glucose_date = np.where(fpg_done | hba1c_done, exam_date, np.datetime64("NaT"))
    dm_followup = at_followup & truth.columns["diagnosed_diabetes"]
    columns["fpg_mmol_l"] = np.where(dm_followup, truth.columns["fpg_mmol_l"], columns["fpg_mmol_l"])
    glucose_date = np.where(dm_followup, last_followup, glucose_date)
    uncontrolled = managed & (
        (
            truth.columns["diagnosed_hypertension"]
            & ((truth.columns["sbp_mmhg"] >= 140) | (truth.columns["dbp_mmhg"] >= 90))
        )
        | (truth.columns["diagnosed_diabetes"] & (truth.columns["fpg_mmol_l"] >= 7.0))
    )
    streak = rng.choice([1, 1, 1, 2, 2, 3, 4], size=n)
    columns["uncontrolled_visits"] = np.where(followed, np.where(uncontrolled, streak, 0), np.nan).astype(float)
    columns["exam_date"] = exam_date
    columns["bp_date"] = bp_date
    columns["glucose_date"] = glucose_date
    columns["last_followup_date"] = last_followup
    return columns


def _blank(values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    if values.dtype == object:
        return np.where(keep, values, MISSING)
    return np.where(keep, values.astype(float), np.nan)


def _identifiers(start: int, n: int, residents_per_team: int) -> dict[str, pa.Array]:
    index = pa.array(np.arange(start, start + n, dtype=np.int64))
    team = pa.array(np.arange(start, start + n, dtype=np.int64) // residents_per_team)
    grid = pa.array((np.arange(start, start + n, dtype=np.int64) % residents_per_team) // GRID_SIZE)
    team_text = pc.utf8_lpad(pc.cast(team, pa.string()), 5, padding="0")
    return {
        "resident_id": pc.binary_join_element_wise("R", pc.utf8_lpad(pc.cast(index, pa.string()), 9, padding="0"), ""),
        "team_id": pc.binary_join_element_wise("T", team_text, ""),
        "grid_id": pc.binary_join_element_wise("T", team_text, "-G", pc.cast(grid, pa.string()), ""),
    }


NOT_SYNTHESISED = frozenset({"pregnant", "htn_registered_date", "dm_registered_date"})
"""Optional columns the synthetic residents leave empty: registration comes from their diagnosis events, and
the population is not pregnant (as the NHANES files, from which pregnant women were removed)."""
_ARROW_TYPES = {"date": pa.date32(), "bool": pa.bool_(), "int": pa.int64(), "str": pa.string(), "category": pa.string()}


def _arrow_column(name: str, values: np.ndarray) -> pa.Array:
    kind = COLUMNS_BY_NAME[name].kind
    if kind == "date":
        days = np.asarray(values, dtype="datetime64[D]")
        return pa.array(days.astype(np.int64).astype(np.int32), pa.date32(), mask=np.isnat(days))
    if kind == "bool":
        floats = np.asarray(values, dtype=float)
        return pa.array(floats == 1.0, pa.bool_(), mask=np.isnan(floats))
    if kind == "int":
        floats = np.asarray(values, dtype=float)
        return pa.array(np.nan_to_num(floats).astype(np.int64), pa.int64(), mask=np.isnan(floats))
    if kind in ("str", "category"):
        return pa.array(values, pa.string())
    floats = np.asarray(values, dtype=float)
    return pa.array(floats, pa.float64(), mask=np.isnan(floats))


def generate_chunk(
    seed: int, chunk_index: int, n: int, as_of: dt.date, residents_per_team: int, history_years: int = 0
) -> tuple[pa.Table, pa.Table | None]:
    """One chunk of the population as an Arrow table in schema order, and its events (with histories).

    The history has its own random stream, so the residents' own draws are the same with or without it;
    with it, the row's dated fields are what the events imply (:func:`riskmodel.synth.history.row_from_events`).
    """
    rng = np.random.default_rng([seed, chunk_index])
    truth = draw_truth(rng, n)
    columns = apply_record_gaps(rng, truth, as_of)
    arrays = _identifiers(chunk_index * CHUNK_ROWS, n, residents_per_team)
    events = None
    if history_years > 0:
        history = generate_history(np.random.default_rng([seed, chunk_index, 1]), truth.columns, as_of, history_years)
        columns = row_from_events(columns, history, as_of)
        events = events_arrow(history, arrays["resident_id"])
    for column in RESIDENT_COLUMNS:
        if column.name in arrays:
            continue
        if column.name in NOT_SYNTHESISED:  # left empty, as most records leave them
            arrays[column.name] = pa.nulls(n, _ARROW_TYPES[column.kind])
        else:
            arrays[column.name] = _arrow_column(column.name, np.asarray(columns[column.name]))
    return pa.table({c.name: arrays[c.name] for c in RESIDENT_COLUMNS}), events


def default_team_count(residents: int, residents_per_team: int) -> int:
    """Enough teams for ``residents`` at about ``residents_per_team`` each (the config's ``synth`` default)."""
    return max(1, math.ceil(residents / residents_per_team))


def residents_per_team(residents: int, teams: int) -> int:
    """Residents per team for an even split; refuses a split above the 1,500-resident team limit."""
    if residents <= 0 or teams <= 0:
        raise InputFileError("residents and teams must both be positive")
    size = math.ceil(residents / teams)
    if size > MAX_TEAM_SIZE:
        raise InputFileError(
            f"{residents} residents in {teams} teams is {size} a team, above the {MAX_TEAM_SIZE} limit of a "
            f"family-doctor team; use at least {math.ceil(residents / MAX_TEAM_SIZE)} teams"
        )
    return size


def iter_population(
    residents: int, *, teams: int, seed: int, as_of: dt.date, history_years: int = 0
) -> Iterator[tuple[pa.Table, pa.Table | None]]:
    """Yield the population chunk by chunk, each with its events (``None`` without histories)."""
    per_team = residents_per_team(residents, teams)
    for chunk_index in range(math.ceil(residents / CHUNK_ROWS)):
        n = min(CHUNK_ROWS, residents - chunk_index * CHUNK_ROWS)
        yield generate_chunk(seed, chunk_index, n, as_of, per_team, history_years)


def events_path(path: str | Path) -> Path:
    """``<stem>.events.<ext>`` beside a population file (SPEC 7, ``riskmodel synth``)."""
    path = Path(path)
    return path.with_name(f"{path.stem}.events{path.suffix}")


def write_population(
    path: str | Path,
    residents: int,
    *,
    teams: int,
    seed: int,
    as_of: dt.date,
    on_chunk: Callable[[int], None] | None = None,
    history_years: int = 0,
) -> Path:
    """Write the population to CSV or Parquet (by extension), streaming chunk by chunk; with
    ``history_years``, its events too (:func:`events_path`).

    Files appear under their names only once complete (written to temporary names, then renamed).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".parquet"}:
        raise InputFileError(f"{path}: choose a .csv or .parquet output")
    path.parent.mkdir(parents=True, exist_ok=True)
    targets = [path, events_path(path)] if history_years > 0 else [path]
    partials = [target.with_name(f".{target.name}.partial") for target in targets]
    writers: list[pq.ParquetWriter | pacsv.CSVWriter | None] = [None] * len(targets)
    try:
        for tables in iter_population(residents, teams=teams, seed=seed, as_of=as_of, history_years=history_years):
            for k, table in enumerate(tables[: len(targets)]):
                if table is None:
                    continue
                if writers[k] is None:
                    writers[k] = (
                        pq.ParquetWriter(partials[k], table.schema, compression="zstd")
                        if suffix == ".parquet"
                        else pacsv.CSVWriter(partials[k], table.schema)
                    )
                writers[k].write_table(table)  # type: ignore[union-attr]
            if on_chunk is not None:
                on_chunk(tables[0].num_rows)
        for k, writer in enumerate(writers):
            if writer is not None:
                writer.close()
                writers[k] = None
        for partial, target in zip(partials, targets, strict=True):
            partial.replace(target)
    finally:
        for writer in writers:
            if writer is not None:
                writer.close()
        for partial in partials:
            partial.unlink(missing_ok=True)
    return path
