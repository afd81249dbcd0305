"""``riskmodel serve``: the HTTP API (SPEC 9) and its metrics port."""

from __future__ import annotations

from typing import Annotated

import typer

from riskmodel.cli.console import err_console
from riskmodel.cli.conventions import ConfigOption, ModelOption, StoreOption, fail, load_settings
from riskmodel.exceptions import RiskModelError


def serve(
    host: Annotated[
        str | None, typer.Option("--host", help="Interface (default: serving.host).", show_default=False)
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", help="Port (default: serving.port).", show_default=False)
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port",
            min=1,
            max=65535,
            help="Serve /metrics, /readyz and /healthz on this port alone (then not /metrics on --port); "
            "default: serving.metrics_port.",
            show_default=False,
        ),
    ] = None,
    metrics_host: Annotated[
        str | None,
        typer.Option(
            "--metrics-host", help="Interface of --metrics-port (default: serving.metrics_host).", show_default=False
        ),
    ] = None,
    model: ModelOption = None,
    store: StoreOption = None,
    config: ConfigOption = None,
) -> None:
    """Serve the HTTP API (assessments, work lists, model info; OpenAPI at /docs). Every log line is JSON."""
    from riskmodel.pyfunc import DEFAULT_MODEL_URI
    from serving.app import create_app
    from serving.server import run_servers
    from serving.state import ModelHolder

    try:
        settings = load_settings(config)
        if metrics_port is not None or metrics_host is not None:
            metrics_settings = {"metrics_port": metrics_port or settings.serving.metrics_port}
            metrics_settings["metrics_host"] = metrics_host or settings.serving.metrics_host
            settings = settings.model_copy(update={"serving": settings.serving.model_copy(update=metrics_settings)})
        holder = ModelHolder(model or DEFAULT_MODEL_URI, settings)
        with err_console.status("loading the model"):
            holder.load()
        application = create_app(settings, model_uri=model, store_url=store, holder=holder)
    except RiskModelError as exc:
        raise fail(str(exc)) from exc
    run_servers(application, settings, host=host or settings.serving.host, port=port or settings.serving.port)
