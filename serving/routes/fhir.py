"""FHIR R4 out (SPEC 14.3): ``POST /v1/fhir/assessments`` takes a Bundle and answers ``RiskAssessment`` and
``Task`` resources; the indicators as ``MeasureReport``; the package's ``Measure`` and ``CodeSystem`` resources.

The Bundle is mapped by the FHIR import's rules (:func:`riskmodel.interchange.fhir_in.map_bundle`: each resource
checked by the FHIR R4 model, mapped by :mod:`riskmodel.interchange.fhir_mapping`, the CLI's mapping), typed and
checked at the boundary by the request models of ``POST /v1/assessments``, assessed through the one records-in
entry, and formatted from the same JSON content as ``POST /v1/assessments``. A value the boundary cannot type
as the mapping writes it goes to the SPEC 2 validators instead, as a file's would. A Bundle the mapping or the
validators reject any part of is a 422 ``OperationOutcome`` (one issue per rejected resource).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, NamedTuple

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from riskmodel.indicators.report import unit_indicators
from riskmodel.intake import assess_records
from riskmodel.interchange.fhir_in import BundleRecords, as_import, map_bundle
from riskmodel.interchange.fhir_measures import MEASURES, measure_reports
from riskmodel.interchange.fhir_out import (
    CODE_SYSTEMS,
    assessment_resources,
    basis_observations,
    bundle,
    code_system,
    operation_outcome,
)
from riskmodel.interchange.fhir_records import Result
from riskmodel.interchange.importing import record_rejections, text_table
from riskmodel.interchange.json_text import NotUtf8, utf8_text
from riskmodel.interchange.settings import FhirSettings, load_fhir_settings
from riskmodel.records.schema import (
    COLUMN_NAMES,
    EVENT_COLUMN_NAMES,
    EVENT_COLUMNS,
    RESIDENT_COLUMNS,
    Column,
)
from serving import audit
from serving.auth import Caller, team_not_found
from serving.deps import CallerDep, ModelDep, StoreDep
from serving.models import ERROR_RESPONSES, MAX_RECORDS, ResidentRecord, ValidationErrorOut
from serving.routes.assessments import INLINE_RECORDS, payload

FHIR_JSON = "application/fhir+json"
ACCEPTED_TYPES = (FHIR_JSON, "application/json")
_OUTCOME = {FHIR_JSON: {"schema": {"type": "object", "description": "A FHIR R4 OperationOutcome"}}}
_POST_ERRORS: dict[int | str, dict[str, Any]] = {
    200: {"content": {FHIR_JSON: {"schema": {"type": "object"}}}, "description": "A collection Bundle"},
    415: {"content": _OUTCOME, "description": "A body that is not application/fhir+json or application/json"},
    422: {
        "model": ValidationErrorOut,
        "content": _OUTCOME,
        "description": "A Bundle the mapping rejects (an OperationOutcome, one issue per rejected resource), "
        "or a bad query parameter (JSON with the field path)",
    },
}
_BUNDLE_BODY = {
    "requestBody": {
        "required": True,
        "description": "A FHIR R4 Bundle: 1 to 1,000 Patients with their Observations, Conditions, "
        "MedicationStatements/Requests, Encounters and ServiceRequests (SPEC 14.2)",
        "content": {kind: {"schema": {"type": "object"}} for kind in ACCEPTED_TYPES},
    }
}
router = APIRouter(prefix="/v1/fhir", responses=ERROR_RESPONSES, tags=["fhir"])
AsOf = Query(
    None,
    ge=dt.date(1900, 1, 1),  # type: ignore[arg-type]
    le=dt.date(2100, 12, 31),  # type: ignore[arg-type]
    description="As-of date (default: today; for MeasureReport, the batch's)",
)


class Rejected(Exception):
    """The request's Bundle cannot be assessed as sent: answered as an OperationOutcome."""

    def __init__(self, issues: list[dict[str, Any]], status_code: int = 422) -> None:
        super().__init__(f"{len(issues)} rejected")
        self.issues = issues
        self.status_code = status_code


def _fhir(content: object, status_code: int = 200) -> Response:
    return Response(json.dumps(content, ensure_ascii=False), status_code=status_code, media_type=FHIR_JSON)


