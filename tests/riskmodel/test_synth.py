"""The synthetic population (SPEC section 9): calibration targets, determinism, validity."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow.parquet as pq
import pytest

from riskmodel.exceptions import InputFileError
from riskmodel.records.reading import read_residents
from riskmodel.synth import draw_truth, generate_chunk, residents_per_team, write_population

# target, tolerance (absolute). SPEC section 9's own figures conflict in places (SBP 131 +/- 21 with a
# hypertension prevalence of 23-27.5 %; mean BMI 23.6 +/- 3.3 with 16.4 % obese): where they do, the
# tolerance says how far we let the generator sit from the figure it cannot meet together with the others.
TARGETS = {
    "diabetes": (0.124, 0.01),
    "diabetes_awareness": (0.367, 0.02),
    "diabetes_treated": (0.329, 0.02),
    "prediabetes_ada": (0.381, 0.06),
    "hypertension": (0.2525, 0.0225),
    "hypertension_awareness": (0.469, 0.02),
    "hypertension_treated": (0.407, 0.02),
    "hypertension_controlled": (0.153, 0.02),
    "high_normal_bp": (0.41, 0.03),
    "overweight": (0.343, 0.04),
    "obese": (0.164, 0.07),
    "central_obesity_men": (0.26, 0.03),
    "central_obesity_women": (0.25, 0.03),
    "fpg_mean": (5.73, 0.15),
    "hba1c_mean": (5.37, 0.1),
    "bmi_mean": (23.6, 0.3),
    "waist_men": (82.8, 1.0),
    "waist_women": (78.5, 1.0),
    "sbp_mean": (131.0, 6.0),
    "tc_mean": (4.72, 0.1),
    "hdl_mean": (1.30, 0.05),
    "ldl_mean": (2.68, 0.1),
    "tg_mean": (1.57, 0.1),
    "smoking_men": (0.505, 0.01),
    "smoking_women": (0.021, 0.005),
}


def measured_figures(n: int = 200_000) -> dict[str, float]:
    truth = draw_truth(np.random.default_rng(2024), n)
    c = truth.columns
    men = c["sex"] == "M"
    dm = truth.has_diabetes | c["diagnosed_diabetes"]
    htn = truth.has_hypertension
    sbp, dbp, bmi, waist = c["sbp_mmhg"], c["dbp_mmhg"], c["bmi_kg_m2"], c["waist_cm"]
    return {
        "diabetes": dm.mean(),
        "diabetes_awareness": c["diagnosed_diabetes"][dm].mean(),
        "diabetes_treated": c["on_glucose_lowering"][dm].mean(),
        "prediabetes_ada": (~dm & ((c["fpg_mmol_l"] >= 5.6) | (c["hba1c_pct"] >= 5.7))).mean(),
        "hypertension": htn.mean(),
        "hypertension_awareness": c["diagnosed_hypertension"][htn].mean(),
        "hypertension_treated": c["on_antihypertensive"][htn].mean(),
        "hypertension_controlled": (c["on_antihypertensive"] & (sbp < 140) & (dbp < 90))[htn].mean(),
        "high_normal_bp": (((sbp >= 120) | (dbp >= 80)) & (sbp < 140) & (dbp < 90) & ~c["on_antihypertensive"]).mean(),
        "overweight": ((bmi >= 24) & (bmi < 28)).mean(),
        "obese": (bmi >= 28).mean(),
        "central_obesity_men": (waist[men] >= 90).mean(),
        "central_obesity_women": (waist[~men] >= 85).mean(),
        "fpg_mean": c["fpg_mmol_l"].mean(),
        "hba1c_mean": c["hba1c_pct"].mean(),
        "bmi_mean": bmi.mean(),
        "waist_men": waist[men].mean(),
        "waist_women": waist[~men].mean(),
        "sbp_mean": sbp.mean(),
        "tc_mean": c["tc_mmol_l"].mean(),
        "hdl_mean": c["hdl_mmol_l"].mean(),
        "ldl_mean": c["ldl_mmol_l"].mean(),
        "tg_mean": c["tg_mmol_l"].mean(),
        "smoking_men": (c["smoking"][men] == "current").mean(),
        "smoking_women": (c["smoking"][~men] == "current").mean(),
    }


@pytest.fixture(scope="module")
def figures() -> dict[str, float]:
    return measured_figures()


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_calibration_target(figures, name):
    target, tolerance = TARGETS[name]
    assert abs(figures[name] - target) <= tolerance, f"{name}: {figures[name]:.4f} vs {target} +/- {tolerance}"


def test_same_seed_same_output_and_different_seed_differs():
    as_of = dt.date(2026, 7, 1)
    a, b = generate_chunk(1, 0, 2000, as_of, 1000)[0], generate_chunk(1, 0, 2000, as_of, 1000)[0]
    assert a.equals(b)
    assert not a.equals(generate_chunk(2, 0, 2000, as_of, 1000)[0])


def test_written_population_validates_and_respects_team_size(tmp_path):
    csv_path = write_population(tmp_path / "p.csv", 12_345, teams=10, seed=3, as_of=dt.date(2026, 7, 1))
    parquet_path = write_population(tmp_path / "p.parquet", 12_345, teams=10, seed=3, as_of=dt.date(2026, 7, 1))
    from_csv, from_parquet = read_residents(csv_path), read_residents(parquet_path)
    assert from_csv.rejected.empty and from_parquet.rejected.empty
    assert len(from_csv.residents) == 12_345
    assert from_csv.residents["team_id"].value_counts().max() <= 1500
    pd_csv = from_csv.residents.reset_index(drop=True)
    pd_parquet = from_parquet.residents.reset_index(drop=True)
    assert pd_csv["resident_id"].equals(pd_parquet["resident_id"])
    assert np.allclose(pd_csv["fpg_mmol_l"].to_numpy(), pd_parquet["fpg_mmol_l"].to_numpy(), equal_nan=True)
    assert pq.ParquetFile(parquet_path).metadata.num_rows == 12_345
    residents = from_parquet.residents
    as_of = np.datetime64("2026-07-01")
    assert (residents["exam_date"].dropna() <= as_of).all()
    assert residents["fpg_mmol_l"].isna().mean() > 0.2  # realistic gaps
    managed = residents["diagnosed_hypertension"].fillna(False)
    overdue = (as_of - residents.loc[managed, "last_followup_date"]).dt.days > 90
    assert 0.05 < overdue.mean() < 0.6


def test_too_few_teams_is_refused():
    with pytest.raises(InputFileError, match="1500 limit"):
        residents_per_team(10_000, 5)
