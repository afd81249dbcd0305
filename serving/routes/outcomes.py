"""``/v1/teams/{team_id}/outcomes``: record what happened to a work-list action, and read them back (SPEC 6)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import HTTPException, RequestValidationError

from riskmodel.exceptions import StoreError
from riskmodel.worklist.team import OutcomeError, record_outcome
from serving.auth import team_not_found
from serving.deps import CallerDep, ModelDep, StoreDep
from serving.models import CONFLICT_RESPONSE, ERROR_RESPONSES, OutcomeList, OutcomeOut, OutcomeRequest

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES, tags=["outcomes"])
TeamPath = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]*$")]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


@router.post(
    "/teams/{team_id}/outcomes",
    status_code=201,
    response_model=OutcomeOut,
    responses=CONFLICT_RESPONSE,
    summary="Record an outcome for a work-list action (agreed, declined, referred, moved, ...)",
)
async def create_outcome(
    body: OutcomeRequest,
    team_id: TeamPath,
    model: ModelDep,
    store: StoreDep,
    caller: CallerDep,
    idempotency_key: Annotated[
        str | None, Header(max_length=128, description="Repeat a request with the same key: it is recorded once")
    ] = None,
) -> Response:
    if not caller.may_read(team_id):
        raise team_not_found(team_id)
    try:
        row, created = await run_in_threadpool(
            record_outcome,
            store,
            team_id,
            model,
            body.model_dump(),
            recorded_by=caller.label,
            idempotency_key=idempotency_key,
        )
    except OutcomeError as error:
        if error.status == 422:
            raise RequestValidationError(
                [{"loc": ("body", error.field or "outcome"), "msg": str(error), "type": "outcome_does_not_fit"}]
            ) from error
        raise HTTPException(error.status, str(error)) from error
    except LookupError as error:
        raise team_not_found(team_id) from error
    headers = {} if created else {"Idempotent-Replayed": "true"}
    return Response(_json(row), status_code=201, media_type="application/json", headers=headers)


@router.get(
    "/teams/{team_id}/outcomes",
    response_model=OutcomeList,
    summary="A team's outcomes, oldest first (since a date)",
)
def list_outcomes(
    team_id: TeamPath,
    store: StoreDep,
    caller: CallerDep,
    since: dt.date | None = Query(None, ge=dt.date(1900, 1, 1), le=dt.date(2100, 12, 31)),  # type: ignore[arg-type]
) -> Response:
    if not caller.may_read(team_id):
        raise team_not_found(team_id)
    if store.latest_batch() is None:
        raise StoreError("the result store holds no published batch yet")
    rows = store.outcomes.for_team(team_id, since=since)
    return Response(_json({"team_id": team_id, "outcomes": rows}), media_type="application/json")