@lru_cache(maxsize=1)
def _settings() -> FhirSettings:
    return load_fhir_settings()


def _document(body: bytes, content_type: str) -> dict[str, Any]:
    """The request body as a Bundle of 1 to 1,000 Patients, or :class:`Rejected`."""
    if content_type.split(";")[0].strip().lower() not in ACCEPTED_TYPES:
        refused = f"Content-Type {content_type or '(none)'} is not {FHIR_JSON} or application/json"
        raise Rejected([{"path": "body", "reason": refused, "code": "not-supported"}], 415)
    document: Any = None
    reason: str | None = None
    try:
        document = json.loads(utf8_text(body), parse_constant=_not_json)
    except NotUtf8 as error:  # UTF-16 or UTF-32 (json.loads would read them), or not UTF-8 at a byte
        reason = f"{error}; send the body as UTF-8"
    except json.JSONDecodeError as error:
        reason = f"not JSON: {error}"
    except ValueError as error:  # NaN, Infinity: not JSON (RFC 8259), as the NDJSON import says
        reason = f"not JSON: {error} is not a number"
    except RecursionError:
        reason = "not JSON this program reads: nested too deeply"
    if reason is None and _SURROGATE.search(body) is not None and not _unicode(document):
        reason = "not Unicode text: a \\u escape of a lone surrogate"
    if reason is not None:
        raise Rejected([{"path": "body", "reason": reason, "code": "structure"}])
    if not isinstance(document, dict) or document.get("resourceType") != "Bundle":
        raise Rejected([{"path": "Bundle", "reason": "a FHIR Bundle is expected", "code": "structure"}])
    entries = document.get("entry")
    if entries is not None and not isinstance(entries, list):
        raise Rejected([{"path": "Bundle.entry", "reason": "not a list", "code": "structure"}])
    patients = _patients(document)
    if not 1 <= patients <= MAX_RECORDS:
        reason = f"{patients:,} Patients: a Bundle holds 1 to {MAX_RECORDS:,}"
        raise Rejected([{"path": "Bundle.entry", "reason": reason, "code": "invalid"}])
    return document


def _not_json(name: str) -> Any:
    raise ValueError(name)


_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
"""A JSON escape of a UTF-16 surrogate: a lone one is no character (a pair is one, and is fine)."""


def _unicode(document: Any) -> bool:
    """Whether every string of the document is Unicode text (no lone surrogate)."""
    try:
        json.dumps(document, ensure_ascii=False).encode()
    except (UnicodeEncodeError, RecursionError):
        return False
    return True


class BoundaryRecords(NamedTuple):
    """A Bundle's residents and events typed and checked at the boundary (the request models of
    ``POST /v1/assessments``), with the results their assessments' ``basis`` reads."""

    residents: list[dict[str, Any]]
    events: list[dict[str, Any]]
    observations: list[Result]


class _NotCanonical(Exception):
    """A value not in the form the mapping writes: the SPEC 2 validators decide (and word) it."""


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_WHOLE = re.compile(r"[+-]?\d+")


def _typed(value: Any, column: Column) -> Any:
    """A mapped value typed by its column's kind, only from the canonical form the mapping writes (a float or
    its text, ``true``/``false``, YYYY-MM-DD, a choice as spelled, an identifier without surrounding blanks);
    anything else is :class:`_NotCanonical`, never a guess."""
    if value is None:
        return None
    if column.kind in ("float", "int"):
        if isinstance(value, float) and math.isfinite(value):
            number = value
        elif isinstance(value, str) and (_WHOLE if column.kind == "int" else _NUMBER).fullmatch(value):
            number = float(value)
        else:
            raise _NotCanonical(column.name)
        if column.kind == "int":
            if not number.is_integer():
                raise _NotCanonical(column.name)
            return int(number)
        return number
    if not isinstance(value, str):
        raise _NotCanonical(column.name)
    if column.kind == "bool" and value in ("true", "false"):
        return value == "true"
    if column.kind == "date" and _DAY.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise _NotCanonical(column.name) from None
    if column.kind == "category" and value in column.choices:
        return value
    if column.kind == "str" and value and value == value.strip():
        return value
    raise _NotCanonical(column.name)


