"""``POST /v1/assessments``: assess 1 to 1,000 residents through the one scoring path."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

import numpy as np
from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from riskmodel.records.reading import columns_from_values
from riskmodel.rules.guidelines.cdrs import CDRS_ITEMS
from riskmodel.rules.guidelines.findings import FINDINGS
from riskmodel.scoring import Assessment, assess
from riskmodel.worklist.explain import action_reason, finding_reasons, finding_text, model_reasons
from serving.auth import team_not_found
from serving.deps import CallerDep, ModelDep
from serving.models import AssessmentRequest, AssessmentResponse

router = APIRouter(prefix="/v1", tags=["assessments"])
INLINE_RECORDS = 64
"""Requests of up to this many records are assessed on the event loop; larger ones on a worker thread."""
_VALUES = ("age_years", "bmi_kg_m2", "waist_cm", "sbp_mmhg", "dbp_mmhg", "fpg_mmol_l", "ogtt_2h_mmol_l", "hba1c_pct")


def _findings(
    assessment: Assessment, i: int, disease: str, values: dict[str, float], lang: str
) -> list[dict[str, str]]:
    return [
        {"code": code, "text": finding_text(code, values, lang), "reference": FINDINGS[code].reference}  # type: ignore[arg-type]
        for code, met in assessment.findings.items()
        if FINDINGS[code].disease == disease and met[i]
    ]


def _disease(assessment: Assessment, i: int, disease: str, values: dict[str, float], lang: str) -> dict[str, Any]:
    tier = assessment.tiers[disease]
    p = assessment.probabilities[disease][i]
    return {
        "tier": ("healthy", "high_risk", "chronic")[tier.tier[i]],
        "tier_source": ("record", "measurement", "model")[tier.source[i]],
        "confirmed": bool(tier.confirmed[i]),
        "p_healthy": round(float(p[0]), 6),
        "p_high_risk": round(float(p[1]), 6),
        "p_chronic": round(float(p[2]), 6),
        "findings": _findings(assessment, i, disease, values, lang),
    }


def payload(
    records: list[dict[str, Any]],
    assessment: Assessment,
    model: Any,
    columns: dict[str, np.ndarray],
    *,
    explain: bool,
    lang: str,
) -> list[dict[str, Any]]:
    """One JSON-ready assessment per record, in order."""
    explained: dict[str, list[list[str]]] = {}
    if explain:
        for disease in ("diabetes", "hypertension"):
            explained[disease] = model_reasons(
                model,
                columns,
                assessment.derived,
                disease,
                lang=lang,  # type: ignore[arg-type]
                top=model.config.worklist.top_features,
            )
    out = []
    for i, record in enumerate(records):
        values = {
            name: float(columns[name][i]) if name in columns else float(record.get(name) or np.nan) for name in _VALUES
        }
        values["cdrs_points"] = float(assessment.cdrs.total[i])
        values["is_male"] = float(columns["sex"][i] == "M")
        action, disease = assessment.action.action[i], assessment.action.disease[i]
        item: dict[str, Any] = {
            "resident_id": record["resident_id"],
            "team_id": record["team_id"],
            "overall_tier": assessment.overall[i],
            "diabetes": _disease(assessment, i, "diabetes", values, lang),
            "hypertension": _disease(assessment, i, "hypertension", values, lang),
            "cdrs": {
                "total": int(assessment.cdrs.total[i]),
                "points": {k: int(assessment.cdrs.points[k][i]) for k in CDRS_ITEMS},
                "complete": bool(assessment.cdrs.complete[i]),
                "in_validated_age": bool(assessment.cdrs.in_validated_age[i]),
            },
            "action": action,
            "action_disease": disease,
            "due_date": str(assessment.action.due[i]),
            "priority": float(assessment.action.priority[i]),
            "tests": assessment.action.tests[i],
            "model_version": assessment.model_version,
        }
        if explain:
            confirmed = bool(disease and assessment.tiers[disease].confirmed[i])
            reasons = [action_reason(action, disease, "", lang, values, confirmed=confirmed)]  # type: ignore[arg-type]
            reasons += finding_reasons(assessment.findings, values, i, ("diabetes", "hypertension"), lang)  # type: ignore[arg-type]
            for name in ("diabetes", "hypertension"):
                if assessment.tiers[name].source[i] == 2:
                    reasons += explained[name][i]
            item["reasons"] = reasons
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
    as_of: dt.date | None = Query(None, description="As-of date (default: today)"),
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
    return Response(body_text, media_type="application/json")


def _assess(records: list[dict[str, Any]], model: Any, *, as_of: dt.date | None, explain: bool, lang: str) -> str:
    """Records in, the response body out, through the one scoring path."""
    columns = columns_from_values(records)
    assessment = assess(columns, model, as_of=as_of, num_threads=1 if len(records) <= INLINE_RECORDS else 0)
    content = {
        "model_version": model.version,
        "as_of": str(as_of or dt.date.today()),
        "assessments": payload(records, assessment, model, columns, explain=explain, lang=lang),
    }
    return json.dumps(content, ensure_ascii=False)
