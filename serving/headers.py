"""Security headers (SPEC 16 "Headers") and the operations app that serves metrics on a separate address.

``/ui/`` and ``/v1/*`` get a Content-Security-Policy that allows only the server's own files and no framing;
``/v1/*`` is never cached. ``/docs`` is Swagger UI, whose page FastAPI builds with an inline script, so it gets
no CSP; every answer keeps ``nosniff`` and ``no-referrer``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI

CONTENT_SECURITY_POLICY = "default-src 'self'; frame-ancestors 'none'"
EVERY_ANSWER = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"))
NO_CSP_PATHS = ("/docs",)
"""Pages built by FastAPI with an inline script (Swagger UI)."""
OPERATIONS_PATHS = ("/metrics", "/readyz", "/healthz")
"""What the operations address serves when ``serving.metrics_port`` is set."""


def security_headers(path: str) -> list[tuple[bytes, bytes]]:
    """The headers an answer to ``path`` carries."""
    headers = list(EVERY_ANSWER)
    if path not in NO_CSP_PATHS:
        headers.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
    if path.startswith("/v1/") or path == "/v1":
        headers.append((b"cache-control", b"no-store"))
    return headers


class SecurityHeadersMiddleware:
    """Pure ASGI: sets the security headers on every HTTP answer, replacing any the app set."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = security_headers(scope.get("path", ""))
        names = {name for name, _ in added}

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                kept = [(name, value) for name, value in message.get("headers", []) if name.lower() not in names]
                message = {**message, "headers": kept + added}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def operations_app(main: FastAPI) -> FastAPI:
    """An app serving only ``/metrics``, ``/readyz`` and ``/healthz`` of ``main`` (its model, store and
    counters), for a separate, typically loopback, address."""
    from serving.routes import system

    operations = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    operations.state = main.state
    operations.router.routes.extend(route for route in system.router.routes if route.path in OPERATIONS_PATHS)
    operations.add_middleware(SecurityHeadersMiddleware)
    return operations


def system_without_metrics() -> APIRouter:
    """The system routes less ``/metrics``: what the main port serves when metrics have their own address."""
    from serving.routes import system

    router = APIRouter()
    router.routes.extend(route for route in system.router.routes if getattr(route, "path", None) != "/metrics")
    return router