def boundary_records(mapped: BundleRecords, as_of: dt.date) -> BoundaryRecords | None:
    """The mapped residents and events typed and checked by the request models of ``POST /v1/assessments``
    (derived from the one record schema), or ``None`` where any value is not canonical or any check fails: then
    the SPEC 2 validators decide, and give the rejected rows their reasons."""
    try:
        residents = [{c.name: _typed(row.get(c.name), c) for c in RESIDENT_COLUMNS} for row in mapped.residents]
        events = [{c.name: _typed(event[c.name], c) for c in EVENT_COLUMNS} for event in mapped.events]
    except _NotCanonical:
        return None
    nested: dict[str, list[dict[str, Any]]] = {row["resident_id"]: [] for row in residents}
    for event in events:
        if event["resident_id"] not in nested or event["event_date"] is None or event["event_date"] > as_of:
            return None
        nested[event["resident_id"]].append(event)
    if len(nested) != len(residents):  # a repeated resident id
        return None
    try:
        checked = [ResidentRecord.model_validate({**row, "events": nested[row["resident_id"]]}) for row in residents]
    except ValidationError:
        return None
    records = [record.model_dump() for record in checked]
    return BoundaryRecords(
        [{k: v for k, v in record.items() if k != "events"} for record in records],
        [event for record in records for event in record["events"]],
        mapped.observations,
    )


def read_bundle(document: dict[str, Any], *, as_of: dt.date) -> tuple[BundleRecords, BoundaryRecords | None]:
    """A request's Bundle mapped by the FHIR import's rules and typed at the boundary (``None``: the validators
    decide); a resource the mapping rejects is :class:`Rejected`."""
    mapped = map_bundle(document, as_of=as_of, settings=_settings())
    if mapped.rejected:  # a resource of no Patient of the Bundle among them (the mapping rejects it)
        raise Rejected([r.row() for r in mapped.rejected])
    return mapped, boundary_records(mapped, as_of)


_SHOWN_VALUE = re.compile(r"((?:out of range [^;()]*|not a whole number)) \([^;()]*\)")
"""The resident's value the SPEC 2 validators show after a range or whole-number reason (for a file's rejected
rows): an API answer names the column and the reason, never the value (SPEC 8)."""


def without_values(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "reason": _SHOWN_VALUE.sub(r"\1", str(row["reason"]))}


def _patients(document: dict[str, Any]) -> int:
    return sum(
        1
        for entry in document.get("entry") or []
        if isinstance(entry, dict)
        and isinstance(entry.get("resource"), dict)
        and entry["resource"].get("resourceType") == "Patient"
    )


@dataclass(frozen=True)
class Answer:
    """The answering Bundle, and what the audit row records of it: the teams read and how many residents."""

    content: dict[str, Any]
    teams: frozenset[str]
    residents: int


def assess_bundle(
    document: dict[str, Any], model: Any, caller: Caller, *, as_of: dt.date | None, lang: Literal["zh", "en"]
) -> dict[str, Any]:
    """A Bundle in, the answering Bundle out (see :func:`answer_bundle`)."""
    return answer_bundle(document, model, caller, as_of=as_of, lang=lang).content


def answer_bundle(
    document: dict[str, Any], model: Any, caller: Caller, *, as_of: dt.date | None, lang: Literal["zh", "en"]
) -> Answer:
    """A Bundle in, the answering Bundle out: mapped by the FHIR import's rules, assessed by the one records-in
    entry (typed records, checked at the boundary; else the validators, whose rejections are a 422)."""
    day = as_of or model.config.deployment.today()
    mapped, checked = read_bundle(document, as_of=day)
    for row in mapped.residents:
        if not caller.may_read(str(row["team_id"])):
            raise team_not_found(str(row["team_id"]))
    threads = 1 if len(mapped.residents) <= INLINE_RECORDS else 0
    if checked is not None:
        result = assess_records(
            checked.residents, checked.events or None, as_of=day, model=model, checked=True, num_threads=threads
        )
        records = checked.residents
    else:
        imported = as_import(mapped)
        result = assess_records(
            text_table(imported.residents, COLUMN_NAMES),
            text_table(imported.events, EVENT_COLUMN_NAMES),
            as_of=day,
            model=model,
            num_threads=threads,
        )
        rejections = record_rejections(result.rejected, result.rejected_events)
        if rejections or result.assessment is None:
            raise Rejected([without_values(row) for frame in rejections for row in frame.to_dict("records")])
        records = result.residents.to_dict("records")  # type: ignore[union-attr]
    ids = [{"resident_id": r["resident_id"], "team_id": r["team_id"]} for r in records]
    items = payload(ids, result.assessment, model, explain=True, lang=lang)  # type: ignore[arg-type]
    basis = basis_observations(mapped.observations, day)
    content = bundle(assessment_resources(items, as_of=day, lang=lang, basis=basis))
    return Answer(content, frozenset(str(r["team_id"]) for r in ids), len(ids))


