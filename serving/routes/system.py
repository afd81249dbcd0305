"""Model information, health, readiness and Prometheus metrics."""

from __future__ import annotations

import math

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from riskmodel.exceptions import StoreError
from serving.deps import CallerDep, HolderDep, ModelDep
from serving.models import ERROR_RESPONSES, ModelInfo

router = APIRouter()


@router.get(
    "/v1/model",
    response_model=ModelInfo,
    responses={k: v for k, v in ERROR_RESPONSES.items() if k in (401, 503)},
    tags=["model"],
    summary="The model being served: registered name, version, alias, training data summary, metrics",
)
def model_info(model: ModelDep, holder: HolderDep, caller: CallerDep) -> ModelInfo:
    name, _, rest = model.version.partition("/")
    alias = holder.uri.split("@", 1)[1] if "@" in holder.uri else None
    return ModelInfo(
        registered_name=name if rest else holder.uri,
        version=rest or model.version,
        alias=alias,
        schema_version=model.schema_version,
        training_data=model.training_summary,
        metrics={k: (v if isinstance(v, float) and math.isfinite(v) else None) for k, v in model.metrics.items()},
        screen_cuts=model.screen_cuts,
    )


@router.get("/healthz", tags=["operations"], summary="The process is alive")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    tags=["operations"],
    summary="A model is loaded (and which batch is served)",
    responses={503: {"description": "No model loaded yet"}},
)
def readyz(request: Request) -> JSONResponse:
    holder = request.app.state.holder
    checks = {"model": holder.current is not None}
    batch = None
    try:
        batch = request.app.state.store.latest_batch()
        checks["store"] = batch is not None
    except StoreError:
        checks["store"] = False
    ready = checks["model"]
    serving = (
        {"batch_id": batch["batch_id"], "as_of": str(batch["as_of"]), "rows_scored": batch["rows_scored"]}
        if batch
        else None
    )
    return JSONResponse(
        {
            "ready": ready,
            "checks": checks,
            "model_version": holder.current.version if holder.current else None,
            "batch": serving,
        },
        status_code=200 if ready else 503,
    )


@router.get("/metrics", tags=["operations"], summary="Prometheus metrics")
def metrics(request: Request) -> Response:
    state = request.app.state
    if state.holder.current is not None:
        state.metrics.model.clear()
        state.metrics.model.labels(state.holder.current.version).set(1)
    try:
        found = state.store.monitoring_report()
    except StoreError:
        found = None
    if found is not None:
        figures = found[1]
        for disease, part in figures["diseases"].items():
            state.metrics.psi_max.labels(disease).set(max((r["psi"] for r in part["features"].values()), default=0.0))
            state.metrics.observed_expected.labels(disease).set(part["performance"]["observed_expected"])
            state.metrics.fresh_auroc.labels(disease).set(part["performance"]["auroc"])
        state.metrics.retrain.set(1.0 if figures["retrain_recommended"] else 0.0)
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
