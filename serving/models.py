"""Request and response models of the HTTP API, derived from the one record schema."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    create_model,
    field_validator,
    model_validator,
)

from riskmodel.records.events import DISEASE_REQUIRED_FOR
from riskmodel.records.schema import (
    EVENT_COLUMNS,
    EVENTS_PER_RECORD,
    FALSE_SPELLINGS,
    IDENTIFIER_PATTERN,
    MAX_IDENTIFIER_LENGTH,
    RESIDENT_COLUMNS,
    TRUE_SPELLINGS,
    Column,
)
from riskmodel.rules.actions import ACTIONS
from riskmodel.worklist.outcomes import OUTCOMES
from training.tracking import EXAMPLE_RESIDENT

MAX_RECORDS = 1000


def _boolean(value: Any) -> Any:
    """Accept the CSV spellings of SPEC section 2 (true/false, 1/0, yes/no, 是/否) as JSON strings too."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in TRUE_SPELLINGS:
            return True
        if text in FALSE_SPELLINGS:
            return False
    return value


def _field(column: Column) -> tuple[Any, Any]:
    description = column.description
    if column.kind == "float":
        kind: Any = Annotated[float, Field(ge=column.low, le=column.high, allow_inf_nan=False)]
    elif column.kind == "int":
        kind = Annotated[int, Field(ge=int(column.low or 0), le=int(column.high or 0), strict=False)]
    elif column.kind == "bool":
        kind = Annotated[bool, BeforeValidator(_boolean)]
    elif column.kind == "date":
        kind = dt.date
    elif column.kind == "category":
        kind = Literal[column.choices]  # type: ignore[valid-type]
    else:
        kind = Annotated[str, Field(min_length=1, max_length=MAX_IDENTIFIER_LENGTH, pattern=IDENTIFIER_PATTERN)]
    if column.required:
        return kind, Field(description=description)
    return kind | None, Field(default=None, description=description)


class _RecordBase(BaseModel):
    model_config = ConfigDict(
        extra="allow", str_strip_whitespace=True, json_schema_extra={"examples": [EXAMPLE_RESIDENT]}
    )

    @model_validator(mode="after")
    def _bp_order(self) -> _RecordBase:
        sbp, dbp = getattr(self, "sbp_mmhg", None), getattr(self, "dbp_mmhg", None)
        if sbp is not None and dbp is not None and sbp <= dbp:
            raise ValueError("sbp_mmhg must be above dbp_mmhg")
        seen: set[str] = set()
        for event in getattr(self, "events", None) or []:
            if event.resident_id is not None and event.resident_id != self.resident_id:  # type: ignore[attr-defined]
                raise ValueError(f"event {event.event_id} names another resident than its record")
            if event.event_id in seen:
                raise ValueError(f"event_id {event.event_id} appears more than once for this resident")
            seen.add(event.event_id)
        return self


class _EventBase(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="after")
    def _consistent(self) -> _EventBase:
        sbp, dbp = getattr(self, "sbp_mmhg", None), getattr(self, "dbp_mmhg", None)
        if sbp is not None and dbp is not None and sbp <= dbp:
            raise ValueError("sbp_mmhg must be above dbp_mmhg")
        if getattr(self, "kind", None) in DISEASE_REQUIRED_FOR and getattr(self, "disease", None) is None:
            raise ValueError("disease is required for followup, diagnosis and referral events")
        return self


def _event_field(column: Column) -> tuple[Any, Any]:
    if column.name == "resident_id":  # nested in its record: optional, and must be the record's if given
        kind, default = _field(column)
        return kind | None, Field(default=None, description=column.description)
    return _field(column)


EventRecord: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "EventRecord", __base__=_EventBase, **{c.name: _event_field(c) for c in EVENT_COLUMNS}
)
EventRecord.__doc__ = "One event of the resident's history (schema version 2, SPEC 2.2)."


ResidentRecord: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "ResidentRecord",
    __base__=_RecordBase,
    **{c.name: _field(c) for c in RESIDENT_COLUMNS},
    events=(
        list[EventRecord] | None,  # type: ignore[valid-type]
        Field(default=None, max_length=EVENTS_PER_RECORD, description="The resident's events (at most 200)"),
    ),
)
ResidentRecord.__doc__ = "One resident's latest health-record state (record schema version 1, SPEC section 2)."


