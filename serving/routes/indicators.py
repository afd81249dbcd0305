"""Team, grid and county indicators (SPEC 11), scoped by the API key like the work list."""

from __future__ import annotations

import datetime as dt
import json
from typing import Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from riskmodel.indicators.report import unit_indicators
from serving import audit
from serving.auth import team_not_found
from serving.deps import CallerDep, ModelDep, StoreDep
from serving.models import ERROR_RESPONSES

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES, tags=["indicators"])
AsOf = Query(
    None,
    ge=dt.date(1900, 1, 1),  # type: ignore[arg-type]
    le=dt.date(2100, 12, 31),  # type: ignore[arg-type]
    description="Reference date (default: the batch's)",
)


def _json(content: object) -> Response:
    return Response(json.dumps(content, ensure_ascii=False, default=str), media_type="application/json")


@router.get("/teams/{team_id}/indicators", summary="A team's indicators (BPHS and WHO HEARTS) with 12-month trends")
async def team_indicators(
    request: Request,
    model: ModelDep,
    store: StoreDep,
    caller: CallerDep,
    team_id: str = Path(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]*$"),
    as_of: dt.date | None = AsOf,
    months: int = Query(12, ge=1, le=36),
) -> Response:
    if not caller.may_read(team_id) or team_id not in store.teams():
        raise team_not_found(team_id)
    content = await run_in_threadpool(
        unit_indicators, store, level="team", units=[team_id], as_of=as_of, months=months, config=model.config
    )
    await audit.record_async(request, caller, "read", [team_id], 0)  # aggregates: no resident's row returned
    return _json({"team_id": team_id, **content})


@router.get("/indicators", summary="Indicators of every team or grid the key may read (and the county for `*`)")
async def all_indicators(
    request: Request,
    model: ModelDep,
    store: StoreDep,
    caller: CallerDep,
    level: Literal["team", "grid", "county"] = Query("team"),
    as_of: dt.date | None = AsOf,
    months: int = Query(1, ge=1, le=36),
    team: str | None = Query(
        None,
        min_length=1,
        max_length=128,
        pattern=r"^[^\x00-\x1f\x7f]*$",
        description="Only this team (`level=team`) or the grids all of whose residents belong to it (`level=grid`)",
    ),
) -> Response:
    everyone = "*" in caller.teams
    if level == "county" and not everyone:
        raise team_not_found("*")
    if team is not None and (not caller.may_read(team) or team not in store.teams()):
        raise team_not_found(team)
    if team is not None and level != "county":
        units = store.grids_within([team]) if level == "grid" else [team]
    elif level == "team":
        units = store.teams() if everyone else [t for t in store.teams() if caller.may_read(t)]
    elif level == "grid":
        units = store.units("grid") if everyone else store.grids_within(sorted(caller.teams))
    else:
        units = None
    content = await run_in_threadpool(
        unit_indicators, store, level=level, units=units, as_of=as_of, months=months, config=model.config
    )
    teams = ["*"] if everyone else sorted(caller.teams)
    await audit.record_async(request, caller, "read", teams, 0)  # aggregates: no resident's row returned
    return _json(content)
