"""Prometheus metrics, structured access logs without resident values, and the request-body size limit."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

logger = logging.getLogger("riskmodel.serving.access")
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
"""An ``X-Request-ID`` a client or proxy sent is kept when it is this plain; otherwise a new one is made."""


def request_id_of(scope: dict[str, Any]) -> str:
    """The request's id: the caller's plain ``X-Request-ID``, or a new random one."""
    given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
    return given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "riskmodel_http_requests_total", "HTTP requests", ["route", "method", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "riskmodel_http_request_seconds",
            "HTTP request latency",
            ["route"],
            buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
            registry=self.registry,
        )
        self.assessments = Counter("riskmodel_assessments_total", "Residents assessed", registry=self.registry)
        self.model = Gauge("riskmodel_model_info", "Model being served", ["version"], registry=self.registry)
        self.psi_max = Gauge(
            "riskmodel_monitoring_psi_max",
            "Largest feature PSI of the served batch",
            ["disease"],
            registry=self.registry,
        )
        self.observed_expected = Gauge(
            "riskmodel_monitoring_observed_expected",
            "Observed/expected on fresh labels",
            ["disease"],
            registry=self.registry,
        )
        self.fresh_auroc = Gauge(
            "riskmodel_monitoring_auroc",
            "AUROC on fresh labels of the served batch",
            ["disease"],
            registry=self.registry,
        )
        self.auth_failures = Counter(
            "riskmodel_auth_failures_total", "Requests refused 401 (no key, or an unknown one)", registry=self.registry
        )
        self.throttled = Counter(
            "riskmodel_throttled_total",
            "Requests refused 429 (reason: key, address, auth_failures)",
            ["reason"],
            registry=self.registry,
        )
        self.retrain = Gauge(
            "riskmodel_retrain_recommended",
            "1 when a monitoring rule fired on the served batch",
            registry=self.registry,
        )


class ObservabilityMiddleware:
    """Pure ASGI: times requests, counts them by route template, logs one JSON line, limits body size."""

    def __init__(self, app: Any, *, metrics: Metrics, max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status_code = 500
        scope.setdefault("state", {})["request_id"] = request_id_of(scope)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            await _too_large(send, self.max_body_bytes)
            self._record(scope, 413, started)
            return
        if length is None and scope.get("method") in ("POST", "PUT", "PATCH"):
            # A chunked body: read it all first (up to the limit), so that an oversized one is a 413, not a
            # parse error inside the app; then hand it to the app as one message.
            body = bytearray()
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    break
                body += message.get("body", b"")
                if len(body) > self.max_body_bytes:
                    await _too_large(send, self.max_body_bytes)
                    self._record(scope, 413, started)
                    return
                if not message.get("more_body"):
                    break
            replayed = False

            async def receive_buffered() -> dict[str, Any]:
                nonlocal replayed
                if replayed:
                    return await receive()  # type: ignore[no-any-return]
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}

            receive = receive_buffered
        received = 0
        request_id = scope["state"]["request_id"]

        async def limited_receive() -> dict[str, Any]:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise _BodyTooLarge
            return message  # type: ignore[no-any-return]

        async def capture_send(message: dict[str, Any]) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, limited_receive, capture_send)
        except _BodyTooLarge:
            await _too_large(send, self.max_body_bytes)
            status_code = 413
        finally:
            self._record(scope, status_code, started)

    def _record(self, scope: dict[str, Any], status_code: int, started: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        elapsed = time.perf_counter() - started
        self.metrics.requests.labels(template, scope.get("method", ""), str(status_code)).inc()
        self.metrics.latency.labels(template).observe(elapsed)
        state = scope.get("state") or {}
        logger.info(  # the route template, never the raw path (SPEC 16); serving.logs writes it as JSON
            "request",
            extra={
                "request_id": state.get("request_id"),
                "route": template,
                "method": scope.get("method"),
                "status": status_code,
                "ms": round(elapsed * 1000, 2),
                "key": state.get("key_label"),
            },
        )


class _BodyTooLarge(Exception):
    pass


async def _too_large(send: Any, limit: int) -> None:
    body = json.dumps({"detail": f"request body larger than {limit} bytes"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
