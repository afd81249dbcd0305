"""FastAPI dependencies as named types."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader

from riskmodel.model.tier_model import RiskModel
from riskmodel.store.batches import ResultStore
from serving.auth import Caller, KeyRing
from serving.state import ModelHolder

# The dependencies that do no I/O are coroutines: FastAPI runs a plain function on a worker thread, and that hop
# costs more than the work on a small request.


async def _holder(request: Request) -> ModelHolder:
    return request.app.state.holder  # type: ignore[no-any-return]


async def _model(request: Request) -> RiskModel:
    model = request.app.state.holder.current
    if model is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "no model loaded yet")
    return model  # type: ignore[no-any-return]


async def _store(request: Request) -> ResultStore:
    return request.app.state.store  # type: ignore[no-any-return]


API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key bound to teams (or `*`)")


def _authenticated(request: Request, x_api_key: str | None) -> Caller:
    """The caller, after the address's and then the key's request rates (SPEC 16); a 401 counts toward the
    address's slow-down."""
    throttle = request.app.state.throttle
    address = request.client.host if request.client else "unknown"
    throttle.address(address)
    keys: KeyRing = request.app.state.keys
    try:
        caller = keys.caller(x_api_key)
    except HTTPException:
        throttle.failed(address)
        raise
    request.state.key_label = caller.label  # for the access log line: the key's label, never the key
    throttle.key(caller.label)
    return caller


async def _checked(request: Request, x_api_key: str | None) -> Caller:
    """A configured key is checked on the event loop (no I/O); any other on a worker thread (it may be a key
    issued into the store, read per request)."""
    keys: KeyRing = request.app.state.keys
    if keys.configured_caller(x_api_key) is not None:
        return _authenticated(request, x_api_key)
    return await run_in_threadpool(_authenticated, request, x_api_key)


async def _caller(request: Request, x_api_key: Annotated[str | None, Depends(API_KEY)] = None) -> Caller:
    caller = await _checked(request, x_api_key)
    caller.require("read")
    return caller


async def _writer(request: Request, x_api_key: Annotated[str | None, Depends(API_KEY)] = None) -> Caller:
    caller = await _checked(request, x_api_key)
    caller.require("write")
    return caller


HolderDep = Annotated[ModelHolder, Depends(_holder)]
ModelDep = Annotated[RiskModel, Depends(_model)]
StoreDep = Annotated[ResultStore, Depends(_store)]
CallerDep = Annotated[Caller, Depends(_caller)]
"""A caller with the ``read`` scope."""
WriterDep = Annotated[Caller, Depends(_writer)]
"""A caller with the ``write`` scope."""
