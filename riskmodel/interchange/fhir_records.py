"""The records the FHIR mapping makes of resources (:mod:`riskmodel.interchange.fhir_mapping`), before they are
put together as residents and events (:mod:`riskmodel.interchange.fhir_assembly`): typed, one per resource (an
Observation: one per value), and the rejected resources with their path and reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Rejection:
    """A resource the mapping refuses: its type, id, the path and the reason, and where it came from."""

    resource_type: str | None
    resource_id: str | None
    path: str
    reason: str
    source: str | None
    line: int | None

    def row(self) -> dict[str, Any]:
        return {
            "resource_type": self.resource_type,
            "resource_id": self.resource_id,
            "path": self.path,
            "reason": self.reason,
            "source": self.source,
            "line": self.line,
        }


@dataclass(frozen=True, slots=True)
class Result:
    """One result of an Observation: a SPEC 2 column and its value (converted), or a smoking answer (``text``)."""

    resident_id: str
    date: str
    encounter_id: str | None
    column: str
    value: float
    id: str | None
    text: str | None = None
    at: str | None = None
    """The effective date-time as written (``effectiveDateTime``, ``effectivePeriod.start`` or
    ``effectiveInstant``): a standalone systolic and diastolic pair when it is the same."""
    event: str | None = None
    """The event it joins when not its own Observation's: a standalone systolic's or diastolic's, the id of the
    first Observation of its pair (:func:`riskmodel.interchange.fhir_links.bp_groups`)."""


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """An active Condition of a disease; dated, it is also a ``diagnosis`` event."""

    id: str | None
    resident_id: str
    disease: str
    date: str | None


@dataclass(frozen=True, slots=True)
class Medicine:
    """A medicine statement or request: the treatment column it sets, now or at the event it is linked to."""

    resident_id: str
    treatment: str
    status: str | None
    encounter_id: str | None
    condition_id: str | None


@dataclass(frozen=True, slots=True)
class Visit:
    """An Encounter for a disease: a follow-up (``mode``), or a referral's arrival (``referral_id``)."""

    id: str | None
    resident_id: str
    date: str
    disease: str
    mode: str | None
    referral_id: str | None
    extensions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Referral:
    """A referral sent (ServiceRequest); completed, also returned on ``returned_date``."""

    id: str | None
    resident_id: str
    disease: str
    date: str
    status: str | None
    returned_date: str | None
