"""The links between FHIR resources that the assembly follows, checked before it (SPEC 2.2, 14.2).

An Observation's ``encounter`` puts its value into a follow-up; a medicine's Encounter (a MedicationStatement's
``context``, a MedicationRequest's ``encounter``) or ``reasonReference`` (a Condition) states the treatment at that
follow-up or diagnosis; an Encounter's ``basedOn`` makes it a referral's arrival. A resource never changes another
resident: a link naming a resource of another Patient is a rejected row at the link's path. A medicine whose link
names no event of its own resident (the resource is missing from the input, or is no follow-up or dated diagnosis)
is current treatment when its status is ``active`` (SPEC 14.2 maps an active medicine, and says nothing of a
link), else a rejected row: the treatment it states belongs to no event.

A standalone systolic (LOINC 8480-6) and a standalone diastolic (8462-4) are one BP reading (SPEC 14.2 maps the
standalone codes as the panel's components; SPEC 2 reads a BP as a pair) when they are of the same Patient, at the
same effective date-time as written and at the same Encounter (or both at none): :func:`bp_groups`. A half that
finds no partner is a rejected row (:data:`BP_HALF_ALONE`), never half a BP the history would drop unseen.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import NamedTuple, TypeVar

from riskmodel.interchange.fhir_records import Diagnosis, Medicine, Result, Visit

ENCOUNTER_LINK = {"MedicationStatement": "context", "MedicationRequest": "encounter"}
"""The element of each medicine type that names its Encounter (FHIR R4)."""
TARGETS = ("Encounter", "Condition", "ServiceRequest")
"""The resource types a link of the assembly names: their owners are noted as the input is read."""


class Link(NamedTuple):
    """A reference the assembly follows: where it is (``Observation.encounter``), the type and id it names."""

    path: str
    kind: str
    ident: str


BP_HALVES = ("sbp_mmhg", "dbp_mmhg")
"""The columns of a BP reading, each the value of a standalone 8480-6 / 8462-4 Observation when not a panel's."""
BP_HALF_ALONE = {
    "sbp_mmhg": "a systolic (8480-6) without a diastolic (8462-4) taken at the same time",
    "dbp_mmhg": "a diastolic (8462-4) without a systolic (8480-6) taken at the same time",
}
"""Why a standalone half of a BP that pairs with none is rejected (at ``Observation.code``; counted as rejected,
not used): the history reads a BP as a pair, and a half alone would vanish from it without a row."""
_Key = TypeVar("_Key")
Owners = dict[tuple[str, str], set[str]]
"""(type, id) → the residents (Patient ids) whose resources of that type have that id."""


def links_of(kind: str, records: Sequence[object]) -> tuple[Link, ...]:
    """The links of one resource used, from the records it gave (``()`` for a type without links)."""
    if not records:
        return ()
    record = records[0]
    links: list[tuple[str, str, str | None]] = []
    if isinstance(record, Result):
        links.append(("Observation.encounter", "Encounter", record.encounter_id))
    elif isinstance(record, Medicine):
        links += [(f"{kind}.{ENCOUNTER_LINK[kind]}", "Encounter", record.encounter_id),
                  (f"{kind}.reasonReference", "Condition", record.condition_id)]  # fmt: skip
    elif isinstance(record, Visit):
        links.append(("Encounter.basedOn", "ServiceRequest", record.referral_id))
    return tuple(Link(path, target, ident) for path, target, ident in links if ident is not None)


def foreign(resident: str, links: Iterable[Link], owners: Owners) -> tuple[str, str] | None:
    """(path, reason) of the first link naming a resource of another Patient only, else ``None``."""
    for link in links:
        found = owners.get((link.kind, link.ident))
        if found and resident not in found:
            article = "an" if link.kind[0] in "AEIOU" else "a"
            return link.path, f"names {article} {link.kind} of another Patient"
    return None


def event_keys(visits: Iterable[Visit], diagnoses: Iterable[Diagnosis]) -> set[tuple[str, str, str]]:
    """(type, resident, id) of each resource that is an event a treatment can be stated at: a follow-up
    Encounter, a dated Condition."""
    keys = {("Encounter", v.resident_id, v.id) for v in visits if v.referral_id is None and v.id is not None}
    keys |= {("Condition", d.resident_id, d.id) for d in diagnoses if d.date is not None and d.id is not None}
    return keys


def settled(medicine: Medicine, links: Sequence[Link], events: set[tuple[str, str, str]]) -> Medicine | Link:
    """The medicine with the one link that names an event of its resident (the Encounter first), or without
    links when it names none and is active; else the link it cannot be mapped by."""
    for link in links:
        if (link.kind, medicine.resident_id, link.ident) in events:
            encounter = link.ident if link.kind == "Encounter" else None
            condition = link.ident if link.kind == "Condition" else None
            return Medicine(medicine.resident_id, medicine.treatment, medicine.status, encounter, condition)
    if medicine.status == "active":
        return Medicine(medicine.resident_id, medicine.treatment, medicine.status, None, None)
    return links[0]


def no_event(link: Link) -> str:
    """Why a medicine that is not active is rejected when its link names no event of its resident."""
    what = "follow-up Encounter" if link.kind == "Encounter" else "dated Condition"
    return f"names no {what} of this Patient in this input (the treatment it states belongs to none)"


def bp_half(results: Sequence[Result]) -> bool:
    """Whether an Observation's results are a standalone systolic or diastolic (a panel gives both)."""
    return len(results) == 1 and results[0].column in BP_HALVES


def bp_groups(halves: Iterable[tuple[_Key, Result]]) -> list[list[tuple[_Key, Result]]]:
    """The standalone halves of a BP grouped as one reading each: same Patient, same effective date-time as
    written, same Encounter (or none), in the order they came. A group with both a systolic and a diastolic is one
    reading; two systolics (or diastolics) in it are averaged, as a panel's repeated component is. A group with
    only one kind is no reading: each half in it is rejected (:data:`BP_HALF_ALONE`)."""
    groups: dict[tuple[str, str | None, str | None], list[tuple[_Key, Result]]] = defaultdict(list)
    for key, result in halves:
        groups[(result.resident_id, result.at, result.encounter_id)].append((key, result))
    return list(groups.values())


def paired(group: Sequence[tuple[object, Result]]) -> bool:
    """Whether a group of :func:`bp_groups` holds both a systolic and a diastolic."""
    return {result.column for _, result in group} == set(BP_HALVES)
