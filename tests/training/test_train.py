"""Training and evaluation (SPEC section 3 models, issue 3)."""

from __future__ import annotations

import numpy as np
import pytest

from riskmodel.model.features import feature_names
from riskmodel.model.tier_model import RiskModel
from riskmodel.records.reading import read_residents


def test_models_exclude_their_own_defining_fields():
    assert not {"fpg_mmol_l", "ogtt_2h_mmol_l", "hba1c_pct", "diagnosed_diabetes", "on_glucose_lowering"} & set(
        feature_names("diabetes")
    )
    assert not {"sbp_mmhg", "dbp_mmhg", "diagnosed_hypertension", "on_antihypertensive"} & set(
        feature_names("hypertension")
    )
    assert "resident_id" not in feature_names("diabetes") and "cdrs_points" in feature_names("diabetes")


def test_synthetic_metrics_land_in_the_published_range(trained):
    metrics = trained.metrics
    for disease in ("diabetes", "hypertension"):
        assert 0.70 <= metrics[f"{disease}_auroc"] <= 0.87, metrics[f"{disease}_auroc"]
        assert metrics[f"{disease}_ece"] <= 0.03
        assert metrics[f"{disease}_auroc"] > metrics[f"{disease}_baseline_auroc"]
    subgroups = trained.evaluations["diabetes"].subgroups
    assert set(subgroups["subgroup"]) == {"sex", "age_band", "team"}


def test_calibrated_probabilities_sum_to_one_and_training_is_deterministic(population, config, model):
    from riskmodel.records.reading import resident_columns
    from riskmodel.scoring import assess
    from training.train import train_risk_model

    head = population.head(2000)
    first = assess(resident_columns(head), model).probabilities["diabetes"]
    assert np.allclose(first.sum(axis=1), 1.0)
    again = train_risk_model(population, config).model
    second = assess(resident_columns(head), again).probabilities["diabetes"]
    assert np.array_equal(first, second)


def test_saved_model_round_trips(tmp_path, model, population):
    from riskmodel.records.reading import resident_columns
    from riskmodel.scoring import assess

    loaded = RiskModel.load(model.save(tmp_path / "m"))
    columns = resident_columns(population.head(100))
    assert np.array_equal(
        assess(columns, model).probabilities["hypertension"], assess(columns, loaded).probabilities["hypertension"]
    )


@pytest.mark.slow
def test_nhanes_temporal_validation_beats_cdrs_and_is_calibrated(config, nhanes):
    """SPEC section 10: trained on 2011-2014, tested on 2015-2016, AUROC >= CDRS + 0.03, ECE <= 0.02."""
    from training.train import train_risk_model

    train = read_residents([nhanes / "nhanes_2011_2012.csv", nhanes / "nhanes_2013_2014.csv"]).residents
    test = read_residents(nhanes / "nhanes_2015_2016.csv").residents
    metrics = train_risk_model(train, config, test=test).metrics
    assert metrics["diabetes_evaluated_residents"] == 4536 and metrics["diabetes_evaluated_positives"] == 152
    assert metrics["diabetes_auroc"] >= metrics["diabetes_baseline_auroc"] + 0.03
    assert metrics["diabetes_ece"] <= 0.02
    assert metrics["hypertension_auroc"] > metrics["hypertension_baseline_auroc"]
    # smaller trees chosen by cross-validation beat age alone (benchmarks/accuracy.py reports +0.021 on seeds 1-3;
    # this guards against a regression to round 1's +0.015 without pinning the benchmark's exact figure)
    assert metrics["hypertension_auroc"] >= metrics["hypertension_age_auroc"] + 0.015
    assert metrics["hypertension_ece_equal_frequency"] <= 0.02


def test_cross_validation_chooses_the_best_candidate_and_refits_on_everyone(trained, config):
    for disease in ("diabetes", "hypertension"):
        selection = trained.data_summary[f"{disease}_selection"]
        candidates = selection["candidates"]
        assert len(candidates) == len(config.model.candidate_settings()) == 3
        (chosen,) = [c for c in candidates if c["chosen"]]
        assert chosen["cv_auroc"] == max(c["cv_auroc"] for c in candidates)
        assert selection["chosen"] == chosen["settings"]
        assert len(chosen["trees_per_fold"]) == config.model.cv_folds
        expected = round(np.mean(chosen["trees_per_fold"]) * config.model.refit_rounds_factor)
        assert selection["trees_per_class"] == expected == trained.model.disease(disease).booster.current_iteration()
        leaves = chosen["settings"].split(",")[0].replace(" ", "")
        assert trained.metrics[f"{disease}_cv_auroc_{leaves}"] == chosen["cv_auroc"]


def test_fixed_settings_with_a_validation_split_still_train(population, config):
    from training.train import train_risk_model

    fixed = config.model_copy(update={"model": config.model.model_copy(update={"selection": "fixed"})})
    result = train_risk_model(population.head(12_000), fixed)
    assert "diabetes_selection" not in result.data_summary
    assert result.metrics["diabetes_auroc"] > 0.7 and 0 < result.model.screen_cuts["hypertension"] < 1


def test_chronic_class_explainer_matches_full_treeshap(model, population):
    from riskmodel.model.features import feature_matrix
    from riskmodel.records.reading import resident_columns

    matrix = feature_matrix(resident_columns(population.head(200)), "diabetes")
    fitted = model.disease("diabetes")
    width = matrix.shape[1] + 1
    full = np.asarray(fitted.booster.predict(matrix, pred_contrib=True))[:, 2 * width : 3 * width - 1]
    assert np.allclose(fitted.contributions(matrix), full, atol=1e-12)
