"""FHIR R4 in (SPEC 14.2): Patients, Observations, Conditions, medications, Encounters and referrals become the
residents and events of SPEC 2, with rejected rows (resource type, id, path, reason) and counts per type.

Each resource is mapped by the rules of :mod:`riskmodel.interchange.fhir_mapping` and the records put together by
:mod:`riskmodel.interchange.fhir_assembly`, in plain Python: the same code maps a Bundle file, a bulk bucket and a
request's Bundle (:func:`map_bundle`, without pandas). The file import's result is then validated by the SPEC 2
validators like any other input (:mod:`riskmodel.interchange.importing`).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from riskmodel.exceptions import InputFileError
from riskmodel.interchange.fhir_assembly import assemble_records
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
    text,
)
from riskmodel.interchange.fhir_reading import rejected_frame
from riskmodel.interchange.fhir_records import Diagnosis, Medicine, Referral, Rejection, Result, Visit
from riskmodel.interchange.fhir_validation import fhir_problem
from riskmodel.interchange.settings import FhirSettings
from riskmodel.records.schema import EVENT_COLUMN_NAMES

NDJSON_SUFFIXES = (".ndjson", ".jsonl", ".ndjson.gz", ".jsonl.gz")
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


@dataclass(frozen=True)
class BundleRecords:
    """A Bundle mapped and assembled, without pandas: residents and events (SPEC 2 columns, values as read), the
    results used, the rejected resources and the counts per resource type."""

    residents: list[dict[str, Any]]
    events: list[dict[str, Any]]
    observations: list[Result]
    rejected: list[Rejection]
    counts: dict[str, dict[str, int]]


def _refuse_constant(name: str) -> float:
    raise ValueError(name)


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)
"""One decoder for every line (``json.loads`` with an argument builds a new one a call: 5 % of a bulk import)."""


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
    observation_ids: set[str] = field(default_factory=set)
    """The ids of the Observations mapped: a repeated one is refused (its results would be merged into the
    first's event, averaged where they differ)."""

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
        if not isinstance(resource, dict):
            self.load_rejections.append(Rejection(None, None, "$", "not a JSON object", source, line))
            return
        kind = text(resource.get("resourceType"))
        if check:
            problem = fhir_problem(resource)
            if problem is not None:
                self._count(kind or "(none)", "rejected")
                ident = text(resource.get("id"))
                self.load_rejections.append(Rejection(kind, ident, problem[0], problem[1], source, line))
                return
        name = kind or "(none)"
        rule = _RULES.get(name)
        if rule is None:
            self._count(name, "skipped")
            return
        try:
            rule(self, resource)
        except Skipped:
            self._count(name, "skipped")
        except Refused as refused:
            self._count(name, "rejected")
            rejection = Rejection(kind, text(resource.get("id")), refused.path, refused.reason, source, line)
            self.rejections.append((KIND_ORDER[name], len(self.rejections), rejection))
        else:
            self._count(name, "used")
            if name == "Patient":
                self.patients[-1].update(_source=source, _line=line)

    def rejected(self) -> list[Rejection]:
        """Every rejected resource: the load's (not JSON, refused by the FHIR model), then the mapping's by type."""
        return [*self.load_rejections, *(r for _, _, r in sorted(self.rejections, key=lambda t: t[:2]))]


def _observation(mapped: MappedResources, resource: dict[str, Any]) -> list[Result]:
    results = observation(resource)
    ident = text(resource.get("id"))
    if ident is not None and results:
        if ident in mapped.observation_ids:
            raise Refused("Observation.id", "repeated: another Observation of this input has this id")
        mapped.observation_ids.add(ident)
    return results


_RULES: dict[str, Callable[[MappedResources, dict[str, Any]], None]] = {
    "Patient": lambda m, r: m.patients.append(patient(r, as_of=m.as_of, settings=m.settings)),
    "Observation": lambda m, r: m.results.extend(_observation(m, r)),
    "Condition": lambda m, r: m.diagnoses.append(condition(r)),
    "MedicationStatement": lambda m, r: m.medicines.append(medicine(r)),
    "MedicationRequest": lambda m, r: m.medicines.append(medicine(r)),
    "Encounter": lambda m, r: m.visits.append(encounter(r)),
    "ServiceRequest": lambda m, r: m.referrals.append(referral(r)),
}


def assembled(mapped: MappedResources) -> BundleRecords:
    """The mapped resources put together as residents and events."""
    residents, events = assemble_records(
        mapped.patients, mapped.results, mapped.diagnoses, mapped.medicines, mapped.visits, mapped.referrals
    )
    return BundleRecords(residents, events, mapped.results, mapped.rejected(), mapped.counts)


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
    )


def _ndjson(path: Path) -> Iterable[str]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:  # type: ignore[operator]
            yield from handle
    except (OSError, UnicodeDecodeError) as error:
        raise InputFileError(f"{path}: not a readable NDJSON file ({type(error).__name__})") from error


def _bundle(path: Path) -> dict[str, Any]:
    try:
        document = _DECODER.decode(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
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
