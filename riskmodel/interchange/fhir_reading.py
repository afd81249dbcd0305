"""Reading FHIR R4 resources into DuckDB: bulk NDJSON (one resource a line) and Bundles (JSON), each resource
validated with the ``fhir.resources`` R4 models where asked (SPEC 14.2).

Every line becomes a row of the relation ``resources`` (source, line, type, id, JSON); a line that is not a JSON
object, or a resource the FHIR model refuses, is a rejected row with its path and reason instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from riskmodel.exceptions import InputFileError

REJECTED_COLUMNS = ("resource_type", "resource_id", "path", "reason", "source", "line")
VALIDATED_TYPES = (
    "Patient",
    "Observation",
    "Condition",
    "MedicationStatement",
    "MedicationRequest",
    "Encounter",
    "ServiceRequest",
)


def rejected_frame(rows: Iterable[dict[str, Any]] = ()) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=list(REJECTED_COLUMNS))
    return frame.astype({"line": "int64"}) if len(frame) else frame


def fhir_problem(resource: dict[str, Any]) -> tuple[str, str] | None:
    """The first problem the FHIR R4 model (``fhir.resources.R4B``, FHIR 4.3, R4-compatible) finds, as (path, reason),
    or ``None`` for a valid resource. Types riskmodel does not read are not checked."""
    kind = resource.get("resourceType")
    if kind not in VALIDATED_TYPES:
        return None
    from fhir.resources.R4B import get_fhir_model_class
    from pydantic import ValidationError

    try:
        get_fhir_model_class(kind).model_validate(resource)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()) if not str(part).startswith("function-"))
        return f"{kind}.{where}" if where else kind, str(first.get("msg", "invalid"))[:200]
    except (TypeError, ValueError) as error:  # a model that refuses a value outright
        return kind, str(error).splitlines()[0][:200]
    return None


def _ndjson_lines(connection: duckdb.DuckDBPyConnection, path: Path) -> None:
    connection.execute(
        """
        INSERT INTO lines
        SELECT ?, row_number() OVER () AS line, text
          FROM read_csv(?, columns = {'text': 'VARCHAR'}, header = false, delim = '\x01', quote = '', escape = '',
                        auto_detect = false, strict_mode = false)
        """,
        [str(path), str(path)],
    )


def _bundle_lines(path: Path) -> list[tuple[str, int, str]]:
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputFileError(f"{path}: not a readable JSON file ({type(error).__name__})") from error
    if not isinstance(document, dict):
        raise InputFileError(f"{path}: not a FHIR resource or Bundle (a JSON object is expected)")
    return document_lines(document, str(path))


def document_lines(document: dict[str, Any], source: str) -> list[tuple[str, int, str]]:
    """A Bundle already parsed (e.g. a request body) as lines: one per entry's resource (a lone resource: one)."""
    if document.get("resourceType") != "Bundle":
        return [(source, 1, json.dumps(document, ensure_ascii=False))]
    entries = document.get("entry") or []
    return [
        (source, k, json.dumps(entry.get("resource") if isinstance(entry, dict) else entry, ensure_ascii=False))
        for k, entry in enumerate(entries, start=1)
    ]


def load_resources(
    connection: duckdb.DuckDBPyConnection,
    paths: Iterable[Path],
    *,
    validate: str,
    documents: Iterable[tuple[str, dict[str, Any]]] = (),
) -> pd.DataFrame:
    """Fill the relation ``resources`` (source, line, type, id, j) from the files and from Bundles already in
    memory (``documents``: (source name, Bundle), validated like a Bundle file); returns the rejected rows.

    ``validate``: ``full`` checks every resource with the FHIR model; ``bundles`` only those of Bundles (bulk NDJSON
    is then checked by the mapping itself, for speed).
    """
    read_lines(connection, paths, documents=documents)
    return parse_lines(connection, validate=validate)


def read_lines(
    connection: duckdb.DuckDBPyConnection,
    paths: Iterable[Path],
    *,
    documents: Iterable[tuple[str, dict[str, Any]]] = (),
) -> None:
    """Fill the relation ``lines`` (source, line, text): one row per NDJSON line or Bundle entry."""
    connection.execute("CREATE OR REPLACE TEMP TABLE lines (source VARCHAR, line BIGINT, text VARCHAR)")
    bundled: list[tuple[str, int, str]] = [line for source, doc in documents for line in document_lines(doc, source)]
    for path in paths:
        if not path.exists():
            raise InputFileError(f"{path}: no such file")
        name = path.name.lower()
        if name.endswith((".ndjson", ".jsonl", ".ndjson.gz", ".jsonl.gz")):
            _ndjson_lines(connection, path)
        elif name.endswith(".json"):
            bundled.extend(_bundle_lines(path))
        else:
            raise InputFileError(f"{path}: choose .ndjson (bulk, one resource a line) or .json (a Bundle)")
    if bundled:
        frame = pd.DataFrame(bundled, columns=["source", "line", "text"])
        connection.register("bundled", frame)
        connection.execute("INSERT INTO lines SELECT source, line, text FROM bundled")
        connection.unregister("bundled")


def parse_lines(connection: duckdb.DuckDBPyConnection, *, validate: str) -> pd.DataFrame:
    """The relation ``resources`` from ``lines`` (see :func:`load_resources`); returns the rejected rows."""
    connection.execute(
        """
        CREATE OR REPLACE TEMP TABLE parsed AS
        SELECT source, line, CASE WHEN json_valid(text) THEN json_type(text::JSON) = 'OBJECT' ELSE FALSE END AS ok,
               text
          FROM lines WHERE text IS NOT NULL AND trim(text) <> ''
        """
    )
    rejected = connection.sql(
        "SELECT NULL AS resource_type, NULL AS resource_id, '$' AS path, 'not a JSON object' AS reason, source, line "
        "FROM parsed WHERE NOT ok"
    ).df()
    connection.execute(
        """
        CREATE OR REPLACE TEMP TABLE resources AS
        SELECT source, line, j->>'resourceType' AS type, j->>'id' AS id, j, TRUE AS valid
          FROM (SELECT source, line, text::JSON AS j FROM parsed WHERE ok)
        """
    )
    checked = (
        "TRUE"
        if validate == "full"
        else "source IN (SELECT DISTINCT source FROM lines WHERE NOT lower(source) "
        "LIKE '%.ndjson' AND NOT lower(source) LIKE '%.jsonl' AND NOT lower(source) LIKE '%.gz')"
    )
    problems = []
    cursor = connection.execute(f"SELECT source, line, type, id, j FROM resources WHERE {checked}")
    while batch := cursor.fetchmany(10_000):
        for source, line, kind, ident, text in batch:
            problem = fhir_problem(json.loads(text))
            if problem is not None:
                problems.append(
                    {
                        "resource_type": kind,
                        "resource_id": ident,
                        "path": problem[0],
                        "reason": problem[1],
                        "source": source,
                        "line": line,
                    }
                )
    if problems:
        bad = rejected_frame(problems)
        connection.register("bad_resources", bad[["source", "line"]])
        connection.execute(
            "UPDATE resources SET valid = FALSE FROM bad_resources b "
            "WHERE resources.source = b.source AND resources.line = b.line"
        )
        connection.unregister("bad_resources")
        rejected = pd.concat([rejected, bad], ignore_index=True)
    return rejected
