"""Who to call (SPEC 15): a team's contacts file, loaded into the store and shown only on its own list.

A contacts file (CSV or Parquet) has ``resident_id`` and any of ``name``, ``phone``, ``address`` (and may
name ``team_id``; otherwise the team is the resident's in the latest published batch). Contacts never reach
a batch output, an indicator, monitoring, MLflow or a log: errors name the row and the column, never a value.
They are deleted ``contacts.retention_days`` after the resident's removal (moved, died, transferred).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from riskmodel.config import RiskConfig
from riskmodel.exceptions import InputFileError
from riskmodel.records.schema import MAX_IDENTIFIER_LENGTH
from riskmodel.store.batches import ResultStore
from riskmodel.worklist.outcomes import REMOVALS

REQUIRED = "resident_id"
FIELD_LENGTHS = {"name": 128, "phone": 64, "address": 256}
"""The contact fields and their longest accepted length (characters)."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class ContactsLoaded:
    """What loading a contacts file did (counts and row numbers only: no value)."""

    rows_read: int = 0
    stored: int = 0
    rejected: list[tuple[int, str, str]] = field(default_factory=list)
    """(row number, column, reason) of each row refused."""
    not_in_batch: int = 0
    """Rows whose resident is in no team of the latest published batch (not stored)."""
    pruned: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "contacts_read": self.rows_read,
            "contacts_stored": self.stored,
            "contacts_rejected": len(self.rejected),
            "contacts_not_in_batch": self.not_in_batch,
            "contacts_pruned": self.pruned,
        }


def read_contacts(path: str | Path) -> tuple[list[dict[str, Any]], list[tuple[int, str, str]], int]:
    """The valid rows of a contacts file, the rejected rows (row number, column, reason), and the rows read.

    Raises :class:`InputFileError` for a missing or unreadable file, a wrong extension or no ``resident_id``.
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        elif suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            raise InputFileError(f"{path}: a contacts file is .csv or .parquet")
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{path}: not UTF-8 text; save the contacts file as UTF-8") from exc
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        if isinstance(exc, InputFileError):
            raise
        raise InputFileError(f"{path}: cannot read the contacts file ({exc.__class__.__name__})") from exc
    if REQUIRED not in frame.columns:
        raise InputFileError(
            f"{path}: the contacts file needs a resident_id column (found: {', '.join(map(str, frame.columns))})"
        )
    names = [name for name in ("team_id", *FIELD_LENGTHS) if name in frame.columns]
    rows: list[dict[str, Any]] = []
    rejected: list[tuple[int, str, str]] = []
    records = frame[[REQUIRED, *names]].astype(object).where(frame[[REQUIRED, *names]].notna(), None)
    for number, values in enumerate(records.itertuples(index=False, name=None), start=1):
        row, problem = _row(dict(zip([REQUIRED, *names], values, strict=True)))
        if problem is not None:
            rejected.append((number, *problem))
        else:
            rows.append(row)
    return rows, rejected, len(frame)


def _row(values: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, str] | None]:
    row: dict[str, Any] = {}
    for name, value in values.items():
        text = None if value is None else str(value).strip()
        if text == "":
            text = None
        limit = FIELD_LENGTHS.get(name, MAX_IDENTIFIER_LENGTH)
        if text is not None and _CONTROL.search(text):
            return row, (name, "contains a control character")
        if text is not None and len(text) > limit:
            return row, (name, f"longer than {limit} characters")
        row[name] = text
    if row.get(REQUIRED) is None:
        return row, (REQUIRED, "missing")
    return row, None


def load_contacts(store: ResultStore, path: str | Path, config: RiskConfig, *, today: dt.date) -> ContactsLoaded:
    """Read a contacts file and store its rows under each resident's team (the file's ``team_id``, else the
    latest published batch's); then delete the contacts whose retention ran out by ``today``."""
    rows, rejected, read = read_contacts(path)
    result = ContactsLoaded(rows_read=read, rejected=rejected)
    teams = store.team_of_residents([row[REQUIRED] for row in rows if not row.get("team_id")])
    keep = []
    for row in rows:
        team = row.get("team_id") or teams.get(row[REQUIRED])
        if team is None:
            result.not_in_batch += 1
            continue
        keep.append({**row, "team_id": team})
    result.stored = store.contacts.replace(keep)
    result.pruned = prune_contacts(store, config, today=today)
    return result


def prune_contacts(store: ResultStore, config: RiskConfig, *, today: dt.date) -> int:
    """Delete the contacts of residents removed more than ``contacts.retention_days`` before ``today``; returns
    how many."""
    return store.contacts.prune(
        today=today,
        retention_days=config.contacts.retention_days,
        removals=REMOVALS,
        reinstate="reinstate",
    )


def attach_contacts(store: ResultStore, team_id: str, entries: list[dict[str, Any]]) -> None:
    """Add ``contact`` ({name, phone, address}, or None when none is held) to each entry of the team's page."""
    found = store.contacts.for_residents(team_id, [entry["resident_id"] for entry in entries])
    for entry in entries:
        entry["contact"] = found.get(entry["resident_id"])


__all__ = ["ContactsLoaded", "attach_contacts", "load_contacts", "prune_contacts", "read_contacts"]
