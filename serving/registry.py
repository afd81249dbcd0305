"""Loading the model in service by ``models:/`` URI, run URI or local folder, with its schema version checked.

MLflow is imported only when a ``models:/`` or ``runs:/`` URI is loaded; the API imports no training code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from riskmodel.config import RiskConfig
from riskmodel.exceptions import ModelNotFoundError
from riskmodel.model.tier_model import RiskModel
from riskmodel.pyfunc import ARTIFACT_NAME, DEFAULT_MODEL_URI
from riskmodel.redaction import redact_url


def _registered_version(uri: str, config: RiskConfig) -> str | None:
    """The version number behind ``models:/name@alias`` or ``models:/name/3``."""
    from mlflow.exceptions import MlflowException

    body = uri.removeprefix("models:/")
    client = configure(config)
    try:
        if "@" in body:
            name, alias = body.split("@", 1)
            return str(client.get_model_version_by_alias(name, alias).version)
        name, _, number = body.partition("/")
        return str(client.get_model_version(name, number).version) if number else None
    except MlflowException as exc:
        raise ModelNotFoundError(
            f"{uri}: not found in the tracking store {redact_url(config.tracking.uri)}; train and promote a model "
            "first ('riskmodel train' then 'riskmodel promote')"
        ) from exc


def resolve_version(uri: str, config: RiskConfig) -> str | None:
    """The registered version a URI points at now (None for local folders)."""
    return _registered_version(uri, config) if uri.startswith("models:/") else None


def load_model(uri: str | None, config: RiskConfig) -> RiskModel:
    """Load a :class:`RiskModel` from ``models:/riskmodel@champion``, ``models:/riskmodel/3``, a ``runs:/`` URI,
    an MLflow model folder or a saved model folder; raises on a schema-version mismatch."""
    uri = uri or DEFAULT_MODEL_URI
    path = Path(uri)
    if path.exists():
        folder = path / "artifacts" / ARTIFACT_NAME if (path / "artifacts" / ARTIFACT_NAME).exists() else path
        return RiskModel.load(folder, version=f"local:{path.name}")
    if not uri.startswith(("models:/", "runs:/")):
        raise ModelNotFoundError(f"{uri}: no such model folder, and not a models:/ or runs:/ URI")
    import mlflow
    from mlflow.exceptions import MlflowException

    configure(config)
    version = _registered_version(uri, config) if uri.startswith("models:/") else None
    pinned = f"models:/{uri.removeprefix('models:/').split('@')[0].split('/')[0]}/{version}" if version else uri
    try:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=pinned))
    except (MlflowException, OSError) as exc:
        raise ModelNotFoundError(f"{uri}: cannot download the model: {exc}") from exc
    name = uri.removeprefix("models:/").split("@")[0].split("/")[0]
    label = f"{name}/{version}" if version else uri
    return RiskModel.load(local / "artifacts" / ARTIFACT_NAME, version=label)


def configure(config: RiskConfig) -> Any:
    """Point MLflow at the configured tracking store and return a client."""
    import mlflow
    from mlflow.tracking import MlflowClient

    mlflow.set_tracking_uri(config.tracking.uri)
    mlflow.set_registry_uri(config.tracking.uri)
    return MlflowClient(tracking_uri=config.tracking.uri, registry_uri=config.tracking.uri)
