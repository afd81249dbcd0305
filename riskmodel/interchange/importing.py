"""An import written out: residents and events (validated by SPEC 2's validators) and the rejected rows beside them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from riskmodel.interchange.fhir_in import BundleRecords, FhirImport
from riskmodel.interchange.fhir_reading import rejected_frame
from riskmodel.records.events import validate_events
from riskmodel.records.schema import COLUMN_NAMES, EVENT_COLUMN_NAMES
from riskmodel.records.validation import validate_table
from riskmodel.synth.population import events_path


@dataclass
class ImportSummary:
    residents: int
    events: int
    rejected: int
    counts: dict[str, dict[str, int]]


def text_table(frame: pd.DataFrame, names: tuple[str, ...]) -> pa.Table:
    """Mapped residents or events as the text the SPEC 2 validators read, one column per schema name."""
    columns = {}
    for name in names:
        if name not in frame:
            columns[name] = pa.nulls(len(frame), pa.string())
            continue
        values = frame[name]
        text = values.astype(str).astype(object).where(values.notna(), None)  # each value as str() writes it
        columns[name] = pa.array(text.to_numpy(dtype=object), pa.string())
    return pa.table(columns)


def text_rows(rows: Sequence[dict[str, Any]], names: tuple[str, ...]) -> pa.Table:
    """:func:`text_table` of rows as the FHIR mapping gives them (values text, float or ``None``), without a
    frame in between: the same text (a float as ``str`` writes it, NaN no value)."""
    return pa.table({name: pa.array([_text(row.get(name)) for row in rows], pa.string()) for name in names})


def _text(value: Any) -> str | None:
    if value is None or value != value:  # NaN
        return None
    return value if type(value) is str else str(value)


def record_rejections(residents: pd.DataFrame, events: pd.DataFrame) -> list[pd.DataFrame]:
    """Residents and events the SPEC 2 validators rejected, as rejected resources (type, id, path, reason)."""
    rejected = []
    for bad, kinds, ids in (
        (residents, pd.Series("Patient", index=residents.index), "resident_id"),
        (events, events["kind"].map(_EVENT_RESOURCE).fillna("Observation") if len(events) else None, "event_id"),
    ):
        if len(bad):
            rejected.append(
                pd.DataFrame(
                    {
                        "resource_type": kinds,
                        "resource_id": bad[ids],
                        "path": bad["errors"].str.split(":").str[0],
                        "reason": bad["errors"],
                        "source": None,
                        "line": bad["row_number"],
                    }
                )
            )
    return rejected


def rejected_path(out: Path, source: str) -> Path:
    return out.with_name(f"{out.stem}.{source}.rejected.parquet")


def write_import(result: FhirImport, out: Path, *, as_of: dt.date, source: str = "fhir") -> ImportSummary:
    """Validate and write ``out`` (residents), ``<stem>.events.parquet`` and ``<stem>.<source>.rejected.parquet``."""
    residents, events, all_rejected = checked_import(result, as_of=as_of)
    residents = residents.reset_index(drop=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(residents, preserve_index=False), out)
    pq.write_table(events, events_path(out))
    pq.write_table(rejected_table(all_rejected), rejected_path(out, source))
    return ImportSummary(len(residents), events.num_rows, len(all_rejected), result.counts)


def rejected_table(rejected: pd.DataFrame) -> pa.Table:
    """Rejected rows as written (every column as text)."""
    return pa.Table.from_pandas(rejected.astype({"line": "float64"}).astype("string"), preserve_index=False)


def checked_records(records: BundleRecords, *, as_of: dt.date) -> tuple[pd.DataFrame, pa.Table, pd.DataFrame]:
    """:func:`checked_import` of a FHIR input's records (a bulk bucket's) as they are, without frames in between."""
    residents, events, all_rejected, refused = _checked(
        text_rows(records.residents, COLUMN_NAMES),
        text_rows(records.events, EVENT_COLUMN_NAMES),
        rejected_frame(r.row() for r in records.rejected),
        as_of=as_of,
    )
    _count_residents(records, refused, residents["resident_id"])
    return residents, events, all_rejected


def _checked(
    residents: pa.Table, events: pa.Table, rejected: pd.DataFrame, *, as_of: dt.date
) -> tuple[pd.DataFrame, pa.Table, pd.DataFrame, pd.Series]:
    """Residents, events, every rejected row, and the ids of the residents the validators rejected."""
    checked = validate_table(residents)
    known = pa.array(checked.residents["resident_id"].astype(str).to_numpy(dtype=object), pa.string())
    validated = validate_events(
        events,
        as_of=as_of,
        known_residents=lambda ids: pc.is_in(ids, value_set=known).to_numpy(zero_copy_only=False),
    )
    every = [r for r in (rejected, *record_rejections(checked.rejected, validated.rejected)) if len(r)]
    all_rejected = pd.concat(every, ignore_index=True) if every else rejected
    return checked.residents, validated.events, all_rejected, checked.rejected["resident_id"]


def checked_import(result: FhirImport, *, as_of: dt.date) -> tuple[pd.DataFrame, pa.Table, pd.DataFrame]:
    """The import validated by SPEC 2's validators: residents (the validator's row numbers as index), events,
    and every rejected row (the mapping's and the validators')."""
    residents, events, all_rejected, refused = _checked(
        text_table(result.residents, COLUMN_NAMES),
        text_table(result.events, EVENT_COLUMN_NAMES),
        result.rejected,
        as_of=as_of,
    )
    origins = getattr(result, "origins", None)  # the forms: where each record came from (file, row number)
    found = all_rejected["resource_id"].map(origins or {})
    known = found.notna() & all_rejected["source"].isna()
    if known.any():
        all_rejected = all_rejected.astype({"line": "object"})
        all_rejected.loc[known, "source"] = found[known].str[0]
        all_rejected.loc[known, "line"] = found[known].str[1]
        _count_rows(result, all_rejected[known])
    _count_residents(result, refused, residents["resident_id"])
    return residents, events, all_rejected


def _count_residents(result: FhirImport | BundleRecords, rejected: pd.Series, kept: pd.Series) -> None:
    """A Patient the SPEC 2 validators reject counts as rejected, not used, and so does each resource of it (none of
    them is in the output): in = used + skipped + rejected stays true of what was written."""
    uses = getattr(result, "uses", None)
    if not uses or not len(rejected):
        return
    moved: dict[str, int] = {"Patient": len(rejected)}
    for resident in set(rejected.dropna().astype(str)) - set(kept.dropna().astype(str)):
        for kind, n in uses.get(resident, {}).items():
            moved[kind] = moved.get(kind, 0) + n
    for kind, n in moved.items():
        entry = result.counts.get(kind)
        if entry is not None:
            n = min(n, entry["used"])
            entry["used"] -= n
            entry["rejected"] += n


def _count_rows(result: FhirImport, rejected: pd.DataFrame) -> None:
    """A form row that the SPEC 2 validators reject counts as rejected, not used (rows in = used + rejected)."""
    forms = {f["file"]: f["form"] for f in getattr(result, "files", [])}
    for (source, _), _rows in rejected.groupby(["source", "line"]):
        entry = result.counts.get(forms.get(source, ""))
        if entry and entry["used"] > 0:
            entry["used"] -= 1
            entry["rejected"] += 1


_EVENT_RESOURCE = {"followup": "Encounter", "diagnosis": "Condition", "referral": "ServiceRequest"}
