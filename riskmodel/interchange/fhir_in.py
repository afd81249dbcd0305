"""FHIR R4 in (SPEC 14.2): Patients, Observations, Conditions, medications, Encounters and referrals become the
residents and events of SPEC 2, with rejected rows (resource type, id, path, reason) and counts per type.

Each resource is mapped by the rules of :mod:`riskmodel.interchange.fhir_mapping` and the records put together by
:mod:`riskmodel.interchange.fhir_assembly`, in plain Python: the same code maps a Bundle file, a bulk bucket and a
request's Bundle (:func:`map_bundle`, without pandas). Once the whole input is read, a resource whose subject
names no Patient of it is rejected at its subject, whatever it would have filled (an event, the resident's row, a
treatment flag), never dropped without a row; its count moves from used to rejected. So is a resource whose link
(an Observation's encounter, a medicine's Encounter or Condition, an Encounter's basedOn) names another Patient's
resource, at that link: it never changes another resident (SPEC 2.2, :mod:`riskmodel.interchange.fhir_links`).
Then a standalone systolic (8480-6) and diastolic (8462-4) of one Patient at the same time and Encounter become one
BP reading; a half with no partner is a rejected row at ``Observation.code`` (same module).
The file import's result is then validated by the SPEC 2 validators like any other input
(:mod:`riskmodel.interchange.importing`). Files and request bodies are UTF-8 JSON
(:mod:`riskmodel.interchange.json_text`).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import orjson
import pandas as pd

from riskmodel.exceptions import InputFileError
from riskmodel.interchange.fhir_assembly import assemble_records
from riskmodel.interchange.fhir_links import (
    BP_HALF_ALONE,
    TARGETS,
    Link,
    Owners,
    bp_groups,
    bp_half,
    event_keys,
    foreign,
    links_of,
    no_event,
    paired,
    settled,
)
from riskmodel.interchange.fhir_mapping import (
    KIND_ORDER,
    Refused,
    Skipped,
    condition,
    encounter,
    medicine,
    observation,
    patient,
    referral,
    subject_of,
    text,
)
from riskmodel.interchange.fhir_reading import rejected_frame
from riskmodel.interchange.fhir_records import Diagnosis, Medicine, Referral, Rejection, Result, Visit
from riskmodel.interchange.fhir_validation import fhir_problem
from riskmodel.interchange.json_text import UTF8_REQUIRED, NotUtf8, refuse_wide, utf8_text
from riskmodel.interchange.settings import FhirSettings
from riskmodel.records.schema import EVENT_COLUMN_NAMES

NDJSON_SUFFIXES = (".ndjson", ".jsonl", ".ndjson.gz", ".jsonl.gz")
NO_PATIENT = "names no Patient of this input (the Patient is missing from it, or was rejected)"
"""Why a resource whose ``subject`` is no Patient the input holds is rejected (at ``<type>.subject``)."""
_RESIDENT_KEYS = ["resident_id", "team_id", "sex", "age_years", "grid_id", "_source", "_line"]


@dataclass
class FhirImport:
    """What an import gives: residents and events (SPEC 2 columns, as text, for the validators), rejected rows,
    and per resource type the counts in = used + skipped + rejected."""

    residents: pd.DataFrame
    events: pd.DataFrame
    rejected: pd.DataFrame
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    observations: list[Result] | None = None
    """Each result used, with the Observation ``id`` it came from (what an assessment's ``basis`` references)."""
    uses: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per resident, the resources of it used (other than its Patient) by type: what moves from used to rejected
    when the SPEC 2 validators reject the resident (:func:`riskmodel.interchange.importing.checked_import`)."""


@dataclass(frozen=True)
class BundleRecords:
    """A Bundle mapped and assembled, without pandas: residents and events (SPEC 2 columns, values as read), the
    results used, the rejected resources and the counts per resource type."""

    residents: list[dict[str, Any]]
    events: list[dict[str, Any]]
    observations: list[Result]
    rejected: list[Rejection]
    counts: dict[str, dict[str, int]]
    uses: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per resident, its resources used (other than its Patient) by type."""


def _refuse_constant(name: str) -> float:
    raise ValueError(name)


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)
"""One decoder for every line (``json.loads`` with an argument builds a new one a call: 5 % of a bulk import)."""


