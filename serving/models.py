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

from riskmodel.records.events import DISEASE_REQUIRED_FOR, NEXT_FOLLOWUP_BEFORE_EVENT
from riskmodel.records.example import EXAMPLE_RESIDENT
from riskmodel.records.schema import (
    COLUMNS_BY_NAME,
    EVENT_COLUMNS,
    EVENTS_PER_RECORD,
    FALSE_SPELLINGS,
    IDENTIFIER_PATTERN,
    MAX_IDENTIFIER_LENGTH,
    RESIDENT_COLUMNS,
    TRUE_SPELLINGS,
    Column,
)
from riskmodel.records.validation import bmi_from
from riskmodel.rules.actions import ACTIONS
from riskmodel.worklist.outcomes import OUTCOMES

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
        height, weight = getattr(self, "height_cm", None), getattr(self, "weight_kg", None)
        if getattr(self, "bmi_kg_m2", None) is None and height is not None and weight is not None:
            bmi, limits = float(bmi_from(height, weight)), COLUMNS_BY_NAME["bmi_kg_m2"]
            if not limits.low <= bmi <= limits.high:  # type: ignore[operator]
                raise ValueError(
                    f"bmi_kg_m2 derived from height and weight is out of range {limits.low:g}-{limits.high:g}"
                )
            self.bmi_kg_m2 = round(bmi, 1)  # as a file's row: derived when missing (SPEC section 2)
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
        agreed, day = getattr(self, "next_followup_date", None), getattr(self, "event_date", None)
        if agreed is not None and day is not None and agreed < day:
            raise ValueError(NEXT_FOLLOWUP_BEFORE_EVENT)
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
    tier_label: str
    tier_source: Literal["record", "measurement", "model"]
    tier_source_label: str | None = None
    confirmed: bool
    stale: bool = False
    guideline_high_risk: bool
    p_healthy: float
    p_high_risk: float
    p_chronic: float
    findings: list[FindingOut]


class CdrsOut(BaseModel):
    total: int
    points: dict[str, int]
    complete: bool
    in_validated_age: bool


class DueActionOut(BaseModel):
    """One due action of a resident (SPEC 6), most urgent first."""

    disease: Literal["diabetes", "hypertension"]
    action: str
    label: str
    band: int
    due_date: dt.date
    overdue_days: int
    tests: str
    test_label: str
    priority: float


class AssessmentOut(BaseModel):
    resident_id: str
    team_id: str
    overall_tier: Literal["healthy", "high_risk", "chronic"]
    overall_tier_label: str
    diabetes: DiseaseAssessment
    hypertension: DiseaseAssessment
    cdrs: CdrsOut
    control_profile: str
    action: str
    action_label: str
    action_disease: str | None
    due_date: dt.date
    overdue_days: int
    priority: float
    tests: str
    actions: list[DueActionOut]
    reasons: list[str] | None = None
    model_version: str


class AssessmentResponse(BaseModel):
    model_version: str
    as_of: dt.date
    assessments: list[AssessmentOut]


class ContactOut(BaseModel):
    """A resident's contact, from the team's contacts file (only with ``include=contact`` and the contact scope)."""

    name: str | None
    phone: str | None
    address: str | None


class WorklistEntryOut(BaseModel):
    rank: int
    resident_id: str
    grid_id: str | None
    band: int
    action: str
    action_label: str
    action_disease: str | None
    due_date: dt.date
    overdue_days: int
    priority: float
    tests: str
    actions: list[dict[str, Any]]
    diabetes: dict[str, Any]
    hypertension: dict[str, Any]
    diabetes_tier: str
    hypertension_tier: str
    overall_tier: str
    diabetes_p_chronic: float
    hypertension_p_chronic: float
    flags: list[str]
    reasons: list[str]
    contact: ContactOut | None = Field(
        None, description="Present only with include=contact; null when the contacts file has no row for them"
    )


class BandCountOut(BaseModel):
    """One band of the whole list, in entries (residents): due = listed + cut + hidden."""

    band: Literal[1, 2, 3, 4]
    code: Literal["urgent", "confirm_and_refer", "follow_up", "screening"]
    label: str
    due: int
    listed: int
    cut: int
    hidden: int


class StaleBatchOut(BaseModel):
    batch_date: dt.date
    days_old: int
    limit_days: int
    message: str


class WorklistResponse(BaseModel):
    team_id: str
    as_of: dt.date
    list_date: dt.date
    batch_id: str
    batch_as_of: dt.date
    batch_date: dt.date
    stale_batch: StaleBatchOut | None = Field(description="Set when the batch is older than worklist.stale_batch_days")
    model_version: str
    capacity: int
    counts: dict[str, Any]
    cuts: list[dict[str, Any]]
    bands: list[BandCountOut]
    counts_text: str = Field(description="Every band's counts in plain words, in the language asked for")
    total: int = Field(description="Entries on the whole list (every page)")
    offset: int = Field(description="Entries before this page")
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null on the last page")
    entries: list[WorklistEntryOut]


class ReminderActionOut(BaseModel):
    disease: str
    action: str
    due_date: dt.date


class ReminderOut(BaseModel):
    """One resident's text: what to do, by when, where; never a diagnosis (SPEC 15)."""

    resident_id: str
    grid_id: str | None
    due_date: dt.date | None = Field(description="The earliest due date in the window; null when already due")
    overdue: bool
    actions: list[ReminderActionOut]
    message: str = Field(max_length=70)
    contact: ContactOut | None = Field(None, description="Present only with include=contact")


class RemindersResponse(BaseModel):
    team_id: str
    list_date: dt.date
    batch_date: dt.date
    within_days: int
    clinic: str
    reminders: list[ReminderOut]


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
CONTACT_FORBIDDEN_RESPONSE: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorOut, "description": "include=contact from a key without the contact scope"}
}
CURSOR_CONFLICT_RESPONSE: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorOut, "description": "The cursor points into a list a newer batch replaced: start again"}
}
CONFLICT_RESPONSE: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorOut, "description": "The action is not due for that resident, or the resident was removed"}
}