class AssessmentRequest(BaseModel):
    """1 to 1,000 resident records."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"records": [EXAMPLE_RESIDENT]}]})
    records: list[ResidentRecord] = Field(min_length=1, max_length=MAX_RECORDS)  # type: ignore[valid-type]

    @field_validator("records")
    @classmethod
    def _unique_ids(cls, records: list[Any]) -> list[Any]:
        seen: set[str] = set()
        for record in records:
            if record.resident_id in seen:
                raise ValueError(f"resident_id {record.resident_id} appears more than once in this request")
            seen.add(record.resident_id)
        return records


class FindingOut(BaseModel):
    code: str
    text: str
    reference: str


class DiseaseAssessment(BaseModel):
    tier: Literal["healthy", "high_risk", "chronic"]
    tier_source: Literal["record", "measurement", "model"]
    tier_source_label: str | None = None
    confirmed: bool
    stale: bool = False
    p_healthy: float
    p_high_risk: float
    p_chronic: float
    findings: list[FindingOut]


class CdrsOut(BaseModel):
    total: int
    points: dict[str, int]
    complete: bool
    in_validated_age: bool


class AssessmentOut(BaseModel):
    resident_id: str
    team_id: str
    overall_tier: Literal["healthy", "high_risk", "chronic"]
    diabetes: DiseaseAssessment
    hypertension: DiseaseAssessment
    cdrs: CdrsOut
    action: str
    action_disease: str | None
    due_date: dt.date
    priority: float
    tests: str
    reasons: list[str] | None = None
    model_version: str


class AssessmentResponse(BaseModel):
    model_version: str
    as_of: dt.date
    assessments: list[AssessmentOut]


class WorklistEntryOut(BaseModel):
    rank: int
    resident_id: str
    grid_id: str | None
    action: str
    action_disease: str | None
    due_date: dt.date
    priority: float
    tests: str
    diabetes_tier: str
    hypertension_tier: str
    overall_tier: str
    diabetes_p_chronic: float
    hypertension_p_chronic: float
    reasons: list[str]


class WorklistResponse(BaseModel):
    team_id: str
    as_of: dt.date
    batch_id: str
    batch_as_of: dt.date
    model_version: str
    capacity: int
    counts: dict[str, int]
    entries: list[WorklistEntryOut]


class ModelInfo(BaseModel):
    registered_name: str
    version: str
    alias: str | None
    schema_version: int
    training_data: dict[str, Any]
    metrics: dict[str, float | None]
    screen_cuts: dict[str, float] = {}


class OutcomeRequest(BaseModel):
    """What happened to a work-list action (SPEC 6)."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {"resident_id": "R000000001", "disease": "hypertension", "action": "recheck", "outcome": "agreed"},
                {
                    "resident_id": "R000000002",
                    "disease": "diabetes",
                    "action": "screen",
                    "outcome": "declined",
                    "reason": "will test at the county hospital",
                },
                {"resident_id": "R000000003", "outcome": "moved", "note": "moved to another county"},
            ]
        },
    )
    resident_id: Annotated[str, Field(min_length=1, max_length=MAX_IDENTIFIER_LENGTH, pattern=IDENTIFIER_PATTERN)]
    disease: Literal["diabetes", "hypertension"] | None = None
    action: Literal[ACTIONS] | None = None  # type: ignore[valid-type]
    outcome: Literal[OUTCOMES]  # type: ignore[valid-type]
    reason: Annotated[str, Field(max_length=500)] | None = None
    note: Annotated[str, Field(max_length=2000)] | None = None
    recorded_on: Annotated[dt.date, Field(ge=dt.date(1900, 1, 1), le=dt.date(2100, 12, 31))] | None = None


class VoidRequest(BaseModel):
    """Why an outcome is voided (SPEC 16)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str = Field(min_length=1, max_length=500)


class OutcomeOut(BaseModel):
    outcome_id: str
    team_id: str
    resident_id: str
    disease: str | None
    action: str | None
    outcome: str
    reason: str | None
    note: str | None
    recorded_on: dt.date
    recorded_at: dt.datetime
    recorded_by: str
    hidden_until: dt.date | None
    voids: str | None = None


class OutcomeList(BaseModel):
    team_id: str
    outcomes: list[OutcomeOut]


class ErrorOut(BaseModel):
    """An error with a message (401, 404, 409, 413, 503)."""

    detail: str


class FieldErrorOut(BaseModel):
    field: str
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(BaseModel):
    """Bad input (422): each problem with the field path (``body`` when the body itself cannot be read)."""

    detail: list[FieldErrorOut]


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No API key, or an unknown one"},
    403: {"model": ErrorOut, "description": "The key lacks the scope the route needs (read or write)"},
    404: {"model": ErrorOut, "description": "A team the key may not read, or that does not exist (the same answer)"},
    413: {"model": ErrorOut, "description": "A body over serving.max_body_bytes"},
    422: {"model": ValidationErrorOut, "description": "Bad input, with the field path"},
    429: {
        "model": ErrorOut,
        "description": "Over the key's or the address's request rate, or too many 401s from the address; "
        "see Retry-After",
    },
    503: {"model": ErrorOut, "description": "No model loaded, or no batch published yet"},
}
CONFLICT_RESPONSE: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorOut, "description": "The action is not due for that resident, or the resident was removed"}
}