class Subject(NamedTuple):
    """A resource used, other than a Patient: where it is, and the resident (Patient id) its subject names."""

    place: int
    kind: str
    ident: str | None
    source: str
    line: int
    resident_id: str
    links: tuple[Link, ...] = ()
    """The references the assembly follows (:mod:`riskmodel.interchange.fhir_links`)."""
    records: tuple[object, ...] = ()
    """The records it gave, kept where it has links (dropped with it when a link rejects it)."""


def decoded(line_text: str, *, plain: bool = False) -> Any:
    """A line's JSON value, ``None`` where it is not JSON (NaN and Infinity are not, RFC 8259).

    ``plain``: the line has no run of 19 digits, so orjson (2-3 times faster) reads it as the standard library
    does: the same values, types and key order. What orjson refuses (NaN, a lone surrogate, trailing data ...)
    the standard library decides; an integer past 64 bits, which orjson would read as a float, never reaches it.
    """
    if plain:
        try:
            return orjson.loads(line_text)
        except orjson.JSONDecodeError:
            pass
    try:
        return _DECODER.decode(line_text)
    except ValueError:
        return None


@dataclass
class MappedResources:
    """What the mapping of an input gives, before assembly: per type its records, the rejected resources, and
    per resource type the counts in = used + skipped + rejected."""

    as_of: dt.date
    settings: FhirSettings = field(default_factory=FhirSettings)
    patients: list[dict[str, Any]] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)
    medicines: list[Medicine] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)
    referrals: list[Referral] = field(default_factory=list)
    load_rejections: list[Rejection] = field(default_factory=list)
    rejections: list[tuple[int, int, Rejection]] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    subjects: list[Subject] = field(default_factory=list)
    """Each resource used other than a Patient, checked against the Patients once the whole input is read (a
    Patient may come after its resources): :meth:`drop_unknown_subjects`."""
    seen: int = 0
    """Resources read so far: a rejected resource is listed by its type, then by its place in the input."""
    dropped: set[int] = field(default_factory=set)
    """The places of the resources used, then rejected once the whole input is read."""
    observation_ids: set[str] = field(default_factory=set)
    """The ids of the Observations mapped: a repeated one is refused (its results would be merged into the
    first's event, averaged where they differ)."""
    owners: Owners = field(default_factory=dict)
    """Whose each Encounter, Condition and ServiceRequest read is (used or not): a link to another Patient's is
    rejected (:meth:`check_links`). A bulk bucket starts with those of other buckets its links name."""
    halves: dict[int, Result] = field(default_factory=dict)
    """Each standalone systolic or diastolic Observation's result by its place: paired by :meth:`pair_readings`."""

    def _count(self, kind: str, what: str) -> None:
        entry = self.counts.get(kind)
        if entry is None:
            entry = self.counts[kind] = {"in": 0, "used": 0, "skipped": 0, "rejected": 0}
        entry["in"] += 1
        entry[what] += 1

    def add_line(self, line_text: str | None, source: str, line: int, *, check: bool, plain: bool = False) -> None:
        """One NDJSON line (or Bundle entry as text); a blank line is no resource, a file's byte-order mark is not
        part of its first line (read directly or through a bulk bucket alike). ``plain``: see :func:`decoded`."""
        if line_text is None or not line_text.strip():
            return
        if line == 1:
            line_text = line_text.removeprefix("\ufeff")
        self.add(decoded(line_text, plain=plain), source, line, check=check)

    def add_document(self, document: dict[str, Any], source: str) -> None:
        """A Bundle (each entry's resource; checked by the FHIR model), or a lone resource."""
        if document.get("resourceType") != "Bundle":
            self.add(document, source, 1, check=True)
            return
        entries = document.get("entry")
        if entries is not None and not isinstance(entries, list):  # a number would be a traceback, a text its letters
            self.load_rejections.append(Rejection("Bundle", text(document.get("id")), "Bundle.entry", "not a list",
                                                  source, 1))  # fmt: skip
            return
        for k, entry in enumerate(entries or [], start=1):
            self.add(entry.get("resource") if isinstance(entry, dict) else entry, source, k, check=True)

    def add(self, resource: Any, source: str, line: int, *, check: bool) -> None:
        """One resource: checked by the FHIR R4 model where asked, then mapped by its type's rule."""
        self.seen += 1
        if not isinstance(resource, dict):
            self.load_rejections.append(Rejection(None, None, "$", "not a JSON object", source, line))
            return
        kind, ident = text(resource.get("resourceType")), text(resource.get("id"))
        if check:
            problem = fhir_problem(resource)
            if problem is not None:
                self._count(kind or "(none)", "rejected")
                self.load_rejections.append(Rejection(kind, ident, problem[0], problem[1], source, line))
                return
        name = kind or "(none)"
        rule = _RULES.get(name)
        if rule is None:
            self._count(name, "skipped")
            return
        if name in TARGETS and ident is not None and (owner := subject_of(resource)) is not None:
            self.owners.setdefault((name, ident), set()).add(owner)
        results_before = len(self.results)
        try:
            resident = rule(self, resource)
        except Skipped:
            self._count(name, "skipped")
        except Refused as refused:
            self._count(name, "rejected")
            rejection = Rejection(kind, ident, refused.path, refused.reason, source, line)
            self.rejections.append((KIND_ORDER[name], self.seen, rejection))
        else:
            self._count(name, "used")
            if resident is None:  # a Patient
                self.patients[-1].update(_source=source, _line=line)
            else:
                self.subjects.append(self._subject(name, ident, source, line, resident, results_before))

    def _subject(self, kind: str, ident: str | None, source: str, line: int, resident: str, before: int) -> Subject:
        """The resource just used, with its links and records where it has links."""
        records: list[Any] = self.results[before:] if kind == "Observation" else []
        if kind in ("MedicationStatement", "MedicationRequest"):
            records = [self.medicines[-1]]
        elif kind == "Encounter":
            records = [self.visits[-1]]
        links = links_of(kind, records)
        if not links:
            return Subject(self.seen, kind, ident, source, line, resident)
        return Subject(self.seen, kind, ident, source, line, resident, links, tuple(records))

    def _reject(self, subject: Subject, path: str, reason: str) -> None:
        """A resource counted as used, rejected once the whole input is read."""
        self.counts[subject.kind]["used"] -= 1
        self.counts[subject.kind]["rejected"] += 1
        self.dropped.add(subject.place)
        rejection = Rejection(subject.kind, subject.ident, path, reason, subject.source, subject.line)
        self.rejections.append((KIND_ORDER[subject.kind], subject.place, rejection))

    def drop_unknown_subjects(self) -> None:
        """Reject every resource whose subject is no Patient of the input (missing from it, or itself rejected), and
        drop its records: what a resident's row or events would hold for nobody never vanishes without a row."""
        known = {row["resident_id"] for row in self.patients}
        for orphan in (s for s in self.subjects if s.resident_id not in known):
            self._reject(orphan, f"{orphan.kind}.subject", NO_PATIENT)
        self.subjects = [s for s in self.subjects if s.resident_id in known]
        self.results = [r for r in self.results if r.resident_id in known]
        self.diagnoses = [d for d in self.diagnoses if d.resident_id in known]
        self.medicines = [m for m in self.medicines if m.resident_id in known]
        self.visits = [v for v in self.visits if v.resident_id in known]
        self.referrals = [r for r in self.referrals if r.resident_id in known]

    def check_links(self) -> None:
        """Reject every resource whose link names another Patient's resource (SPEC 2.2: it never changes another
        resident), and settle each medicine's link (:func:`riskmodel.interchange.fhir_links.settled`)."""
        events = event_keys(self.visits, self.diagnoses)
        dropped: set[int] = set()
        medicines: dict[int, Medicine] = {}
        for subject in (s for s in self.subjects if s.links):
            problem = foreign(subject.resident_id, subject.links, self.owners)
            record = subject.records[0]
            if problem is None and isinstance(record, Medicine):
                outcome = settled(record, subject.links, events)
                if isinstance(outcome, Link):
                    problem = (outcome.path, no_event(outcome))
                else:
                    medicines[id(record)] = outcome
            if problem is not None:
                self._reject(subject, *problem)
                dropped.update(id(r) for r in subject.records)
        if dropped or medicines:
            self.results = [r for r in self.results if id(r) not in dropped]
            self.visits = [v for v in self.visits if id(v) not in dropped]
            self.medicines = [medicines.get(id(m), m) for m in self.medicines if id(m) not in dropped]

    def pair_readings(self) -> None:
        """Join each standalone systolic with its diastolic as one BP reading (one event), and reject a half that
        has none (:func:`riskmodel.interchange.fhir_links.bp_groups`); once the whole input is read and checked."""
        kept = {id(r) for r in self.results}
        halves = ((place, r) for place, r in self.halves.items() if place not in self.dropped and id(r) in kept)
        subjects = {s.place: s for s in self.subjects}
        joined: dict[int, Result] = {}
        dropped: set[int] = set()
        for group in bp_groups(halves):
            if paired(group):
                event = next((r.id for _, r in group if r.id is not None), None)
                joined.update((id(r), replace(r, event=event)) for _, r in group)
                continue
            for place, result in group:
                self._reject(subjects[place], "Observation.code", BP_HALF_ALONE[result.column])
                dropped.add(id(result))
        self.results = [joined.get(id(r), r) for r in self.results if id(r) not in dropped]

    def uses(self) -> dict[str, dict[str, int]]:
        """Per resident, the resources of it used (other than its Patient), by type."""
        uses: dict[str, dict[str, int]] = {}
        for subject in (s for s in self.subjects if s.place not in self.dropped):
            kinds = uses.setdefault(subject.resident_id, {})
            kinds[subject.kind] = kinds.get(subject.kind, 0) + 1
        return uses

    def rejected(self) -> list[Rejection]:
        """Every rejected resource: the load's (not JSON, refused by the FHIR model), then the mapping's by type."""
        return [*self.load_rejections, *(r for _, _, r in sorted(self.rejections, key=lambda t: t[:2]))]


