"""The fitted tier models: one LightGBM classifier per disease plus its calibrator (SPEC section 3).

A :class:`RiskModel` is saved as a plain folder (booster text files, JSON, the config as YAML) so that
the core library loads it without MLflow; :mod:`serving.registry` resolves ``models:/`` URIs to such a
folder.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import yaml

from riskmodel.config import RiskConfig
from riskmodel.exceptions import ModelNotFoundError, SchemaMismatchError
from riskmodel.model.calibration import MatrixScaling
from riskmodel.model.features import Disease, feature_matrix, feature_names
from riskmodel.model.single_row import SingleRowPredictor
from riskmodel.records.schema import DISEASES, SCHEMA_VERSION

MANIFEST = "riskmodel.json"


CHRONIC_CLASS = 2


def chronic_class_booster(booster: lgb.Booster) -> lgb.Booster:
    """A single-output booster of the chronic-class trees of a 3-class booster (same raw chronic score).

    LightGBM stores a multiclass model's trees interleaved by class (tree ``i`` belongs to class ``i % 3``);
    this keeps every third tree from the chronic class, renumbers them and declares one output.
    """
    text = booster.model_to_string()
    head, rest = text.split("\nTree=0\n", 1)
    trees, tail = ("Tree=0\n" + rest).split("\nend of trees\n", 1)
    blocks = trees.strip("\n").split("\n\n\n")
    kept = [block for i, block in enumerate(blocks) if i % 3 == CHRONIC_CLASS]
    renumbered = [f"Tree={j}\n" + block.split("\n", 1)[1] for j, block in enumerate(kept)]
    header = []
    for line in head.splitlines():
        if line.startswith("num_class="):
            line = "num_class=1"
        elif line.startswith("num_tree_per_iteration="):
            line = "num_tree_per_iteration=1"
        elif line.startswith("objective="):
            line = "objective=regression"
        elif line.startswith("tree_sizes="):
            continue
        header.append(line)
    return lgb.Booster(model_str="\n".join(header) + "\n" + "\n\n\n".join(renumbered) + "\n\n\nend of trees\n" + tail)


@dataclass
class DiseaseModel:
    """One disease's booster, its calibrator and the features it was trained on."""

    disease: Disease
    booster: lgb.Booster
    calibrator: MatrixScaling
    features: tuple[str, ...]
    _chronic_trees: lgb.Booster | None = field(default=None, repr=False)

    def raw_probabilities(self, matrix: np.ndarray, *, num_threads: int = 0) -> np.ndarray:
        if matrix.shape[0] == 1:  # one resident: LightGBM's single-row path, the same numbers in microseconds
            out = self._single_row().predict(matrix)
            if out is not None:
                return out
        return np.asarray(self.booster.predict(matrix, num_threads=num_threads), dtype=np.float64)

    def _single_row(self) -> SingleRowPredictor:
        predictor = self.__dict__.get("_single_row_predictor")
        if predictor is None or not predictor.current(self.booster):
            predictor = SingleRowPredictor(self.booster)
            self.__dict__["_single_row_predictor"] = predictor
        return predictor  # type: ignore[no-any-return]

    def __getstate__(self) -> dict[str, Any]:
        # The single-row predictor holds C pointers: never pickled, rebuilt on first use.
        return {k: v for k, v in self.__dict__.items() if k != "_single_row_predictor"}

    def probabilities(self, matrix: np.ndarray, *, num_threads: int = 0) -> np.ndarray:
        """Calibrated P(healthy), P(high_risk), P(chronic), one row per resident."""
        return self.calibrator.transform(self.raw_probabilities(matrix, num_threads=num_threads))

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """TreeSHAP contributions of each feature to the raw chronic-class score, (n, n_features).

        Computed on a booster of the chronic-class trees alone: in a multiclass LightGBM model each class's
        raw score is the sum of its own trees, so its SHAP values are those trees' SHAP values, at a third
        of the cost of explaining all three classes.
        """
        if self._chronic_trees is None:
            self._chronic_trees = chronic_class_booster(self.booster)
        contrib = np.asarray(self._chronic_trees.predict(matrix, pred_contrib=True))
        return contrib[:, :-1]


