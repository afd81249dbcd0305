"""``POST /v1/assessments``: assess 1 to 1,000 residents through the one scoring path."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

import numpy as np
from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError

from riskmodel.intake import assess_records
from riskmodel.records.schema import TIER_SOURCES, TIERS
from riskmodel.rules.guidelines.cdrs import CDRS_ITEMS
from riskmodel.rules.guidelines.findings import DIABETES_RISK_AGE_CDS2020, DIABETES_RISK_AGE_CDS2024, FINDINGS
from riskmodel.scoring import Assessment
from riskmodel.worklist.entries import entry_actions, source_label
from riskmodel.worklist.explain import ResidentView, finding_text, resident_reasons, resident_view
from riskmodel.worklist.labels import ACTION_LABELS, TIER_LABELS, Lang, label
from serving import audit
from serving.auth import team_not_found
from serving.deps import CallerDep, ModelDep
from serving.models import ERROR_RESPONSES, AssessmentRequest, AssessmentResponse

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES, tags=["assessments"])
INLINE_RECORDS = 64
"""Requests of up to this many records are assessed on the event loop; larger ones on a worker thread."""


def _findings(
    assessment: Assessment, i: int, disease: str, view: ResidentView, dm_age_cut: int
) -> list[dict[str, str]]:
    return [
        {"code": code, "text": finding_text(code, view, dm_age_cut=dm_age_cut), "reference": FINDINGS[code].reference}
        for code, met in assessment.findings.items()
        if FINDINGS[code].disease == disease and met[i]
    ]


def _disease(assessment: Assessment, i: int, disease: str, view: ResidentView, dm_age_cut: int) -> dict[str, Any]:
    tier = assessment.tiers[disease]
    p = assessment.probabilities[disease][i]
    name = TIERS[tier.tier[i]]
    return {
        "tier": name,
        "tier_label": label(TIER_LABELS, name, view.lang),
        "tier_source": TIER_SOURCES[tier.source[i]],
        "tier_source_label": source_label(assessment, i, disease, view.lang),
        "confirmed": bool(tier.confirmed[i]),
        "stale": bool(tier.stale[i]),
        "guideline_high_risk": bool(assessment.guideline_high_risk[disease][i]),
        "p_healthy": round(float(p[0]), 6),
        "p_high_risk": round(float(p[1]), 6),
        "p_chronic": round(float(p[2]), 6),
        "findings": _findings(assessment, i, disease, view, dm_age_cut),
    }


def payload(
    records: list[dict[str, Any]],
    assessment: Assessment,
    model: Any,
    *,
    explain: bool,
    lang: Lang,
) -> list[dict[str, Any]]:
    """One JSON-ready assessment per record, in order."""
    config = model.config
    dm_age_cut = (
        DIABETES_RISK_AGE_CDS2024 if config.glycaemia.high_risk_profile == "cds2024" else DIABETES_RISK_AGE_CDS2020
    )
    rows = np.arange(len(records))
    reasons = resident_reasons(assessment, rows, model, config, lang) if explain else None
    out = []
    for i, record in enumerate(records):
        view = resident_view(assessment, i, config, lang)
        action, disease = assessment.action.action[i], assessment.action.disease[i]
        item: dict[str, Any] = {
            "resident_id": record["resident_id"],
            "team_id": record["team_id"],
            "overall_tier": assessment.overall[i],
            "overall_tier_label": label(TIER_LABELS, assessment.overall[i], lang),
            "diabetes": _disease(assessment, i, "diabetes", view, dm_age_cut),
            "hypertension": _disease(assessment, i, "hypertension", view, dm_age_cut),
            "cdrs": {
                "total": int(assessment.cdrs.total[i]),
                "points": {k: int(assessment.cdrs.points[k][i]) for k in CDRS_ITEMS},
                "complete": bool(assessment.cdrs.complete[i]),
                "in_validated_age": bool(assessment.cdrs.in_validated_age[i]),
            },
            "control_profile": assessment.control_profile,
            "action": action,
            "action_label": label(ACTION_LABELS, action, lang),
            "action_disease": disease,
            "due_date": str(assessment.action.due[i]),
            "overdue_days": int(assessment.action.overdue_days[i]),
            "priority": float(assessment.action.priority[i]),
            "tests": assessment.action.tests[i],
            "actions": entry_actions(assessment, i, lang),
            "model_version": assessment.model_version,
        }
        if reasons is not None:
            item["reasons"] = reasons[i]
        out.append(item)
    return out


# async: the work is a couple of milliseconds of CPU, cheaper on the event loop than a threadpool hop.
@router.post(
    "/assessments",
    response_model=AssessmentResponse,
    summary="Assess residents: tiers, calibrated probabilities, findings, action and due date",
)
async def create_assessments(
    body: AssessmentRequest,
    request: Request,
    model: ModelDep,
    caller: CallerDep,
    explain: bool = Query(False, description="Add plain-language reasons"),
    lang: Literal["zh", "en"] = Query("zh", description="Language of findings and reasons"),
    as_of: dt.date | None = Query(
        None,
        ge=dt.date(1900, 1, 1),  # type: ignore[arg-type]
        le=dt.date(2100, 12, 31),  # type: ignore[arg-type]
        description="As-of date (default: today)",  # type: ignore[arg-type]
    ),
) -> Response:
    records = [record.model_dump() for record in body.records]
    for record in records:
        if not caller.may_read(record["team_id"]):
            raise team_not_found(record["team_id"])
    request.app.state.metrics.assessments.inc(len(records))
    if len(records) <= INLINE_RECORDS:
        body_text = _assess(records, model, as_of=as_of, explain=explain, lang=lang)
    else:  # a large request would hold the event loop: run it on a worker thread
        body_text = await run_in_threadpool(_assess, records, model, as_of=as_of, explain=explain, lang=lang)
    await audit.record_async(request, caller, "read", {r["team_id"] for r in records}, len(records))
    return Response(body_text, media_type="application/json")


def _events(records: list[dict[str, Any]], day: dt.date) -> list[dict[str, Any]]:
    """The records' nested events, each with its resident; an event after the as-of date is a 422."""
    events = []
    errors = []
    for i, record in enumerate(records):
        for j, event in enumerate(record.get("events") or []):
            if event["event_date"] > day:
                errors.append(
                    {
                        "loc": ("body", "records", i, "events", j, "event_date"),
                        "msg": f"event_date is after the as-of date {day}",
                        "type": "date_after_as_of",
                    }
                )
            events.append({**event, "resident_id": record["resident_id"]})
    if errors:
        raise RequestValidationError(errors)
    return events


def _assess(records: list[dict[str, Any]], model: Any, *, as_of: dt.date | None, explain: bool, lang: str) -> str:
    """Records in, the response body out, through the one records-in entry."""
    day = as_of or model.config.deployment.today()
    events = _events(records, day)
    result = assess_records(
        records,
        events or None,
        as_of=day,
        model=model,
        checked=True,  # typed and checked by the request models, which derive from the record schema
        num_threads=1 if len(records) <= INLINE_RECORDS else 0,
    )
    assessment = result.assessment
    content = {
        "model_version": model.version,
        "as_of": str(day),
        "assessments": payload(records, assessment, model, explain=explain, lang=lang)  # type: ignore[arg-type]
        if assessment is not None
        else [],
    }
    return json.dumps(content, ensure_ascii=False)
