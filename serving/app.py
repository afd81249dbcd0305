"""The FastAPI application (SPEC section 7, HTTP API). Build it with :func:`create_app`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from riskmodel.config import RiskConfig
from riskmodel.pyfunc import DEFAULT_MODEL_URI
from riskmodel.store.batches import ResultStore
from serving import errors
from serving.auth import KeyRing
from serving.headers import SecurityHeadersMiddleware, system_without_metrics
from serving.limits import Throttle
from serving.observability import Metrics, ObservabilityMiddleware
from serving.routes import assessments, fhir, indicators, outcomes, system, worklists
from serving.state import ListWarmer, ModelHolder

logger = logging.getLogger("riskmodel.serving")
UI_FOLDER = Path(__file__).resolve().parent / "ui"
DOCS_ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"  # Swagger UI 5 (OpenAPI 3.1), no CDN


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
            app.state.warmer.start()
        if not len(app.state.keys):
            logger.warning("no API keys configured: only keys issued into the store (riskmodel keys add) are accepted")
        yield
        model_holder.stop()
        app.state.warmer.stop()
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
    app.state.warmer = ListWarmer(app.state.store, model_holder, config)
    app.state.keys = KeyRing(config.serving.api_keys, app.state.store)
    app.state.throttle = Throttle(config.serving.limits, metrics)
    app.state.metrics = metrics
    app.state.config = config
    errors.install(app)
    app.include_router(assessments.router)
    app.include_router(worklists.router)
    app.include_router(outcomes.router)
    app.include_router(indicators.router)
    app.include_router(fhir.router)
    app.include_router(system.router if config.serving.metrics_port is None else system_without_metrics())
    app.add_api_route(  # before the /ui mount, which would answer first (SPEC 15, the A4 print view)
        "/ui/print", lambda: FileResponse(UI_FOLDER / "print.html"), include_in_schema=False, methods=["GET"]
    )
    app.mount("/ui", StaticFiles(directory=UI_FOLDER, html=True), name="ui")  # the dashboard, no CDN (SPEC 11)
    app.mount("/docs-assets", StaticFiles(directory=DOCS_ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="riskmodel API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon.png",
        )

    app.add_middleware(ObservabilityMiddleware, metrics=metrics, max_body_bytes=config.serving.max_body_bytes)
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: a 413 from the size limit carries them too
    return app
