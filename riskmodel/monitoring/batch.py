"""Monitoring one batch (SPEC 12), accumulated chunk by chunk while it is scored.

- Drift: per feature, the PSI against the model's training reference and the missing share.
- The distribution of P(chronic) (its PSI and mean).
- Performance where labels exist: residents of the served population whose defining measurement is fresh in
  the batch carry a label (the measurement rules); on them, n, positives, AUROC and observed/expected.
- ``retrain_recommended`` with the rule that fired (config ``monitoring``): PSI above ``psi_threshold`` on one
  of the model's ``top_features`` most important features, observed/expected outside ``oe_range``, or AUROC down
  more than ``auroc_drop`` from training.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from riskmodel.config import RiskConfig
from riskmodel.model.evaluation import auroc, observed_expected
from riskmodel.model.features import feature_matrix
from riskmodel.model.labels import tier_labels
from riskmodel.model.tier_model import RiskModel
from riskmodel.monitoring.drift import bin_counts, drift, psi
from riskmodel.records.schema import DISEASES
from riskmodel.rules.recorded import recorded
from riskmodel.rules.tiers import fresh


class BatchMonitor:
    """Accumulates a batch's monitoring figures; :meth:`report` gives them (``None`` without a reference)."""

    def __init__(self, model: RiskModel, config: RiskConfig) -> None:
        self.model = model
        self.config = config
        self.reference = getattr(model, "reference", None) or {}
        self.counts: dict[str, dict[str, np.ndarray]] = {d: {} for d in DISEASES}
        self.p_counts: dict[str, np.ndarray] = {}
        self.p_sum: dict[str, float] = dict.fromkeys(DISEASES, 0.0)
        self.n: dict[str, int] = dict.fromkeys(DISEASES, 0)
        self.labelled: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {d: [] for d in DISEASES}

    def add(self, assessment: Any) -> None:
        if not self.reference:
            return
        columns, state, as_of = assessment.columns, assessment.state, assessment.as_of
        for disease in DISEASES:
            ref = self.reference[disease]
            served = ~recorded(columns, state, disease)
            matrix = feature_matrix(columns, disease, derived=assessment.derived)[served]  # type: ignore[arg-type]
            for j, name in enumerate(self.model.disease(disease).features):  # type: ignore[arg-type]
                counts = bin_counts(matrix[:, j], ref["features"][name]["edges"])
                self.counts[disease][name] = self.counts[disease].get(name, 0) + counts
            p = assessment.probabilities[disease][served, 2]
            self.p_counts[disease] = self.p_counts.get(disease, 0) + bin_counts(p, ref["p_chronic"]["edges"])
            self.p_sum[disease] += float(p.sum())
            self.n[disease] += int(served.sum())
            date = state["bp_date"] if disease == "hypertension" else state["fpg_date"]
            valid = (
                self.config.tiers.bp_result_valid_days
                if disease == "hypertension"
                else self.config.tiers.glucose_result_valid_days
            )
            labels = tier_labels(columns, disease, self.config)  # type: ignore[arg-type]
            measured = served & (labels >= 0) & ~np.isnat(date) & fresh(date, as_of, valid)
            if measured.any():
                self.labelled[disease].append(
                    (assessment.probabilities[disease][measured, 2], (labels[measured] == 2).astype(float))
                )

    def report(self) -> dict[str, Any] | None:
        if not self.reference or not any(self.n.values()):
            return None
        settings = self.config.monitoring
        out: dict[str, Any] = {"diseases": {}, "rules_fired": []}
        for disease in DISEASES:
            ref = self.reference[disease]
            features = drift(ref, self.counts[disease])
            top = self.reference.get("top_features", {}).get(disease, [])[: settings.top_features]
            scores = np.concatenate([p for p, _ in self.labelled[disease]]) if self.labelled[disease] else np.array([])
            truth = np.concatenate([y for _, y in self.labelled[disease]]) if self.labelled[disease] else np.array([])
            performance = {
                "n": int(len(truth)),
                "positives": int(truth.sum()),
                "auroc": auroc(truth, scores) if len(truth) else float("nan"),
                "observed_expected": observed_expected(truth, scores) if len(truth) else float("nan"),
                "training_auroc": float(self.model.metrics.get(f"{disease}_auroc", float("nan"))),
            }
            out["diseases"][disease] = {
                "features": features,
                "p_chronic": {
                    "psi": psi(ref["p_chronic"]["shares"], self.p_counts[disease]),
                    "mean": self.p_sum[disease] / max(self.n[disease], 1),
                },
                "performance": performance,
                "residents": self.n[disease],
            }
            for name in top:
                if features[name]["psi"] > settings.psi_threshold:
                    out["rules_fired"].append(
                        f"{disease}: PSI {features[name]['psi']:.2f} on {name}, above {settings.psi_threshold}"
                    )
            low, high = settings.observed_expected_range
            if performance["positives"] >= settings.min_positives:
                oe = performance["observed_expected"]
                if not low <= oe <= high:
                    out["rules_fired"].append(f"{disease}: observed/expected {oe:.2f} outside {low}-{high}")
                drop = performance["training_auroc"] - performance["auroc"]
                if drop > settings.auroc_drop:
                    out["rules_fired"].append(f"{disease}: AUROC {performance['auroc']:.3f}, {drop:.3f} below training")
        out["retrain_recommended"] = bool(out["rules_fired"])
        return out
