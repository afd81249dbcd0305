"""Promotion of a challenger to ``champion`` behind a gate that compares like with like (SPEC section 12).

The champion is re-scored on the challenger's evaluation residents: the test files the challenger's run
logged (or its held-out split of the training files, rebuilt from the challenger's seed and fractions, or
a recalibration's local files), found again from the run's dataset records and checked against their
digests. Both models' gated metrics are measured on those same residents, the difference gets a paired
bootstrap 95 % interval (the same resamples for both models), and the gate refuses when a metric is worse
beyond ``promotion.tolerance`` *and* its interval excludes zero. The side-by-side table is returned on
refusal too (:class:`PromotionRefused` carries it).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException

from riskmodel.config import RiskConfig
from riskmodel.exceptions import InputFileError, ModelNotFoundError, PromotionRefusedError
from riskmodel.model.evaluation import (
    auprc,
    auroc,
    equal_frequency_ece,
    expected_calibration_error,
    paired_difference_ci,
)
from riskmodel.model.features import derived_features, feature_matrix
from riskmodel.model.labels import served_labelled
from riskmodel.model.tier_model import RiskModel
from riskmodel.records.reading import read_residents, resident_columns
from riskmodel.records.schema import DISEASES
from training.datasets import LOCAL, TEST, TRAINING, check_unchanged, logged_files
from training.train import TEST as TEST_ROLE
from training.train import split_residents

METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "auroc": auroc,
    "auprc": auprc,
    "ece": expected_calibration_error,
    "ece_equal_frequency": equal_frequency_ece,
}
"""The metrics the gate can measure again, by their name after the disease (``diabetes_auroc``)."""


@dataclass(frozen=True)
class GateRow:
    """One gated metric, both models measured on the same residents."""

    metric: str
    challenger: float
    champion: float
    higher_is_better: bool
    passed: bool
    ci_low: float = math.nan
    """95 % paired bootstrap interval of challenger minus champion."""
    ci_high: float = math.nan
    residents: int = 0
    cases: int = 0

    @property
    def difference(self) -> float:
        return self.challenger - self.champion


@dataclass(frozen=True)
class Promotion:
    name: str
    version: str
    previous_champion: str | None
    forced: bool
    gate: list[GateRow]
    evaluated_on: str = ""
    """What the comparison was measured on (files and residents), for the table's title."""


class PromotionRefused(PromotionRefusedError):
    """The gate refused; the side-by-side table is in ``gate``."""

    def __init__(self, message: str, gate: list[GateRow], evaluated_on: str) -> None:
        super().__init__(message)
        self.gate = gate
        self.evaluated_on = evaluated_on


@dataclass(frozen=True)
class EvaluationData:
    residents: pd.DataFrame
    description: str
    calibrated_on_them: bool = False
    """The challenger's calibration was fitted on these residents (a recalibration's local data)."""


def evaluation_residents(run: object, challenger: RiskModel, data: Sequence[Path] | None = None) -> EvaluationData:
    """The residents the challenger was evaluated on, found from its run's dataset records.

    ``data`` replaces them (the files given are used whole), for runs whose files are elsewhere now.
    """
    if data:
        frame = read_residents(list(data)).residents
        return EvaluationData(frame, f"{', '.join(Path(p).name for p in data)} ({len(frame):,} residents)")
    files = logged_files(run)
    if not files:
        raise InputFileError("the challenger's run recorded no datasets (it predates dataset logging)")
    for role in (TEST, LOCAL):
        chosen = [f for f in files if f.role == role]
        if chosen:
            check_unchanged(chosen)
            frame = read_residents([f.path for f in chosen]).residents
            names = ", ".join(Path(f.path).name for f in chosen)
            return EvaluationData(frame, f"{role} data {names} ({len(frame):,} residents)", role == LOCAL)
    chosen = [f for f in files if f.role == TRAINING]
    check_unchanged(chosen)
    frame = read_residents([f.path for f in chosen]).residents
    settings = challenger.config.model
    roles = split_residents(
        frame["resident_id"],
        seed=settings.seed,
        test_fraction=settings.test_fraction,
        validation_fraction=settings.validation_fraction,
    )
    held_out = frame[roles == TEST_ROLE]
    names = ", ".join(Path(f.path).name for f in chosen)
    return EvaluationData(held_out, f"held-out residents of {names} ({len(held_out):,})")