def _observation(mapped: MappedResources, resource: dict[str, Any]) -> str:
    results = observation(resource)
    if not results:  # the mapping gives one at least (a BP panel both readings): a reason, never a traceback
        raise Refused("Observation.value[x]", "no value riskmodel reads")
    ident = text(resource.get("id"))
    if ident is not None:
        if ident in mapped.observation_ids:
            raise Refused("Observation.id", "repeated: another Observation of this input has this id")
        mapped.observation_ids.add(ident)
    mapped.results.extend(results)
    if bp_half(results):
        mapped.halves[mapped.seen] = results[0]
    return results[0].resident_id


def _patient(mapped: MappedResources, resource: dict[str, Any]) -> None:
    mapped.patients.append(patient(resource, as_of=mapped.as_of, settings=mapped.settings))


_Record = TypeVar("_Record", Diagnosis, Medicine, Visit, Referral)


def _kept(records: list[_Record], record: _Record) -> str:
    records.append(record)
    return record.resident_id


_RULES: dict[str, Callable[[MappedResources, dict[str, Any]], str | None]] = {
    "Patient": _patient,
    "Observation": _observation,
    "Condition": lambda m, r: _kept(m.diagnoses, condition(r)),
    "MedicationStatement": lambda m, r: _kept(m.medicines, medicine(r)),
    "MedicationRequest": lambda m, r: _kept(m.medicines, medicine(r)),
    "Encounter": lambda m, r: _kept(m.visits, encounter(r)),
    "ServiceRequest": lambda m, r: _kept(m.referrals, referral(r)),
}
"""Each type's rule: its records appended, the resident they are of returned (``None``: a Patient)."""


