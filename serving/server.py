"""Running the API under uvicorn: JSON log lines for every logger, and the operations address (SPEC 16).

With ``serving.metrics_port`` set, a second uvicorn server on ``serving.metrics_host`` (loopback by default)
answers ``/metrics``, ``/readyz`` and ``/healthz`` alone, and the main port no longer serves ``/metrics``.
"""

from __future__ import annotations

import logging.config
import threading

import uvicorn
from fastapi import FastAPI

from riskmodel.config import RiskConfig
from serving.headers import operations_app
from serving.logs import log_config


def run_servers(application: FastAPI, config: RiskConfig, *, host: str, port: int) -> None:
    """Serve ``application`` on ``host:port`` until stopped; the operations app too when configured."""
    logging_config = log_config()
    logging.config.dictConfig(logging_config)
    logging.captureWarnings(True)  # a library's warning is a JSON line too, not a bare text line
    serving = config.serving
    if serving.metrics_port is not None:
        operations = uvicorn.Server(
            uvicorn.Config(
                operations_app(application),
                host=serving.metrics_host,
                port=serving.metrics_port,
                log_config=logging_config,
                access_log=False,
                lifespan="off",  # the model and store are the main app's, loaded by its lifespan
            )
        )
        # In a thread, uvicorn leaves the signals to the main server; the process ends with it.
        threading.Thread(target=operations.run, name="operations-server", daemon=True).start()
    uvicorn.run(application, host=host, port=port, log_config=logging_config, access_log=False)
