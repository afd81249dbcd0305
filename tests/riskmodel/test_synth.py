"""The synthetic population (SPEC section 9): calibration targets, determinism, validity."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
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


@pytest.fixture(scope="module")
def with_history(tmp_path_factory):
    import pyarrow.parquet as pq

    from riskmodel.synth.population import events_path

    path = tmp_path_factory.mktemp("history") / "residents.parquet"
    write_population(path, 30_000, teams=25, seed=11, as_of=dt.date(2026, 7, 1), history_years=3)
    return path, pq.read_table(path).to_pandas(), pq.read_table(events_path(path))


def test_histories_hit_the_published_targets(with_history):
    # SPEC 9: 25-35 % of managed patients overdue at any date; hypertension controlled at about half of
    # managed follow-ups; treated diabetes FPG < 7 in about half.
    _, residents, events = with_history
    frame = events.to_pandas()
    as_of = pd.Timestamp("2026-07-01")
    managed = residents["diagnosed_diabetes"].fillna(False) | residents["diagnosed_hypertension"].fillna(False)
    last = pd.to_datetime(residents["last_followup_date"])
    overdue = (as_of - last).dt.days.gt(90) | last.isna()
    assert 0.25 <= overdue[managed].mean() <= 0.35
    htn = frame[(frame.kind == "followup") & (frame.disease == "hypertension") & frame.sbp_mmhg.notna()]
    age = residents.set_index("resident_id")["age_years"].reindex(htn.resident_id).to_numpy()
    controlled = (htn.sbp_mmhg.to_numpy() < np.where(age >= 65, 150, 140)) & (htn.dbp_mmhg.to_numpy() < 90)
    assert 0.45 <= controlled.mean() <= 0.55
    dm = frame[(frame.kind == "followup") & (frame.disease == "diabetes") & frame.fpg_mmol_l.notna()]
    assert 0.45 <= (dm.fpg_mmol_l < 7).mean() <= 0.55
    assert 3 <= len(frame) / len(residents) <= 12


def test_history_rows_are_what_the_events_imply(with_history, config):
    from riskmodel.records.derivation import history_state
    from riskmodel.records.reading import read_residents, resident_columns

    path, _, events = with_history
    residents = read_residents(path).residents.head(5000)
    columns = resident_columns(residents)
    ids = residents["resident_id"].to_numpy(dtype=object)
    state = history_state(columns, ids, events, as_of=dt.date(2026, 7, 1), config=config)
    np.testing.assert_array_equal(state["bp_date"], columns["bp_date"])
    np.testing.assert_array_equal(np.nan_to_num(state["sbp_mmhg"]), np.nan_to_num(columns["sbp_mmhg"]))
    newest = np.maximum(
        state["diabetes_last_followup_date"].astype("datetime64[D]").astype(np.int64),
        state["hypertension_last_followup_date"].astype("datetime64[D]").astype(np.int64),
    )
    followed = ~np.isnat(columns["last_followup_date"])
    np.testing.assert_array_equal(newest[followed], columns["last_followup_date"][followed].astype(np.int64))
    streak = np.fmax(state["diabetes_uncontrolled_visits"], state["hypertension_uncontrolled_visits"])
    np.testing.assert_array_equal(streak[followed], columns["uncontrolled_visits"][followed])


def test_measured_cases_are_both_confirmed_and_unconfirmed(with_history, model, config):
    from riskmodel.batch import score_file
    from riskmodel.synth.population import events_path

    path, _, _ = with_history
    output = path.parent / "scored.parquet"
    summary = score_file(path, output, model, config=config, as_of=dt.date(2026, 7, 1), events_path=events_path(path))
    assert summary.events_read == summary.events_used + summary.events_rejected and summary.events_rejected == 0
    scored = pd.read_parquet(output)
    # SPEC 13.2: a completed confirmation stands against later normal readings, so more measured cases stay
    # confirmed than when only fresh results counted (diabetes 0.80 at seed 11).
    for disease, low, high in (("hypertension", 0.05, 0.35), ("diabetes", 0.2, 0.9)):
        measured = scored[
            (scored[f"{disease}_tier"] == "chronic") & (scored[f"{disease}_tier_source"] == "measurement")
        ]
        assert len(measured) > 50
        assert low <= measured[f"{disease}_confirmed"].mean() <= high, disease