def assembled(mapped: MappedResources) -> BundleRecords:
    """The mapped resources put together as residents and events (a resource of no Patient of the input rejected)."""
    mapped.drop_unknown_subjects()
    mapped.check_links()
    mapped.pair_readings()
    residents, events = assemble_records(
        mapped.patients, mapped.results, mapped.diagnoses, mapped.medicines, mapped.visits, mapped.referrals
    )
    return BundleRecords(residents, events, mapped.results, mapped.rejected(), mapped.counts, mapped.uses())


def map_bundle(document: dict[str, Any], *, as_of: dt.date, settings: FhirSettings | None = None) -> BundleRecords:
    """A Bundle already parsed (e.g. a request body, SPEC 14.3): each resource checked by the FHIR R4 model and
    mapped by the rules every FHIR input goes through."""
    mapped = MappedResources(as_of=as_of, settings=settings or FhirSettings())
    mapped.add_document(document, "request")
    return assembled(mapped)


def as_import(records: BundleRecords) -> FhirImport:
    """The records as frames, the form the file import validates and writes."""
    residents = pd.DataFrame(records.residents) if records.residents else pd.DataFrame(columns=_RESIDENT_KEYS)
    return FhirImport(
        residents=residents,
        events=pd.DataFrame(records.events, columns=list(EVENT_COLUMN_NAMES)),
        rejected=rejected_frame(r.row() for r in records.rejected),
        counts=records.counts,
        observations=records.observations,
        uses=records.uses,
    )


