"""MLflow: the only module that logs runs and registers models (SPEC section 7, MLflow).

One registered model (``riskmodel`` by default) holds both disease models, the config and the schema
version, as an MLflow pyfunc whose artifact is a :class:`~riskmodel.model.RiskModel` folder. Nothing
that identifies a resident is logged: parameters are the config, metrics are aggregates, artifacts are
plots, aggregate tables, the report and the model; the input example is a made-up resident.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.tracking import MlflowClient

import riskmodel
from riskmodel.config import RiskConfig
from riskmodel.pyfunc import ARTIFACT_NAME
from riskmodel.records.example import EXAMPLE_RESIDENT
from riskmodel.records.schema import SCHEMA_VERSION
from serving.registry import configure
from training.datasets import LOCAL, TEST, TRAINING, RunData, log_datasets, run_name
from training.report import write_report
from training.signature import model_signature
from training.train import TrainingResult

MODEL_CODE = Path(__file__).with_name("mlflow_model.py")
"""The models-from-code file logged as the registered model's ``python_model``."""
PACKAGE_CODE = Path(riskmodel.__file__).parent
"""The package shipped with the model (MLflow ``code_paths``), so it loads without this project installed."""
REQUIREMENTS = (
    "duckdb",
    "lightgbm",
    "numpy",
    "pandas",
    "pyarrow",
    "pydantic",
    "pyyaml",
    "rich",
    "scikit-learn",
)
"""What the shipped package imports when it scores (MLflow itself is added by MLflow)."""


def _finite(metrics: dict[str, float]) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items() if v is not None and math.isfinite(float(v))}


def log_training(
    result: TrainingResult,
    config: RiskConfig,
    *,
    data_sources: list[str],
    test_sources: list[str] | None = None,
    rejected: dict[str, int] | None = None,
) -> str:
    """Log one run (params, metrics, plots, tables, report, datasets, model), register a version, alias
    ``challenger``. The run is named after its data. Returns the registered version number.
    """
    summary = result.data_summary
    tested = int(summary.get("test_residents", 0))
    parts = [RunData(TRAINING, tuple(data_sources), int(summary["residents"]) - (tested if test_sources else 0),
                     (rejected or {}).get(TRAINING, 0))]  # fmt: skip
    if test_sources:
        parts.append(RunData(TEST, tuple(test_sources), tested, (rejected or {}).get(TEST, 0)))
    configure(config)
    mlflow.set_experiment(config.tracking.experiment)
    with mlflow.start_run(run_name=run_name("train", parts)) as run, tempfile.TemporaryDirectory() as scratch:
        mlflow.log_params({k: str(v)[:500] for k, v in config.as_flat_dict().items()})
        mlflow.log_param("data.sources", ", ".join(Path(s).name for s in data_sources)[:500])
        mlflow.log_param("data.test_from", summary.get("test_from", "held-out split"))
        log_datasets(parts)
        mlflow.log_metrics(_finite(result.metrics))
        mlflow.set_tags({"schema_version": str(SCHEMA_VERSION), "component": "riskmodel"})
        folder = Path(scratch)
        write_report(result, folder / "evaluation")
        mlflow.log_artifacts(str(folder / "evaluation"), artifact_path="evaluation")
        (folder / "training_data_summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
        mlflow.log_artifact(str(folder / "training_data_summary.json"))
        version = _register(result.model, config, folder, run.info.run_id)
    return version


def _next_version(client: MlflowClient, name: str) -> str:
    """The number the registry will give the next version of ``name`` (it counts up from the highest)."""
    from mlflow.exceptions import MlflowException

    versions: list[Any]
    try:
        versions = list(client.search_model_versions(f"name='{name}'"))
    except MlflowException:
        versions = []
    return str(max((int(v.version) for v in versions), default=0) + 1)


def _register(model: Any, config: RiskConfig, folder: Path, run_id: str, tags: dict[str, str] | None = None) -> str:
    """Log the model from code in the active run, register a version with alias ``challenger``; returns the version.

    The version's label (``riskmodel/7``) is written into the model folder before it is logged, so that the
    model answers with its own ``model_version`` wherever it is loaded, ``mlflow models serve`` included.
    """
    client = MlflowClient()
    name = config.tracking.registered_model
    expected = _next_version(client, name)
    dataclasses.replace(model, version=f"{name}/{expected}").save(folder / ARTIFACT_NAME)
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=str(MODEL_CODE),
        code_paths=[str(PACKAGE_CODE)],
        artifacts={ARTIFACT_NAME: str(folder / ARTIFACT_NAME)},
        signature=model_signature(),
        input_example=(pd.DataFrame([EXAMPLE_RESIDENT]), {"as_of": "2026-03-31"}),
        registered_model_name=name,
        pip_requirements=_requirements(),
    )
    version = str(info.registered_model_version)
    if version != expected:
        raise RuntimeError(
            f"{name}: another version was registered at the same time (got {version}, expected {expected}); train again"
        )
    client.set_registered_model_alias(name, "challenger", version)
    for key, value in {"schema_version": str(SCHEMA_VERSION), "run_id": run_id, **(tags or {})}.items():
        client.set_model_version_tag(name, version, key, value)
    return version


