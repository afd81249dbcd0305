"""Training both disease models (SPEC section 3) and measuring them on held-out residents.

The split is by resident (a hash of the resident id and the seed), so a resident never lands in two
parts and the split does not depend on row order. Each model is trained, early-stopped and calibrated on
the population it serves: residents with no diagnosis or treatment of its disease recorded (known patients
never meet the model, so they are not in its training data). The ``screen_cut`` of the model policy is chosen
on the validation residents as the highest cut whose sensitivity for undiagnosed chronic disease is at least
``tiers.model_target_sensitivity``; it is stored with the model.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from riskmodel.config import RiskConfig
from riskmodel.model.calibration import MatrixScaling
from riskmodel.model.evaluation import DiseaseEvaluation, age_band, evaluate_disease
from riskmodel.model.features import Disease, derived_features, feature_matrix, feature_names
from riskmodel.model.labels import recorded, tier_labels
from riskmodel.model.tier_model import DiseaseModel, RiskModel
from riskmodel.monitoring.drift import reference
from riskmodel.records.reading import resident_columns
from riskmodel.records.schema import DISEASES, TIERS
from riskmodel.rules.tiers import policy_tier

logger = logging.getLogger(__name__)

TRAIN, VALID, TEST = 0, 1, 2
MIN_LABELLED = 200


@dataclass
class TrainingResult:
    """The fitted model and what was measured on the test residents."""

    model: RiskModel
    evaluations: dict[str, DiseaseEvaluation]
    metrics: dict[str, float]
    data_summary: dict[str, Any]
    explanation_sample: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    """Per disease: (feature matrix, chronic-class contributions) of up to 2,000 test residents."""


def split_residents(
    resident_ids: pd.Series, *, seed: int, test_fraction: float, validation_fraction: float
) -> np.ndarray:
    """Assign each resident to train (0), validation (1) or test (2) by a hash of id and seed."""
    hashed = pd.util.hash_pandas_object(resident_ids.astype("string"), index=False, hash_key=f"{seed:016d}"[:16])
    unit = (hashed.to_numpy() % np.uint64(1_000_000)).astype(np.float64) / 1_000_000
    return np.where(unit < test_fraction, TEST, np.where(unit < test_fraction + validation_fraction, VALID, TRAIN))


def lightgbm_params(config: RiskConfig) -> dict[str, Any]:
    m = config.model
    return {
        "objective": "multiclass",
        "num_class": 3,
        "learning_rate": m.learning_rate,
        "num_leaves": m.num_leaves,
        "min_data_in_leaf": m.min_child_samples,
        "feature_fraction": m.feature_fraction,
        "bagging_fraction": m.bagging_fraction,
        "bagging_freq": 1,
        "lambda_l2": m.lambda_l2,
        "seed": m.seed,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": m.num_threads,
        "verbose": -1,
    }


def _fit_disease(
    disease: Disease, x: np.ndarray, y: np.ndarray, roles: np.ndarray, served: np.ndarray, config: RiskConfig
) -> DiseaseModel:
    train, valid = roles == TRAIN, roles == VALID
    if train.sum() < MIN_LABELLED or valid.sum() < MIN_LABELLED // 4:
        raise ValueError(
            f"{disease}: only {int(train.sum())} training and {int(valid.sum())} validation residents have a "
            f"defining measurement or a recorded diagnosis; at least {MIN_LABELLED} are needed"
        )
    names = list(feature_names(disease))
    booster = lgb.train(
        lightgbm_params(config),
        lgb.Dataset(x[train], y[train], feature_name=names, free_raw_data=True),
        num_boost_round=config.model.max_rounds,
        valid_sets=[lgb.Dataset(x[valid], y[valid], feature_name=names)],
        callbacks=[lgb.early_stopping(config.model.early_stopping_rounds, verbose=False)],
    )
    booster.free_dataset()
    calibrate = valid & served
    raw = np.asarray(booster.predict(x[calibrate], num_iteration=booster.best_iteration))
    calibrator = MatrixScaling().fit(raw, y[calibrate])
    best = booster.best_iteration or booster.current_iteration()
    booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=best))
    logger.info("%s model: %d trees per class, calibrated on %d residents", disease, best, int(calibrate.sum()))
    return DiseaseModel(disease, booster, calibrator, tuple(names))


def choose_screen_cut(p_chronic: np.ndarray, chronic: np.ndarray, target_sensitivity: float) -> float:
    """The highest cut whose sensitivity for chronic disease is at least the target (SPEC 3)."""
    positives = np.sort(p_chronic[np.asarray(chronic, dtype=bool)])[::-1]
    if not len(positives):
        return 0.5
    needed = int(np.ceil(target_sensitivity * len(positives)))
    return float(positives[min(max(needed, 1), len(positives)) - 1])


def _baseline(disease: Disease, derived: dict[str, np.ndarray]) -> np.ndarray:
    return derived["cdrs_points"] if disease == "diabetes" else derived["bphs_risk_count"]


def train_risk_model(
    train: pd.DataFrame,
    config: RiskConfig,
    *,
    test: pd.DataFrame | None = None,
    on_step: Callable[[str], None] | None = None,
) -> TrainingResult:
    """Train both disease models and evaluate them.

    Parameters
    ----------
    train
        Validated residents (:func:`riskmodel.records.read_residents`).
    config
        Hyper-parameters, split fractions and the probability policy.
    test
        Optional separate test residents (e.g. a later survey cycle); otherwise a held-out split of
        ``train`` by resident.
    on_step
        Called with a short description as each step starts (progress display).
    """
    step = on_step or (lambda _: None)
    frame = train if test is None else pd.concat([train, test], ignore_index=True)
    columns = resident_columns(frame)
    derived = derived_features(columns)
    if test is None:
        roles = split_residents(
            frame["resident_id"],
            seed=config.model.seed,
            test_fraction=config.model.test_fraction,
            validation_fraction=config.model.validation_fraction,
        )
    else:
        inner = split_residents(
            train["resident_id"],
            seed=config.model.seed,
            test_fraction=0.0,
            validation_fraction=config.model.validation_fraction,
        )
        roles = np.concatenate([inner, np.full(len(test), TEST)])
    models: dict[str, DiseaseModel] = {}
    cuts: dict[str, float] = {}
    references: dict[str, Any] = {}
    evaluations: dict[str, DiseaseEvaluation] = {}
    samples: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    summary: dict[str, Any] = {
        "residents": int(len(frame)),
        "teams": int(frame["team_id"].nunique()),
        "test_residents": int((roles == TEST).sum()),
        "test_from": "held-out split" if test is None else "separate test data",
    }
    for disease in DISEASES:
        step(f"training the {disease} model")
        labels = tier_labels(columns, disease, config)  # type: ignore[arg-type]
        served = ~recorded(columns, disease)  # type: ignore[arg-type]
        labelled = labels >= 0
        x = feature_matrix(columns, disease, derived=derived)  # type: ignore[arg-type]
        fit = labelled & served  # the population the model serves (SPEC 3)
        model = _fit_disease(disease, x[fit], labels[fit], roles[fit], served[fit], config)  # type: ignore[arg-type]
        models[disease] = model
        train_rows = fit & (roles == TRAIN)
        references[disease] = reference(x[train_rows], model.features, model.probabilities(x[train_rows])[:, 2])
        importance = model.booster.feature_importance(importance_type="gain")
        references.setdefault("top_features", {})[disease] = [model.features[j] for j in np.argsort(-importance)]
        valid_rows = fit & (roles == VALID)
        cuts[disease] = choose_screen_cut(
            model.probabilities(x[valid_rows])[:, 2], labels[valid_rows] == 2, config.tiers.model_target_sensitivity
        )
        step(f"evaluating the {disease} model")
        test_rows = labelled & (roles == TEST)
        probabilities = model.probabilities(x[test_rows])
        evaluations[disease] = evaluate_disease(
            disease,
            labels=labels[test_rows],
            probabilities=probabilities,
            model_tier=policy_tier(probabilities[:, 1], probabilities[:, 2], config, cuts[disease]),
            served=served[test_rows],
            baseline=_baseline(disease, derived)[test_rows],  # type: ignore[arg-type]
            age_years=columns["age_years"][test_rows],
            screen_cut=cuts[disease],
            groups={
                "sex": columns["sex"][test_rows],
                "age_band": age_band(columns["age_years"][test_rows]),
                "team": frame["team_id"].to_numpy(dtype=object)[test_rows],
            },
        )
        sample = np.flatnonzero(test_rows)[:2000]
        samples[disease] = (x[sample], model.contributions(x[sample]))
        counts = np.bincount(labels[fit & (roles != TEST)], minlength=3)
        summary[f"{disease}_training_labels"] = {tier: int(c) for tier, c in zip(TIERS, counts, strict=True)}
        summary[f"{disease}_trees_per_class"] = int(model.booster.current_iteration())
    metrics = {f"{d}_{k}": v for d, ev in evaluations.items() for k, v in ev.metrics.items()}
    risk_model = RiskModel(
        diabetes=models["diabetes"],
        hypertension=models["hypertension"],
        config=config,
        training_summary=summary,
        metrics=metrics,
        screen_cuts=cuts,
        reference=references,
    )
    return TrainingResult(
        model=risk_model, evaluations=evaluations, metrics=metrics, data_summary=summary, explanation_sample=samples
    )
