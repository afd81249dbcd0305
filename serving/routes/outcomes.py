"""``/v1/teams/{team_id}/outcomes``: record what happened to a work-list action, read them back (SPEC 6), and
void one recorded in error (SPEC 16)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import HTTPException, RequestValidationError

from riskmodel.exceptions import StoreError
from riskmodel.worklist.team import OutcomeError, record_outcome, void_outcome
from serving import audit
from serving.auth import team_not_found
from serving.deps import CallerDep, ModelDep, StoreDep, WriterDep
from serving.models import (
    CONFLICT_RESPONSE,
    ERROR_RESPONSES,
    OutcomeList,
    OutcomeOut,
    OutcomeRequest,
    VoidRequest,
)

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES, tags=["outcomes"])
TeamPath = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]*$")]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _refused(error: OutcomeError) -> Exception:
    """An :class:`OutcomeError` as the API answers it: 422 with the field (the Idempotency-Key header's, or the
    body's), else its status."""
    if error.status == 422:
        loc = ("header", "Idempotency-Key") if error.field == "idempotency_key" else ("body", error.field or "outcome")
        return RequestValidationError([{"loc": loc, "msg": str(error), "type": "outcome_does_not_fit"}])
    return HTTPException(error.status, str(error))


@router.post(
    "/teams/{team_id}/outcomes",
    status_code=201,
    response_model=OutcomeOut,
    responses=CONFLICT_RESPONSE,
    summary="Record an outcome for a work-list action (agreed, declined, referred, moved, ...)",
)
async def create_outcome(
    body: OutcomeRequest,
    request: Request,
    team_id: TeamPath,
    model: ModelDep,
    store: StoreDep,
    caller: WriterDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            max_length=128,
            description="Repeat a request with the same key and body: it is recorded once, and the first answer "
            "comes back. The key is scoped to the API key; with another body it is 422.",
        ),
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
            today=model.config.deployment.today(),
            recorded_by=caller.label,
            idempotency_key=idempotency_key,
            idempotency_scope=caller.key_digest,
        )
    except OutcomeError as error:
        raise _refused(error) from error
    except LookupError as error:
        raise team_not_found(team_id) from error
    await audit.record_async(request, caller, "write", [team_id], 1 if created else 0)
    headers = {} if created else {"Idempotent-Replayed": "true"}
    return Response(_json(row), status_code=201, media_type="application/json", headers=headers)


@router.post(
    "/teams/{team_id}/outcomes/{outcome_id}/void",
    status_code=201,
    response_model=OutcomeOut,
    responses=CONFLICT_RESPONSE,
    summary="Void an outcome recorded in error: a new void record names it, with a reason (the log stays "
    "append-only; the voided outcome stops taking effect)",
)
async def void(
    body: VoidRequest,
    request: Request,
    team_id: TeamPath,
    store: StoreDep,
    model: ModelDep,
    caller: WriterDep,
    outcome_id: str = Path(min_length=1, max_length=40, pattern=r"^[0-9a-f]+$"),
) -> Response:
    if not caller.may_read(team_id):
        raise team_not_found(team_id)
    try:
        row = await run_in_threadpool(
            void_outcome,
            store,
            team_id,
            outcome_id,
            body.reason,
            today=model.config.deployment.today(),
            recorded_by=caller.label,
            config=model.config,
        )
    except OutcomeError as error:
        raise _refused(error) from error
    await audit.record_async(request, caller, "write", [team_id], 1)
    return Response(_json(row), status_code=201, media_type="application/json")


@router.get(
    "/teams/{team_id}/outcomes",
    response_model=OutcomeList,
    summary="A team's outcomes, oldest first (since a date), void records included (`voids` names the outcome)",
)
def list_outcomes(
    request: Request,
    team_id: TeamPath,
    store: StoreDep,
    caller: CallerDep,
    since: dt.date | None = Query(None, ge=dt.date(1900, 1, 1), le=dt.date(2100, 12, 31)),  # type: ignore[arg-type]
) -> Response:
    if not caller.may_read(team_id):
        raise team_not_found(team_id)
    if store.latest_batch() is None:
        raise StoreError("the result store holds no published batch yet")
    rows = store.outcomes.for_team(team_id, since=since, effective=False)  # the log: void records and all
    audit.record(request, caller, "read", [team_id], len({row["resident_id"] for row in rows}))
    return Response(_json({"team_id": team_id, "outcomes": rows}), media_type="application/json")