def log_recalibration(result: Any, config: RiskConfig, *, parent_version: str, data_sources: list[str]) -> str:
    """Log a recalibration (ECE and observed/expected before and after, its data as datasets, no rows) and
    register the recalibrated model as a new version with alias ``challenger`` and its parent recorded (SPEC 12)."""
    parts = [RunData(LOCAL, tuple(data_sources), int(result.data_summary.get("local_residents", 0)))]
    configure(config)
    mlflow.set_experiment(config.tracking.experiment)
    name = run_name(f"recalibrate v{parent_version}", parts)
    with mlflow.start_run(run_name=name) as run, tempfile.TemporaryDirectory() as scratch:
        mlflow.log_param("parent_version", parent_version)
        mlflow.log_param("data.sources", ", ".join(Path(s).name for s in data_sources)[:500])
        log_datasets(parts)
        mlflow.log_metrics(_finite(result.metrics))
        mlflow.set_tags(
            {"schema_version": str(SCHEMA_VERSION), "component": "riskmodel", "parent_version": parent_version}
        )
        folder = Path(scratch)
        (folder / "recalibration.json").write_text(json.dumps(result.data_summary, indent=2), encoding="utf-8")
        mlflow.log_artifact(str(folder / "recalibration.json"))
        return _register(result.model, config, folder, run.info.run_id, {"parent_version": parent_version})


def _requirements() -> list[str]:
    from importlib.metadata import version

    return [f"{package}=={version(package)}" for package in REQUIREMENTS]


def version_metrics(client: MlflowClient, name: str, version: str) -> dict[str, float]:
    """The metrics of the run that produced a registered version."""
    model_version = client.get_model_version(name, version)
    if not model_version.run_id:
        return {}
    return dict(client.get_run(model_version.run_id).data.metrics)


def log_monitoring(report: dict[str, Any], config: RiskConfig, *, batch_id: str, model_version: str) -> None:
    """Log a published batch's monitoring (aggregates only) as an MLflow run (SPEC 12)."""
    configure(config)
    mlflow.set_experiment(config.tracking.experiment)
    metrics: dict[str, float] = {"retrain_recommended": float(report["retrain_recommended"])}
    for disease, part in report["diseases"].items():
        metrics[f"{disease}_psi_max"] = max((r["psi"] for r in part["features"].values()), default=0.0)
        metrics[f"{disease}_p_chronic_psi"] = part["p_chronic"]["psi"]
        metrics[f"{disease}_p_chronic_mean"] = part["p_chronic"]["mean"]
        for key in ("auroc", "observed_expected", "n", "positives"):
            metrics[f"{disease}_fresh_{key}"] = part["performance"][key]
    with mlflow.start_run(run_name=f"monitor batch {batch_id[:8]}"):
        mlflow.set_tags({"component": "riskmodel-monitoring", "batch_id": batch_id, "model_version": model_version})
        mlflow.log_metrics(_finite(metrics))
        mlflow.log_dict(report, "monitoring.json")