def check_encoding(path: Path) -> None:
    """Stop on a file in UTF-16 or UTF-32 (FHIR JSON between systems is UTF-8): one line naming it and the fix."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:  # type: ignore[operator]
            refuse_wide(handle.read(4))
    except NotUtf8 as error:
        raise InputFileError(f"{path}: {error}; save it as UTF-8") from None
    except OSError as error:
        raise InputFileError(f"{path}: not a readable file ({type(error).__name__})") from error


def _ndjson(path: Path) -> Iterable[str]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:  # type: ignore[operator]
            yield from handle
    except UnicodeDecodeError:  # its message would show the bytes
        raise InputFileError(f"{path}: not UTF-8 text: {UTF8_REQUIRED}; save it as UTF-8") from None
    except OSError as error:
        raise InputFileError(f"{path}: not a readable NDJSON file ({type(error).__name__})") from error


def _bundle(path: Path) -> dict[str, Any]:
    try:
        document = _DECODER.decode(utf8_text(path.read_bytes()))
    except NotUtf8 as error:
        raise InputFileError(f"{path}: {error}; save it as UTF-8") from None
    except (OSError, json.JSONDecodeError) as error:
        raise InputFileError(f"{path}: not a readable JSON file ({type(error).__name__})") from error
    except ValueError as error:  # NaN, Infinity: not JSON (RFC 8259), as the NDJSON lines and the API say
        raise InputFileError(
            f"{path}: not JSON ({error} is not a JSON number); write it as null or leave it out"
        ) from error
    if not isinstance(document, dict):
        raise InputFileError(f"{path}: not a FHIR resource or Bundle (a JSON object is expected)")
    return document


def read_fhir(
    paths: Iterable[str | Path],
    *,
    as_of: dt.date,
    settings: FhirSettings | None = None,
    validate: str = "bundles",
    documents: Iterable[tuple[str, dict[str, Any]]] = (),
) -> FhirImport:
    """Read Bundles and bulk NDJSON into residents and events (SPEC 2), rejected rows and counts (SPEC 14.2).

    ``validate``: ``full`` checks every resource with the FHIR model; ``bundles`` only those of Bundles (bulk
    NDJSON is then checked by the mapping itself, for speed). ``documents``: Bundles already in memory as (source
    name, Bundle), read like Bundle files. NDJSON files are read first, then the documents, then Bundle files."""
    files = [Path(p) for p in paths]
    for path in files:
        if not path.exists():
            raise InputFileError(f"{path}: no such file")
        if not path.name.lower().endswith((*NDJSON_SUFFIXES, ".json")):
            raise InputFileError(f"{path}: choose .ndjson (bulk, one resource a line) or .json (a Bundle)")
        check_encoding(path)
    mapped = MappedResources(as_of=as_of, settings=settings or FhirSettings())
    bulk = [p for p in files if p.name.lower().endswith(NDJSON_SUFFIXES)]
    for path in bulk:
        for k, line in enumerate(_ndjson(path), start=1):
            mapped.add_line(line, str(path), k, check=validate == "full")
    for source, document in documents:
        mapped.add_document(document, source)
    for path in files:
        if path not in bulk:
            mapped.add_document(_bundle(path), str(path))
    return as_import(assembled(mapped))