@dataclass
class RiskModel:
    """Both disease models, the config they were trained with, and where they came from."""

    diabetes: DiseaseModel
    hypertension: DiseaseModel
    config: RiskConfig
    schema_version: int = SCHEMA_VERSION
    version: str = "unregistered"
    training_summary: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    screen_cuts: dict[str, float] = field(default_factory=dict)
    """Per disease, the P(chronic) cut of the model policy chosen at training (SPEC 3)."""
    reference: dict[str, Any] = field(default_factory=dict)
    """The training reference monitoring compares batches with (riskmodel.monitoring.drift)."""

    def prepare_explanations(self) -> RiskModel:
        """Build the chronic-class explainers now rather than on the first work list (for servers)."""
        for name in DISEASES:
            model = self.disease(name)  # type: ignore[arg-type]
            if model._chronic_trees is None:
                model._chronic_trees = chronic_class_booster(model.booster)
        return self

    def disease(self, name: Disease) -> DiseaseModel:
        return self.diabetes if name == "diabetes" else self.hypertension

    def predict(
        self, columns: Mapping[str, np.ndarray], derived: Mapping[str, np.ndarray], *, num_threads: int = 0
    ) -> dict[str, np.ndarray]:
        """Calibrated probabilities per disease, ``{"diabetes": (n, 3), "hypertension": (n, 3)}``."""
        out: dict[str, np.ndarray] = {}
        for name in DISEASES:
            model = self.disease(name)  # type: ignore[arg-type]
            matrix = feature_matrix(columns, model.disease, derived=derived)
            out[name] = model.probabilities(matrix, num_threads=num_threads)
        return out

    # ----------------------------------------------------------------------------------- persistence

    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        manifest: dict[str, Any] = {
            "schema_version": self.schema_version,
            "version": self.version,
            "training_summary": self.training_summary,
            "metrics": self.metrics,
            "screen_cuts": self.screen_cuts,
            "reference": self.reference,
            "diseases": {},
        }
        for name in DISEASES:
            model = self.disease(name)  # type: ignore[arg-type]
            model.booster.save_model(str(folder / f"{name}.lgb.txt"))
            manifest["diseases"][name] = {"features": list(model.features), "calibrator": model.calibrator.to_dict()}
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, default=float), encoding="utf-8")
        (folder / "config.yaml").write_text(
            yaml.safe_dump(self.config.public_dump(), sort_keys=False),
            encoding="utf-8",
        )
        return folder

    @classmethod
    def load(cls, folder: str | Path, *, version: str | None = None) -> RiskModel:
        """Load a saved model folder and check it against this code's schema and features."""
        folder = Path(folder)
        if not (folder / MANIFEST).exists():
            raise ModelNotFoundError(f"{folder}: no riskmodel model here (missing {MANIFEST})")
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        if manifest.get("schema_version") != SCHEMA_VERSION:
            raise SchemaMismatchError(
                f"{folder}: model built for record schema version {manifest.get('schema_version')}, this code reads "
                f"version {SCHEMA_VERSION}; retrain the model or use a matching riskmodel release"
            )
        config = RiskConfig.model_validate(yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8")))
        models: dict[str, DiseaseModel] = {}
        for name in DISEASES:
            state = manifest["diseases"][name]
            features = tuple(state["features"])
            expected = feature_names(name)  # type: ignore[arg-type]
            if features != expected:
                raise SchemaMismatchError(
                    f"{folder}: the {name} model was trained on features {sorted(set(features) - set(expected))} "
                    f"that this code does not build and lacks {sorted(set(expected) - set(features))}; retrain it"
                )
            booster = lgb.Booster(model_file=str(folder / f"{name}.lgb.txt"))
            models[name] = DiseaseModel(name, booster, MatrixScaling.from_dict(state["calibrator"]), features)  # type: ignore[arg-type]
        return cls(
            diabetes=models["diabetes"],
            hypertension=models["hypertension"],
            config=config,
            schema_version=manifest["schema_version"],
            version=version or manifest.get("version", "local"),
            training_summary=manifest.get("training_summary", {}),
            metrics=manifest.get("metrics", {}),
            screen_cuts=manifest.get("screen_cuts", {}),
            reference=manifest.get("reference", {}),
        )
