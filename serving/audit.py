"""An audit row per API read or write of residents' data (SPEC 16), from the request and its caller."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from riskmodel.store.audit import AuditEntry
from serving.auth import Caller


def entry(request: Request, caller: Caller, action: str, teams: Iterable[str], residents: int) -> AuditEntry:
    route = getattr(request.scope.get("route"), "path", None) or "unmatched"
    return AuditEntry(
        actor=caller.label,
        action=action,
        route=f"{request.method} {route}",
        teams=list(teams),
        residents=residents,
        client=request.client.host if request.client else None,
        request_id=getattr(request.state, "request_id", None),
    )


def record(request: Request, caller: Caller, action: str, teams: Iterable[str], residents: int) -> None:
    """Append the row (call from a sync route, or through :func:`record_async`)."""
    app = request.app
    app.state.store.audit(app.state.config.deployment.timezone).record(entry(request, caller, action, teams, residents))


async def record_async(request: Request, caller: Caller, action: str, teams: Iterable[str], residents: int) -> None:
    await run_in_threadpool(record, request, caller, action, teams, residents)
