"""Recalibration for a site's own residents (SPEC 12): refit only the calibration of a registered model.

The trees stay as they are; each disease's matrix-scaling calibrator is refitted on the local residents of the
population the model serves (no diagnosis or treatment of the disease recorded) that carry a label (a defining
measurement). ECE (equal-frequency) and observed/expected are measured before and after on those residents.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from riskmodel.config import RiskConfig
from riskmodel.model.calibration import MatrixScaling
from riskmodel.model.evaluation import equal_frequency_ece, observed_expected
from riskmodel.model.features import derived_features, feature_matrix
from riskmodel.model.labels import served_labelled
from riskmodel.model.tier_model import DiseaseModel, RiskModel
from riskmodel.records.reading import resident_columns
from riskmodel.records.schema import DISEASES

MIN_LOCAL_RESIDENTS = 200
"""Fewer labelled local residents than this are not enough to refit a calibrator."""


@dataclass
class Recalibration:
    model: RiskModel
    metrics: dict[str, float]
    data_summary: dict[str, Any]


def recalibrate(model: RiskModel, residents: pd.DataFrame, config: RiskConfig) -> Recalibration:
    """A copy of ``model`` with each calibrator refitted on the local residents; metrics before and after."""
    columns = resident_columns(residents)
    derived = derived_features(columns)
    fitted: dict[str, DiseaseModel] = {}
    metrics: dict[str, float] = {}
    summary: dict[str, Any] = {"local_residents": int(len(residents))}
    for disease in DISEASES:
        rows, labels = served_labelled(columns, disease, config)  # type: ignore[arg-type]
        if rows.sum() < MIN_LOCAL_RESIDENTS:
            raise ValueError(
                f"{disease}: only {int(rows.sum())} local residents of the served population have a defining "
                f"measurement; at least {MIN_LOCAL_RESIDENTS} are needed to recalibrate"
            )
        old = model.disease(disease)  # type: ignore[arg-type]
        x = feature_matrix(columns, disease, derived=derived)[rows]  # type: ignore[arg-type]
        y = labels[rows]
        before = old.probabilities(x)[:, 2]
        new = replace(old, calibrator=MatrixScaling().fit(old.raw_probabilities(x), y))
        after = new.probabilities(x)[:, 2]
        chronic = (y == 2).astype(float)
        for when, p in (("before", before), ("after", after)):
            metrics[f"{disease}_ece_equal_frequency_{when}"] = equal_frequency_ece(chronic, p)
            metrics[f"{disease}_observed_expected_{when}"] = observed_expected(chronic, p)
        summary[f"{disease}_local_residents"] = int(rows.sum())
        summary[f"{disease}_local_positives"] = int(chronic.sum())
        fitted[disease] = new
    recalibrated = RiskModel(
        diabetes=fitted["diabetes"],
        hypertension=fitted["hypertension"],
        config=model.config,
        training_summary={**model.training_summary, "recalibration": summary},
        metrics={**model.metrics, **metrics},
        screen_cuts=dict(model.screen_cuts),
        reference=model.reference,
    )
    return Recalibration(recalibrated, metrics, summary)


__all__ = ["Recalibration", "recalibrate"]
