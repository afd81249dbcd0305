"""``GET /v1/teams/{team_id}/worklist``: a team's work list from the latest complete batch."""

from __future__ import annotations

import datetime as dt
import json
from typing import Literal

from fastapi import APIRouter, Path, Query, Request, Response

from riskmodel.worklist.entries import worklist_body
from riskmodel.worklist.team import team_worklist
from serving import audit
from serving.auth import team_not_found
from serving.deps import CallerDep, ModelDep, StoreDep
from serving.models import ERROR_RESPONSES, WorklistResponse

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES, tags=["work lists"])


@router.get(
    "/teams/{team_id}/worklist",
    response_model=WorklistResponse,
    summary="A team's prioritised work list (refer now, confirm, refer, recheck, overdue, screen)",
)
def get_worklist(
    request: Request,
    model: ModelDep,
    store: StoreDep,
    caller: CallerDep,
    team_id: str = Path(min_length=1, max_length=128),
    as_of: dt.date | None = Query(
        None,
        ge=dt.date(1900, 1, 1),  # type: ignore[arg-type]
        le=dt.date(2100, 12, 31),  # type: ignore[arg-type]
        description="As-of date (default: today in the configured zone, never before the batch's)",
    ),
    capacity: int | None = Query(
        None, ge=1, le=10_000, description="Entries in each of band 3 (follow-up overdue) and band 4 (screen)"
    ),
    lang: Literal["zh", "en"] = Query("zh"),
) -> Response:
    if not caller.may_read(team_id):
        raise team_not_found(team_id)
    try:
        entries, batch = team_worklist(store, team_id, model, as_of=as_of, capacity=capacity, lang=lang)
    except LookupError as exc:
        raise team_not_found(team_id) from exc
    content = {"team_id": team_id, **worklist_body(entries, batch)}
    audit.record(request, caller, "read", [team_id], len(entries.entries))
    return Response(json.dumps(content, ensure_ascii=False), media_type="application/json")