def cross_fitted_p_chronic(challenger: RiskModel, residents: pd.DataFrame, config: RiskConfig) -> dict[str, np.ndarray]:
    """The challenger's P(chronic) for each resident from its trees calibrated on the *other* half of the residents
    (SPEC 10's cross-fitting), so a recalibration is not judged on the residents it was fitted on."""
    from training.recalibrate import recalibrate

    half = split_residents(residents["resident_id"], seed=config.model.seed, test_fraction=0.5, validation_fraction=0)
    first = half == TEST_ROLE
    columns = resident_columns(residents)
    derived = derived_features(columns)
    out: dict[str, np.ndarray] = {d: np.zeros(len(residents)) for d in DISEASES}
    for scored, fitted_on in ((first, ~first), (~first, first)):
        refit = recalibrate(challenger, residents[fitted_on], config).model
        for disease in DISEASES:
            x = feature_matrix(columns, disease, derived=derived)[scored]  # type: ignore[arg-type]
            out[disease][scored] = refit.disease(disease).probabilities(x)[:, 2]  # type: ignore[arg-type]
    return out


def compare(
    challenger: RiskModel,
    champion: RiskModel | None,
    residents: pd.DataFrame,
    config: RiskConfig,
    *,
    cross_fit: bool = False,
) -> list[GateRow]:
    """Both models' gated metrics on the same residents (the population each disease's model serves, with a
    defining measurement), with the paired bootstrap interval of each difference. ``cross_fit``: the challenger's
    calibration was fitted on these residents, so it is refitted on each half and measured on the other."""
    promotion = config.promotion
    held_out = cross_fitted_p_chronic(challenger, residents, config) if cross_fit else None
    gated = [(m, True) for m in promotion.higher_is_better] + [(m, False) for m in promotion.lower_is_better]
    columns = resident_columns(residents)
    derived = derived_features(columns)
    scored: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]] = {}
    for disease in DISEASES:
        rows, labels = served_labelled(columns, disease, challenger.config)  # type: ignore[arg-type]
        x = feature_matrix(columns, disease, derived=derived)[rows]  # type: ignore[arg-type]
        mine = challenger.disease(disease)  # type: ignore[arg-type]
        new = held_out[disease][rows] if held_out is not None else mine.probabilities(x)[:, 2]
        old = champion.disease(disease).probabilities(x)[:, 2] if champion else None  # type: ignore[arg-type]
        scored[disease] = (labels[rows] == 2, new, old)
    out = []
    for metric, higher in gated:
        disease, _, name = metric.partition("_")
        if disease not in scored or name not in METRICS:
            raise PromotionRefusedError(
                f"promotion metric '{metric}' cannot be measured again; use <disease>_{{{', '.join(METRICS)}}}"
            )
        truth, new, old = scored[disease]
        measure = METRICS[name]
        value = measure(truth, new)
        if old is None:
            out.append(GateRow(metric, value, math.nan, higher, True, residents=len(truth), cases=int(truth.sum())))
            continue
        before = measure(truth, old)
        low, high = paired_difference_ci(
            measure, truth, new, old, resamples=promotion.bootstrap_resamples, seed=config.model.seed
        )
        difference = value - before
        if higher:
            worse = difference < -promotion.tolerance and high < 0
        else:
            worse = difference > promotion.tolerance and low > 0
        out.append(GateRow(metric, value, before, higher, not worse, low, high, len(truth), int(truth.sum())))
    return out


