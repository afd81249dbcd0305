"""``GET /v1/teams/{team_id}/worklist``: a team's work list from the latest complete batch, a page at a time;
``GET /v1/teams/{team_id}/reminders``: the texts to send its residents with a task due soon (SPEC 15)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError

from riskmodel.worklist.contacts import attach_contacts
from riskmodel.worklist.entries import worklist_body
from riskmodel.worklist.paging import CursorError
from riskmodel.worklist.reminders import team_reminders
from riskmodel.worklist.team import team_worklist
from serving import audit
from serving.auth import CONTACT_SCOPE, Caller, team_not_found
from serving.deps import CallerDep, ModelDep, StoreDep
from serving.models import (
    CONTACT_FORBIDDEN_RESPONSE,
    CURSOR_CONFLICT_RESPONSE,
    ERROR_RESPONSES,
    RemindersResponse,
    WorklistResponse,
)

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES, tags=["work lists"])
DEFAULT_LIMIT = 50
"""Entries per page unless ``limit`` says otherwise (SPEC 15)."""
ListDate = Annotated[
    dt.date | None,
    Query(
        ge=dt.date(1900, 1, 1),
        le=dt.date(2100, 12, 31),
        description="List date (default: the published batch's date)",
    ),
]
IncludeContact = Annotated[
    Literal["contact"] | None,
    Query(description="contact: each resident's name, phone and address (needs a key with the contact scope)"),
]


def _check_access(caller: Caller, team_id: str, include: str | None) -> None:
    """404 for a team the key may not read (as if it did not exist); 403 for contacts without the scope."""
    if not caller.may_read(team_id):
        raise team_not_found(team_id)
    if include == "contact" and not caller.has_scope(CONTACT_SCOPE):
        raise HTTPException(403, "this API key is not granted the contact scope; ask without include=contact")


@router.get(
    "/teams/{team_id}/worklist",
    response_model=WorklistResponse,
    responses={**CONTACT_FORBIDDEN_RESPONSE, **CURSOR_CONFLICT_RESPONSE},
    summary="A team's prioritised work list, a page at a time (urgent, confirm and refer, follow-up, screening)",
)
def get_worklist(
    request: Request,
    model: ModelDep,
    store: StoreDep,
    caller: CallerDep,
    team_id: str = Path(min_length=1, max_length=128),
    as_of: ListDate = None,
    capacity: int | None = Query(
        None, ge=1, le=100_000, description="Entries shared by bands 2-4 (band 1 is never cut); default: config"
    ),
    lang: Literal["zh", "en"] = Query("zh"),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=1000, description="Entries on this page"),
    cursor: str | None = Query(
        None,
        min_length=1,
        max_length=512,
        description="The next_cursor of the previous page; the list keeps that page's date and capacity",
    ),
    include: IncludeContact = None,
) -> Response:
    _check_access(caller, team_id, include)
    try:
        entries, batch = team_worklist(
            store,
            team_id,
            model,
            today=model.config.deployment.today(),
            as_of=as_of,
            capacity=capacity,
            lang=lang,
            limit=limit,
            cursor=cursor,
        )
    except LookupError as exc:
        raise team_not_found(team_id) from exc
    except CursorError as exc:
        if exc.status == 422:
            raise RequestValidationError(
                [{"loc": ("query", "cursor"), "msg": str(exc), "type": "cursor_invalid"}]
            ) from exc
        raise HTTPException(exc.status, str(exc)) from exc
    if include == "contact":
        attach_contacts(store, team_id, entries.entries)
    content = {"team_id": team_id, **worklist_body(entries, batch, lang)}
    audit.record(request, caller, "read", [team_id], len(entries.entries))
    return Response(json.dumps(content, ensure_ascii=False), media_type="application/json")


@router.get(
    "/teams/{team_id}/reminders",
    response_model=RemindersResponse,
    responses=CONTACT_FORBIDDEN_RESPONSE,
    summary="智能提醒: one SMS text per resident with a task due in the window (no diagnosis, at most 70 characters)",
)
def get_reminders(
    request: Request,
    model: ModelDep,
    store: StoreDep,
    caller: CallerDep,
    team_id: str = Path(min_length=1, max_length=128),
    within_days: int = Query(7, ge=0, le=90, description="Tasks due on or before the list date + this many days"),
    as_of: ListDate = None,
    include: IncludeContact = None,
) -> Response:
    _check_access(caller, team_id, include)
    try:
        found, batch = team_reminders(
            store, team_id, model, today=model.config.deployment.today(), within_days=within_days, as_of=as_of
        )
    except LookupError as exc:
        raise team_not_found(team_id) from exc
    if include == "contact":
        attach_contacts(store, team_id, found)
    audit.record(request, caller, "read", [team_id], len(found))
    content = {
        "team_id": team_id,
        "list_date": batch["list_date"],
        "batch_date": str(batch["as_of"]),
        "within_days": within_days,
        "clinic": batch["clinic"],
        "reminders": found,
    }
    return Response(json.dumps(content, ensure_ascii=False), media_type="application/json")
