"""One resident's prediction through LightGBM's single-row C path equals ``Booster.predict`` (issue 22)."""

from __future__ import annotations

import pickle

import lightgbm as lgb
import numpy as np
import pandas as pd

from riskmodel.model.features import feature_matrix
from riskmodel.model.single_row import SingleRowPredictor
from riskmodel.model.tier_model import RiskModel
from riskmodel.records.reading import resident_columns
from riskmodel.records.schema import DISEASES
from riskmodel.scoring import assess

TOLERANCE = 1e-12


def _matrices(model: RiskModel, population: pd.DataFrame) -> dict[str, np.ndarray]:
    columns = resident_columns(population.head(300))
    return {name: feature_matrix(columns, name) for name in DISEASES}  # type: ignore[arg-type]


def test_single_row_equals_booster_predict_raw_probabilities_and_calibrated(
    model: RiskModel, population: pd.DataFrame
) -> None:
    for name, matrix in _matrices(model, population).items():
        disease = model.disease(name)  # type: ignore[arg-type]
        batch_probabilities = disease.booster.predict(matrix, num_threads=1)
        batch_raw = disease.booster.predict(matrix, raw_score=True, num_threads=1)
        batch_calibrated = disease.calibrator.transform(np.asarray(batch_probabilities))
        fast = SingleRowPredictor(disease.booster)
        fast_raw = SingleRowPredictor(disease.booster, raw_score=True)
        assert np.isnan(matrix).any()  # missing values take LightGBM's missing branches on both paths
        for i in range(len(matrix)):
            row = matrix[i : i + 1]
            expected = disease.booster.predict(row, num_threads=1)
            got = fast.predict(row)
            assert got is not None and got.shape == expected.shape == (1, 3)
            np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE)
            np.testing.assert_allclose(got[0], batch_probabilities[i], rtol=0, atol=TOLERANCE)
            np.testing.assert_allclose(fast_raw.predict(row)[0], batch_raw[i], rtol=0, atol=TOLERANCE)  # type: ignore[index]
            # the model's own one-row path (fast) against its many-row path (Booster.predict), calibrated
            np.testing.assert_allclose(disease.probabilities(row)[0], batch_calibrated[i], rtol=0, atol=TOLERANCE)
            np.testing.assert_allclose(disease.raw_probabilities(row), expected, rtol=0, atol=TOLERANCE)


def test_single_row_of_a_one_output_booster_has_booster_predicts_shape() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(400, 5))
    x[rng.random(x.shape) < 0.1] = np.nan
    y = (np.nan_to_num(x[:, 0]) + rng.normal(size=400) > 0).astype(float)
    booster = lgb.train({"objective": "binary", "verbose": -1, "num_leaves": 7}, lgb.Dataset(x, y), 20)
    fast = SingleRowPredictor(booster)
    for i in range(50):
        expected = booster.predict(x[i : i + 1])
        got = fast.predict(x[i : i + 1])
        assert got is not None and got.shape == expected.shape == (1,)
        np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE)


def test_assessment_of_one_resident_equals_its_row_in_a_batch(model: RiskModel, population: pd.DataFrame) -> None:
    columns = resident_columns(population.head(50))
    batch = assess(columns, model, as_of="2026-07-01")
    for i in range(50):
        one = assess({k: v[i : i + 1] for k, v in columns.items()}, model, as_of="2026-07-01")
        for name in DISEASES:
            np.testing.assert_allclose(one.probabilities[name][0], batch.probabilities[name][i], rtol=0, atol=1e-12)
            assert one.tiers[name].tier[0] == batch.tiers[name].tier[i]
        assert one.action.action[0] == batch.action.action[i]
        assert one.action.due[0] == batch.action.due[i]
        assert one.action.priority[0] == batch.action.priority[i]


def test_a_model_with_a_single_row_predictor_still_pickles(model: RiskModel, population: pd.DataFrame) -> None:
    matrix = _matrices(model, population)["diabetes"][:1]
    model.diabetes.probabilities(matrix)  # builds the single-row predictor (C pointers)
    copy = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(copy.diabetes.probabilities(matrix), model.diabetes.probabilities(matrix), atol=0)
