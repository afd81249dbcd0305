"""Training both disease models (SPEC section 3) and measuring them on held-out residents.

The split is by resident (a hash of the resident id and the seed), so a resident never lands in two
parts and the split does not depend on row order. Each model is trained, early-stopped and calibrated on
the population it serves: residents with no diagnosis or treatment of its disease recorded (known patients
never meet the model, so they are not in its training data).

With ``model.selection: cv`` (the default), the tree settings and the number of trees are chosen by K-fold
cross-validation on the training residents among ``model.candidates`` (mean fold AUROC of P(chronic); the
test residents are never looked at), the chosen settings are refitted on all training residents, and the
calibration is fitted on the chosen candidate's out-of-fold predictions. With ``fixed``, the configured
settings are early-stopped and calibrated on a validation split. The ``screen_cut`` of the model policy is
chosen on held-out predictions (out of fold, or the validation split) as the highest cut whose sensitivity
for undiagnosed chronic disease is at least ``tiers.model_target_sensitivity``; it is stored with the model.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import lightgbm as lgb
import numpy as np
import pandas as pd

from riskmodel.config import RiskConfig, TreeSettings
from riskmodel.model.calibration import MatrixScaling
from riskmodel.model.evaluation import DiseaseEvaluation, age_band, evaluate_disease
from riskmodel.model.features import Disease, derived_features, feature_matrix, feature_names
from riskmodel.model.labels import tier_labels
from riskmodel.model.tier_model import DiseaseModel, RiskModel
from riskmodel.monitoring.drift import reference
from riskmodel.records.reading import resident_columns
from riskmodel.records.schema import DISEASES, TIERS
from riskmodel.rules.recorded import recorded_in_row
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


def lightgbm_params(config: RiskConfig, settings: TreeSettings | None = None) -> dict[str, Any]:
    m = config.model
    tree = settings or TreeSettings(
        num_leaves=m.num_leaves, learning_rate=m.learning_rate, min_child_samples=m.min_child_samples
    )
    return {
        "objective": "multiclass",
        "num_class": 3,
        "learning_rate": tree.learning_rate,
        "num_leaves": tree.num_leaves,
        "min_data_in_leaf": tree.min_child_samples,
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


@dataclass
class Selection:
    """What cross-validation chose for one disease, and the out-of-fold predictions it left."""

    chosen: TreeSettings
    rounds: int
    candidates: list[dict[str, Any]]
    """Per candidate: its label, the mean and SD of the fold AUROCs of P(chronic), the trees per fold."""
    oof_p_chronic: np.ndarray
    """Calibrated out-of-fold P(chronic) of the cross-validated residents (the screen_cut is chosen on them)."""
    oof_chronic: np.ndarray
    calibrator: MatrixScaling
    """Matrix scaling fitted on the chosen candidate's out-of-fold predictions."""


def assign_folds(resident_ids: pd.Series, *, seed: int, folds: int) -> np.ndarray:
    """Fold 0..folds-1 per resident by a hash of id and seed (independent of the test split's hash)."""
    key = f"{(seed + 7919) % 10**16:016d}"
    hashed = pd.util.hash_pandas_object(resident_ids.astype("string"), index=False, hash_key=key)
    return (hashed.to_numpy() % np.uint64(folds)).astype(np.int64)


def _cross_validate(disease: Disease, x: np.ndarray, y: np.ndarray, ids: pd.Series, config: RiskConfig) -> Selection:
    """Choose tree settings and the number of trees by K-fold cross-validation (mean fold AUROC of P(chronic));
    the chosen candidate's out-of-fold predictions calibrate the final model."""
    from riskmodel.model.evaluation import auroc

    m = config.model
    rows = np.arange(len(y))
    if len(rows) > m.cv_max_rows:  # a sample by resident: the choice holds, the time does not grow with the data
        unit = assign_folds(ids, seed=m.seed + 1, folds=1_000_000) / 1_000_000
        rows = rows[unit < m.cv_max_rows / len(rows)]
    folds = assign_folds(ids.iloc[rows].reset_index(drop=True), seed=m.seed, folds=m.cv_folds)
    names = list(feature_names(disease))
    results: list[dict[str, Any]] = []
    fold_trees: list[list[int]] = []
    best: tuple[float, int, np.ndarray] | None = None
    for index, settings in enumerate(m.candidate_settings()):
        params = lightgbm_params(config, settings)
        oof = np.zeros((len(rows), 3))
        scores, trees = [], []
        for k in range(m.cv_folds):
            held = folds == k
            fit, out = rows[~held], rows[held]
            booster = lgb.train(
                params,
                lgb.Dataset(x[fit], y[fit], feature_name=names),
                num_boost_round=m.max_rounds,
                valid_sets=[lgb.Dataset(x[out], y[out], feature_name=names)],
                callbacks=[lgb.early_stopping(m.early_stopping_rounds, verbose=False)],
            )
            oof[held] = booster.predict(x[out], num_iteration=booster.best_iteration)
            scores.append(auroc(y[out] == 2, oof[held][:, 2]))
            trees.append(int(booster.best_iteration or booster.current_iteration()))
        mean = float(np.nanmean(scores))
        fold_trees.append(trees)
        results.append(
            {
                "settings": settings.label(),
                "cv_auroc": mean,
                "cv_auroc_sd": float(np.nanstd(scores)),
                "trees_per_fold": trees,
            }
        )
        logger.info("%s, %s: CV AUROC %.4f", disease, settings.label(), mean)
        if best is None or mean > best[0]:
            best = (mean, index, oof)
    assert best is not None
    _, index, oof = best
    chosen = m.candidate_settings()[index]
    rounds = max(1, round(float(np.mean(fold_trees[index])) * m.refit_rounds_factor))
    for position, result in enumerate(results):
        result["chosen"] = position == index
    calibrator = MatrixScaling().fit(oof, y[rows])
    return Selection(chosen, rounds, results, calibrator.transform(oof)[:, 2], y[rows] == 2, calibrator)