def _alias_version(client, name: str, alias: str) -> str | None:  # type: ignore[no-untyped-def]
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def promote(
    config: RiskConfig,
    *,
    version: str | None = None,
    force: bool = False,
    reason: str = "",
    data: Sequence[Path] | None = None,
) -> Promotion:
    """Move alias ``champion`` to ``version`` (default: the ``challenger``) if the gate passes, or ``force``
    with a ``reason`` (required: it is recorded on the version).

    ``data`` gives the evaluation residents when the challenger's logged files are not readable here.
    """
    from serving.registry import configure, load_model

    if force and not reason.strip():
        raise PromotionRefusedError("a forced promotion needs a reason (--reason TEXT); it is recorded on the version")
    client = configure(config)
    name = config.tracking.registered_model
    target = version or _alias_version(client, name, "challenger")
    if target is None:
        raise ModelNotFoundError(f"no challenger version of '{name}' to promote; run 'riskmodel train' first")
    try:
        model_version = client.get_model_version(name, target)
    except MlflowException as exc:
        raise ModelNotFoundError(f"'{name}' has no version {target}") from exc
    current = _alias_version(client, name, "champion")
    challenger = load_model(f"models:/{name}/{target}", config)
    champion = load_model(f"models:/{name}/{current}", config) if current and current != target else None
    rows, evaluated_on = _gate(
        client, model_version, challenger, champion, data, config, current=current, target=target, force=force
    )
    failed = [row for row in rows if not row.passed]
    if failed and not force:
        raise PromotionRefused(
            f"version {target} is worse than champion {current} beyond the tolerance {config.promotion.tolerance}, "
            "with a paired bootstrap 95 % interval of the difference that excludes zero, on "
            + ", ".join(
                f"{r.metric} ({r.challenger:.4f} vs {r.champion:.4f}, difference {r.difference:+.4f}, "
                f"95 % CI {r.ci_low:+.4f} to {r.ci_high:+.4f})"
                for r in failed
            )
            + f", measured on {evaluated_on}; use --force --reason TEXT to promote anyway",
            rows,
            evaluated_on,
        )
    client.set_registered_model_alias(name, "champion", target)
    _tag_promotion(client, name, target, evaluated_on, force=force, reason=reason, failed=failed)
    return Promotion(
        name=name, version=target, previous_champion=current, forced=force, gate=rows, evaluated_on=evaluated_on
    )


def _gate(
    client: Any,
    model_version: Any,
    challenger: Any,
    champion: Any,
    data: Sequence[Path] | None,
    config: RiskConfig,
    *,
    current: str | None,
    target: str,
    force: bool,
) -> tuple[list[GateRow], str]:
    """The gate's rows (challenger against champion on the challenger's evaluation residents, its calibration
    cross-fitted on halves where it was fitted on them) and what they were measured on."""
    rows: list[GateRow] = []
    evaluated_on = ""
    try:
        run = client.get_run(model_version.run_id) if model_version.run_id else None
        evaluation = evaluation_residents(run, challenger, data)
        evaluated_on = evaluation.description
        cross_fit = evaluation.calibrated_on_them
        try:
            rows = compare(challenger, champion, evaluation.residents, config, cross_fit=cross_fit)
        except ValueError:  # too few residents in a half to refit a calibrator: measured as it is
            cross_fit = False
            rows = compare(challenger, champion, evaluation.residents, config)
        if cross_fit:
            evaluated_on += "; the challenger's calibration cross-fitted on halves"
    except InputFileError as exc:
        if champion is not None and not force:
            raise PromotionRefused(
                f"cannot measure champion {current} on version {target}'s evaluation residents: {exc}; pass "
                "--data FILE with them, or --force --reason TEXT",
                [],
                "",
            ) from exc
    return rows, evaluated_on


def _tag_promotion(
    client: Any, name: str, target: str, evaluated_on: str, *, force: bool, reason: str, failed: list[GateRow]
) -> None:
    """Record on the version when it was promoted, on what it was compared, and a forced promotion's reason."""
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    client.set_model_version_tag(name, target, "promoted_at", stamp)
    if evaluated_on:
        client.set_model_version_tag(name, target, "promotion_compared_on", evaluated_on[:250])
    if force:
        client.set_model_version_tag(name, target, "forced_promotion", "true")
        client.set_model_version_tag(name, target, "forced_promotion_reason", reason)
        client.set_model_version_tag(
            name, target, "forced_over_failed_gate", ", ".join(r.metric for r in failed) or "none"
        )