@router.post(
    "/assessments",
    summary="Assess the Patients of a FHIR R4 Bundle: a RiskAssessment per disease and a Task per due action",
    openapi_extra=_BUNDLE_BODY,
    response_class=Response,
    responses=_POST_ERRORS,
)
async def fhir_assessments(
    request: Request,
    model: ModelDep,
    caller: CallerDep,
    lang: Literal["zh", "en"] = Query("zh", description="Language of displays, findings and reasons"),
    as_of: dt.date | None = AsOf,
) -> Response:
    try:
        document = _document(await request.body(), request.headers.get("content-type", ""))
        if _patients(document) <= INLINE_RECORDS:  # a few milliseconds: cheaper on the event loop than a hop
            answer = answer_bundle(document, model, caller, as_of=as_of, lang=lang)
        else:
            answer = await run_in_threadpool(answer_bundle, document, model, caller, as_of=as_of, lang=lang)
    except Rejected as rejected:
        return _fhir(operation_outcome(rejected.issues), rejected.status_code)
    request.app.state.metrics.assessments.inc(answer.residents)
    # Every read of residents' data is one audit row, written before the answer leaves (SPEC 16)
    await audit.record_async(request, caller, "read", answer.teams, answer.residents)
    return _fhir(answer.content)


def _is(entry: dict[str, Any], kind: str) -> bool:
    return bool(entry["resource"]["resourceType"] == kind)


@router.get("/Measure", summary="Every indicator (SPEC 11) as a FHIR Measure", response_class=Response)
async def measures(caller: CallerDep) -> Response:
    return _fhir(bundle(MEASURES.values(), kind="searchset"))


@router.get("/Measure/{measure_id}", summary="One indicator's Measure", response_class=Response)
async def one_measure(caller: CallerDep, measure_id: str = Path(max_length=64)) -> Response:
    if measure_id not in MEASURES:
        raise HTTPException(404, f"Measure {measure_id} not found")
    return _fhir(MEASURES[measure_id])


@router.get("/CodeSystem/{code_system_id}", summary="A code system the package publishes", response_class=Response)
async def one_code_system(caller: CallerDep, code_system_id: str = Path(max_length=64)) -> Response:
    if code_system_id not in CODE_SYSTEMS:
        raise HTTPException(404, f"CodeSystem {code_system_id} not found")
    return _fhir(code_system(code_system_id))


@router.get(
    "/MeasureReport",
    summary="Indicators of a team, a grid or the county as MeasureReports (one per indicator and unit)",
    response_class=Response,
)
async def measure_report(
    request: Request,
    model: ModelDep,
    store: StoreDep,
    caller: CallerDep,
    level: Literal["team", "grid", "county"] = Query("team"),
    id: str | None = Query(None, min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]*$"),  # noqa: A002
    as_of: dt.date | None = AsOf,
) -> Response:
    everyone = "*" in caller.teams
    if level == "county":
        if not everyone:
            raise team_not_found("*")
        units = None
    else:
        readable = (
            store.units(level)
            if everyone
            else [t for t in store.teams() if caller.may_read(t)]
            if level == "team"
            else store.grids_within(sorted(caller.teams))
        )
        if id is not None and id not in readable:
            raise team_not_found(id)
        units = [id] if id is not None else readable
    content = await run_in_threadpool(
        unit_indicators, store, level=level, units=units, as_of=as_of, months=1, config=model.config
    )
    await audit.record_async(request, caller, "read", [u["unit_id"] for u in content["units"]], 0)  # SPEC 16
    return _fhir(bundle(measure_reports(content), kind="searchset"))