def _fit_disease_cv(
    disease: Disease, x: np.ndarray, y: np.ndarray, ids: pd.Series, config: RiskConfig
) -> tuple[DiseaseModel, Selection]:
    """Cross-validate, then refit the chosen settings on every training resident with the chosen number of trees."""
    if len(y) < MIN_LABELLED:
        raise ValueError(
            f"{disease}: only {len(y)} training residents have a defining measurement; at least {MIN_LABELLED} "
            "are needed"
        )
    selection = _cross_validate(disease, x, y, ids, config)
    names = list(feature_names(disease))
    booster = lgb.train(
        lightgbm_params(config, selection.chosen),
        lgb.Dataset(x, y, feature_name=names, free_raw_data=True),
        num_boost_round=selection.rounds,
    )
    booster = lgb.Booster(model_str=booster.model_to_string())
    logger.info(
        "%s model: %s, %d trees per class (cross-validated), calibrated out of fold on %d residents",
        disease,
        selection.chosen.label(),
        selection.rounds,
        len(selection.oof_chronic),
    )
    return DiseaseModel(disease, booster, selection.calibrator, tuple(names)), selection


def choose_screen_cut(p_chronic: np.ndarray, chronic: np.ndarray, target_sensitivity: float) -> float:
    """The highest cut whose sensitivity for chronic disease is at least the target (SPEC 3)."""
    positives = np.sort(p_chronic[np.asarray(chronic, dtype=bool)])[::-1]
    if not len(positives):
        return 0.5
    needed = int(np.ceil(target_sensitivity * len(positives)))
    return float(positives[min(max(needed, 1), len(positives)) - 1])


def _baseline(disease: Disease, derived: dict[str, np.ndarray]) -> np.ndarray:
    return derived["cdrs_points"] if disease == "diabetes" else derived["bphs_risk_count"]


@dataclass
class _Population:
    """What every step of training reads: the residents as columns, their derived features and their roles."""

    frame: pd.DataFrame
    columns: dict[str, np.ndarray]
    derived: dict[str, np.ndarray]
    roles: np.ndarray


@dataclass
class _Fitted:
    """One disease's model, with the held-out predictions its screen cut is chosen on."""

    model: DiseaseModel
    cut_scores: np.ndarray
    cut_truth: np.ndarray
    summary: dict[str, Any] = field(default_factory=dict)
    cv_metrics: dict[str, float] = field(default_factory=dict)


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
    population = _population(train, test, config)
    frame, roles = population.frame, population.roles
    summary: dict[str, Any] = {
        "residents": int(len(frame)),
        "teams": int(frame["team_id"].nunique()),
        "test_residents": int((roles == TEST).sum()),
        "test_from": "held-out split" if test is None else "separate test data",
    }
    trained = {disease: _train_disease(cast(Disease, disease), population, config, step) for disease in DISEASES}
    references: dict[str, Any] = {d: t.reference for d, t in trained.items()}
    references["top_features"] = {d: t.top_features for d, t in trained.items()}
    for t in trained.values():
        summary |= t.summary
    evaluations = {d: t.evaluation for d, t in trained.items()}
    cv_metrics = {k: v for t in trained.values() for k, v in t.cv_metrics.items()}
    metrics = {f"{d}_{k}": v for d, ev in evaluations.items() for k, v in ev.metrics.items()} | cv_metrics
    risk_model = RiskModel(
        diabetes=trained["diabetes"].model,
        hypertension=trained["hypertension"].model,
        config=config,
        training_summary=summary,
        metrics=metrics,
        screen_cuts={d: t.screen_cut for d, t in trained.items()},
        reference=references,
    )
    samples = {d: t.sample for d, t in trained.items()}
    return TrainingResult(
        model=risk_model, evaluations=evaluations, metrics=metrics, data_summary=summary, explanation_sample=samples
    )


@dataclass
class _Trained:
    """One disease's fitted model with its screen cut, drift reference, evaluation and explanation sample."""

    model: DiseaseModel
    screen_cut: float
    reference: Any
    top_features: list[str]
    evaluation: DiseaseEvaluation
    sample: tuple[np.ndarray, np.ndarray]
    summary: dict[str, Any]
    cv_metrics: dict[str, float]


