"""Error responses: bad input is 422 with the field path, never 500; bodies are never logged."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from riskmodel.exceptions import StoreError

logger = logging.getLogger("riskmodel.serving")


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc if part not in ("body",)]
    return ".".join(parts) or "body"


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {
            "field": _field(tuple(e.get("loc", ()))),
            "loc": list(e.get("loc", ())),
            "msg": e.get("msg", ""),
            "type": e.get("type", ""),
        }
        for e in exc.errors()
    ]
    logger.info("422 on %s: %d field errors", request.url.path, len(errors))
    return JSONResponse({"detail": errors}, status_code=422)


async def store_error(request: Request, exc: StoreError) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=503)


async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """HTTP errors as JSON; a body that cannot be read at all is 422 on the field ``body`` (never a bare 400)."""
    if exc.status_code == 400:
        detail = [{"field": "body", "loc": ["body"], "msg": str(exc.detail), "type": "body_unreadable"}]
        return JSONResponse({"detail": detail}, status_code=422)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]
    app.add_exception_handler(StoreError, store_error)  # type: ignore[arg-type]
