"""The FastAPI application (SPEC section 7, HTTP API). Build it with :func:`create_app`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import swagger_ui_bundle
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from riskmodel.config import RiskConfig
from riskmodel.model.pyfunc import DEFAULT_MODEL_URI
from riskmodel.store.batches import ResultStore
from serving import errors
from serving.auth import KeyRing
from serving.observability import Metrics, ObservabilityMiddleware
from serving.routes import assessments, fhir, indicators, outcomes, system, worklists
from serving.state import ModelHolder

logger = logging.getLogger("riskmodel.serving")
UI_FOLDER = Path(__file__).resolve().parent / "ui"


def create_app(
    config: RiskConfig,
    *,
    model_uri: str | None = None,
    store_url: str | None = None,
    holder: ModelHolder | None = None,
    poll: bool = True,
) -> FastAPI:
    """Build the API. The model loads once, in the lifespan (or earlier through ``holder``), and is then
    swapped in place when the champion alias moves (polled every ``serving.model_poll_seconds``)."""
    model_holder = holder or ModelHolder(model_uri or DEFAULT_MODEL_URI, config)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if model_holder.current is None:
            model_holder.load()
        if poll:
            model_holder.start_polling()
        if not len(app.state.keys):
            logger.warning("no API keys configured: every /v1 request will be refused (set RISKMODEL_API_KEYS)")
        yield
        model_holder.stop()
        app.state.store.dispose()

    app = FastAPI(
        docs_url=None,  # served below from local assets: a CDN is unreachable on a health intranet
        redoc_url=None,
        title="riskmodel",
        version="1",
        summary="Tiers, calibrated risk and prioritised work lists for type 2 diabetes and hypertension.",
        description="Authenticate with `X-API-Key`. Bad input answers 422 with the field path in `detail[].field`.",
        lifespan=lifespan,
    )
    app.state.holder = model_holder
    app.state.store = ResultStore(store_url or config.store.url)
    app.state.keys = KeyRing(config.serving.api_keys)
    app.state.metrics = metrics
    app.state.config = config
    errors.install(app)
    app.include_router(assessments.router)
    app.include_router(worklists.router)
    app.include_router(outcomes.router)
    app.include_router(indicators.router)
    app.include_router(fhir.router)
    app.include_router(system.router)
    app.mount("/ui", StaticFiles(directory=UI_FOLDER, html=True), name="ui")  # the dashboard, no CDN (SPEC 11)
    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="riskmodel API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png",
        )

    app.add_middleware(ObservabilityMiddleware, metrics=metrics, max_body_bytes=config.serving.max_body_bytes)
    return app