def _train_disease(
    disease: Disease, population: _Population, config: RiskConfig, step: Callable[[str], None]
) -> _Trained:
    """Fit one disease's model on the population it serves, choose its screen cut and measure it."""
    step(f"training the {disease} model")
    roles = population.roles
    labels = tier_labels(population.columns, disease, config)
    served = ~recorded_in_row(population.columns, disease)
    x = feature_matrix(population.columns, disease, derived=population.derived)
    fit = (labels >= 0) & served  # the population the model serves (SPEC 3)
    fitted = _fit(disease, population, x, labels, served, fit, config)
    model = fitted.model
    train_rows = fit & (roles == TRAIN)
    drift_reference = reference(x[train_rows], model.features, model.probabilities(x[train_rows])[:, 2])
    importance = model.booster.feature_importance(importance_type="gain")
    screen_cut = choose_screen_cut(fitted.cut_scores, fitted.cut_truth, config.tiers.model_target_sensitivity)
    step(f"evaluating the {disease} model")
    test_rows = (labels >= 0) & (roles == TEST)
    evaluation = _evaluate(disease, population, model, x, labels, served, test_rows, screen_cut, config)
    sample = np.flatnonzero(test_rows)[:2000]
    counts = np.bincount(labels[fit & (roles != TEST)], minlength=3)
    summary = fitted.summary | {
        f"{disease}_training_labels": {tier: int(c) for tier, c in zip(TIERS, counts, strict=True)},
        f"{disease}_trees_per_class": int(model.booster.current_iteration()),
    }
    return _Trained(
        model,
        screen_cut,
        drift_reference,
        [model.features[j] for j in np.argsort(-importance)],
        evaluation,
        (x[sample], model.contributions(x[sample])),
        summary,
        fitted.cv_metrics,
    )


def _population(train: pd.DataFrame, test: pd.DataFrame | None, config: RiskConfig) -> _Population:
    """The residents (train, then any separate test cycle) as columns, and each one's role (by resident)."""
    frame = train if test is None else pd.concat([train, test], ignore_index=True)
    columns = resident_columns(frame)
    validation_fraction = 0.0 if config.model.selection == "cv" else config.model.validation_fraction
    if test is None:
        roles = split_residents(
            frame["resident_id"],
            seed=config.model.seed,
            test_fraction=config.model.test_fraction,
            validation_fraction=validation_fraction,
        )
    else:
        inner = split_residents(
            train["resident_id"], seed=config.model.seed, test_fraction=0.0, validation_fraction=validation_fraction
        )
        roles = np.concatenate([inner, np.full(len(test), TEST)])
    return _Population(frame, columns, derived_features(columns), roles)


def _fit(
    disease: Disease,
    population: _Population,
    x: np.ndarray,
    labels: np.ndarray,
    served: np.ndarray,
    fit: np.ndarray,
    config: RiskConfig,
) -> _Fitted:
    """One disease's model: chosen by cross-validation (``cv``) or early-stopped on a validation split."""
    roles = population.roles
    if config.model.selection != "cv":
        model = _fit_disease(disease, x[fit], labels[fit], roles[fit], served[fit], config)
        valid_rows = fit & (roles == VALID)
        return _Fitted(model, model.probabilities(x[valid_rows])[:, 2], labels[valid_rows] == 2)
    rows = fit & (roles != TEST)
    ids = population.frame["resident_id"][rows].reset_index(drop=True)
    model, selection = _fit_disease_cv(disease, x[rows], labels[rows], ids, config)
    summary = {
        f"{disease}_selection": {
            "chosen": selection.chosen.label(),
            "trees_per_class": selection.rounds,
            "candidates": selection.candidates,
        }
    }
    cv_metrics = {}
    for result in selection.candidates:
        tag = result["settings"].split(",")[0].replace("leaves ", "leaves")
        cv_metrics[f"{disease}_cv_auroc_{tag}"] = result["cv_auroc"]
    return _Fitted(model, selection.oof_p_chronic, selection.oof_chronic, summary, cv_metrics)


def _evaluate(
    disease: Disease,
    population: _Population,
    model: DiseaseModel,
    x: np.ndarray,
    labels: np.ndarray,
    served: np.ndarray,
    test_rows: np.ndarray,
    screen_cut: float,
    config: RiskConfig,
) -> DiseaseEvaluation:
    """The model measured on the test residents, against its baseline, overall and by sex, age band and team."""
    columns = population.columns
    probabilities = model.probabilities(x[test_rows])
    return evaluate_disease(
        disease,
        labels=labels[test_rows],
        probabilities=probabilities,
        model_tier=policy_tier(probabilities[:, 1], probabilities[:, 2], config, screen_cut),
        served=served[test_rows],
        baseline=_baseline(disease, population.derived)[test_rows],
        age_years=columns["age_years"][test_rows],
        screen_cut=screen_cut,
        groups={
            "sex": columns["sex"][test_rows],
            "age_band": age_band(columns["age_years"][test_rows]),
            "team": population.frame["team_id"].to_numpy(dtype=object)[test_rows],
        },
    )
