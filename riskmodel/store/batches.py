"""The result store (SPEC section 7, Store): scored residents per batch, in SQLite or PostgreSQL.

A batch is written under status ``writing`` and flipped to ``complete`` in one transaction at the end;
readers only ever see the latest complete batch, so a run killed midway leaves the previous batch served.
Incomplete batches left by killed runs are removed when the next batch starts. Table columns derive from
the record schema and the batch output columns.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from riskmodel.exceptions import StoreError
from riskmodel.records.history import STATE_DATE_COLUMNS, STATE_NUMBER_COLUMNS
from riskmodel.records.schema import NO_GRID_SUFFIX, RESIDENT_COLUMNS
from riskmodel.records.writing import owner_only
from riskmodel.store.audit import AuditEntry, AuditLog
from riskmodel.store.contact_book import ContactBook
from riskmodel.store.keys import KeyStore
from riskmodel.store.migrations import upgrade
from riskmodel.store.outcome_log import OutcomeLog, erase_notes
from riskmodel.store.tables import (
    EVENT_STORE_COLUMNS,
    PROBABILITY_COLUMNS,
    STATE_PREFIX,
    STORED_COLUMNS,
    batch_events,
    batches,
    contacts,
    indicators,
    monitoring,
    outcomes,
    scored_residents,
)
from riskmodel.vectorised import MISSING

logger = logging.getLogger(__name__)


TEAM_CACHE_SIZE = 4
T = TypeVar("T")
"""Teams' residents kept in memory per store (a complete batch is immutable; keyed by batch id)."""


_OPENING = threading.Lock()
"""Held while a store is opened (engine created, migrations run)."""


class ResultStore:
    """Scored batches in a relational database.

    Parameters
    ----------
    url
        SQLAlchemy URL: ``sqlite:///riskmodel.db`` (default) or ``postgresql+psycopg://user@host/db``.
    keep_batches
        Complete batches kept; older ones are deleted when a new batch completes.
    """

    def __init__(self, url: str, *, keep_batches: int = 3) -> None:
        self.url = url
        self.keep_batches = keep_batches
        self._engine: Engine | None = None
        self._caches = threading.Lock()  # the in-memory caches are read and changed by request and warmer threads

    @property
    def engine(self) -> Engine:
        if self._engine is not None:
            return self._engine
        with _OPENING:  # concurrent first requests must not migrate one new store twice at once
            return self._open()

    def _open(self) -> Engine:
        if self._engine is None:
            url = self.url.replace("postgresql://", "postgresql+psycopg://", 1)
            try:
                _create_sqlite_file(url)
                engine = sa.create_engine(url, pool_pre_ping=True)
                if engine.dialect.name == "sqlite":
                    sa.event.listen(engine, "connect", _sqlite_pragmas)
                upgrade(engine)
                self._engine = engine  # published only once migrated: other threads read it without the lock
            except ModuleNotFoundError as exc:
                raise StoreError(
                    f"the store {_safe(url)} needs its database driver: pip install 'riskmodel[postgres]'"
                ) from exc
            except SQLAlchemyError as exc:
                raise StoreError(f"cannot open the result store {_safe(url)}: {exc.__class__.__name__}: {exc}") from exc
        return self._engine  # type: ignore[return-value]

    # ---------------------------------------------------------------------------------------- writing

    def begin_batch(self, *, as_of: dt.date, model_version: str, source: str) -> str:
        """Start a batch under status ``writing``; remove batches that killed runs left incomplete."""
        batch_id = uuid.uuid4().hex
        with self.engine.begin() as connection:
            stale = [
                row.batch_id
                for row in connection.execute(sa.select(batches.c.batch_id).where(batches.c.status == "writing"))
            ]
            for old in stale:
                _delete_batch(connection, old)
            connection.execute(
                batches.insert().values(
                    batch_id=batch_id,
                    status="writing",
                    as_of=as_of,
                    model_version=model_version,
                    source=source[-256:],
                    rows_scored=0,
                    rows_rejected=0,
                    created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
                )
            )
        logger.info("batch %s started (%d incomplete batches removed)", batch_id, len(stale))
        return batch_id

    def write_rows(self, batch_id: str, scored: pd.DataFrame) -> None:
        """Append scored residents (a frame with the schema and output columns) to a batch.

        Rows go through the driver's bulk path: ``COPY`` on PostgreSQL, ``executemany`` on SQLite.
        """
        if scored.empty:
            return
        names = ["batch_id", *STORED_COLUMNS]
        self._bulk_insert("scored_residents", names, _tuples(scored, batch_id, iso_dates=self._sqlite))

    @property
    def _sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def _bulk_insert(self, table: str, names: list[str], rows: list[tuple[Any, ...]]) -> None:
        """Rows through the driver's bulk path: ``COPY`` on PostgreSQL, ``executemany`` on SQLite."""
        if not rows:
            return
        with self.engine.begin() as connection:
            raw = connection.connection.driver_connection
            if raw is None:
                raise StoreError("the store connection has no driver connection")
            if self.engine.dialect.name == "postgresql":
                with (
                    raw.cursor() as cursor,
                    cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy,  # type: ignore[union-attr]
                ):
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in names)
                cursor = raw.cursor()  # type: ignore[union-attr]
                cursor.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", rows)
                cursor.close()

    def write_events(self, batch_id: str, events: pa.Table) -> None:
        """Append validated events (with their residents' ``team_id``) to a batch, for indicators."""
        names = ["batch_id", "team_id", *EVENT_STORE_COLUMNS]
        columns: list[list[Any]] = [[batch_id] * events.num_rows]
        for name in names[1:]:
            values = events.column(name)
            if pa.types.is_date(values.type) and self._sqlite:
                values = pc.cast(values, pa.string())
            columns.append(values.to_pylist())
        self._bulk_insert("batch_events", names, list(zip(*columns, strict=True)))

    def write_indicators(self, batch_id: str, rows: list[dict[str, Any]]) -> None:
        names = ["batch_id", "level", "unit_id", "disease", "indicator", "ref_date", "numerator", "denominator"]
        tuples = [
            (batch_id, *(str(r[n]) if n == "ref_date" and self._sqlite else r[n] for n in names[1:])) for r in rows
        ]
        self._bulk_insert("indicators", names, tuples)

    def write_monitoring(self, batch_id: str, report: dict[str, Any]) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                monitoring.insert().values(
                    batch_id=batch_id,
                    retrain_recommended=bool(report["retrain_recommended"]),
                    report=json.dumps(report, default=float),
                )
            )

    def monitoring_report(self, batch_id: str | None = None) -> tuple[str, dict[str, Any]] | None:
        """A batch's monitoring report (the latest published batch's by default), or None."""
        batch = batch_id or (self.latest_batch() or {}).get("batch_id")
        if batch is None:
            return None
        with self.engine.connect() as connection:
            row = connection.execute(sa.select(monitoring.c.report).where(monitoring.c.batch_id == batch)).first()
        return (batch, json.loads(row[0])) if row else None

    def stored_indicators(
        self, batch_id: str, *, level: str, unit_ids: list[str] | None, dates: list[dt.date]
    ) -> list[dict[str, Any]]:
        """Indicators stored with a batch, for the units (all when ``None``) and reference dates given."""
        query = sa.select(indicators).where(
            indicators.c.batch_id == batch_id, indicators.c.level == level, indicators.c.ref_date.in_(dates)
        )
        if unit_ids is not None:
            query = query.where(indicators.c.unit_id.in_(unit_ids))
        with self.engine.connect() as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

    def residents_of(self, level: str, units: list[str]) -> pd.DataFrame:
        """The latest batch's residents of the teams or grids given (all for ``county``), typed as records."""
        batch = self.latest_batch()
        if batch is None:
            raise StoreError("the result store holds no complete batch yet; run 'riskmodel score' first")
        query = sa.select(scored_residents).where(scored_residents.c.batch_id == batch["batch_id"])
        if level in ("team", "grid"):
            query = query.where(_unit_column(level).in_(units))
        with self.engine.connect() as connection:
            return _read_residents(connection, query)

    def units(self, level: str) -> list[str]:
        """The teams or grids of the latest batch."""
        if level == "team":
            return self.teams()
        batch = self.latest_batch()
        if batch is None or level != "grid":
            return []
        grid = _unit_column("grid")
        with self.engine.connect() as connection:
            query = sa.select(grid).where(scored_residents.c.batch_id == batch["batch_id"]).distinct().order_by(grid)
            return [row[0] for row in connection.execute(query)]

    def grids_within(self, team_ids: list[str]) -> list[str]:
        """The latest batch's grids all of whose residents belong to the given teams."""
        batch = self.latest_batch()
        if batch is None:
            return []
        column, grid = scored_residents.c, _unit_column("grid")
        query = (
            sa.select(grid, sa.func.count(), sa.func.sum(sa.case((column.team_id.in_(team_ids), 1), else_=0)))
            .where(column.batch_id == batch["batch_id"])
            .group_by(grid)
        )
        with self.engine.connect() as connection:
            return sorted(grid for grid, total, mine in connection.execute(query) if total == mine)

    def team_events(self, batch_id: str, team_ids: list[str] | None) -> pa.Table:
        """The batch's stored events of the given teams (all when ``None``), typed as validated events."""
        from riskmodel.records.events import EVENT_ARROW_SCHEMA

        query = sa.select(*[batch_events.c[name] for name in EVENT_STORE_COLUMNS]).where(
            batch_events.c.batch_id == batch_id
        )
        if team_ids is not None:
            query = query.where(batch_events.c.team_id.in_(team_ids))
        with self.engine.connect() as connection:
            rows = connection.execute(query).fetchall()
        values = list(zip(*rows, strict=True)) if rows else [()] * len(EVENT_STORE_COLUMNS)
        stored = dict(zip(EVENT_STORE_COLUMNS, values, strict=True))
        columns = {
            field.name: pa.array(stored.get(field.name, [None] * len(rows)), field.type) for field in EVENT_ARROW_SCHEMA
        }
        return pa.table(columns, schema=EVENT_ARROW_SCHEMA)

    def agreed_followups(self, batch_id: str, team_ids: list[str]) -> pd.DataFrame:
        """``resident_id`` and ``event_date`` (datetime64) of the batch's follow-up events of the residents these
        teams recorded ``agreed`` for: all the follow-through of outcomes reads (SPEC 15), without reading the
        teams' other events."""
        agreed = sa.select(outcomes.c.resident_id).where(
            outcomes.c.team_id.in_(team_ids), outcomes.c.outcome == "agreed"
        )
        query = sa.select(batch_events.c.resident_id, batch_events.c.event_date).where(
            batch_events.c.batch_id == batch_id,
            batch_events.c.team_id.in_(team_ids),
            batch_events.c.kind == "followup",
            batch_events.c.resident_id.in_(agreed),
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).fetchall()
        residents, dates = zip(*rows, strict=True) if rows else ((), ())
        return pd.DataFrame({"resident_id": pd.Series(residents, dtype="str"), "event_date": pd.to_datetime(dates)})

    def discard_batch(self, batch_id: str) -> None:
        """Remove a batch that is not to be published (a failed or refused run); the served one is untouched."""
        with self.engine.begin() as connection:
            status = connection.execute(sa.select(batches.c.status).where(batches.c.batch_id == batch_id)).scalar()
            if status == "writing":
                _delete_batch(connection, batch_id)

    def complete_batch(
        self, batch_id: str, *, rows_scored: int, rows_rejected: int, events_read: int = 0, events_rejected: int = 0
    ) -> None:
        """Make a batch visible to readers, and prune old complete batches."""
        with self.engine.begin() as connection:
            connection.execute(
                batches.update()
                .where(batches.c.batch_id == batch_id)
                .values(
                    status="complete",
                    rows_scored=rows_scored,
                    rows_rejected=rows_rejected,
                    events_read=events_read,
                    events_rejected=events_rejected,
                    completed_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
                )
            )
            complete = [
                row.batch_id
                for row in connection.execute(
                    sa.select(batches.c.batch_id)
                    .where(batches.c.status == "complete")
                    .order_by(batches.c.completed_at.desc())
                )
            ]
            for old in complete[self.keep_batches :]:
                _delete_batch(connection, old)
        logger.info("batch %s complete: %d scored, %d rejected", batch_id, rows_scored, rows_rejected)

    # ---------------------------------------------------------------------------------------- reading

    def latest_batch(self) -> dict[str, Any] | None:
        """The latest complete batch's row in ``batches``, or None."""
        with self.engine.connect() as connection:
            row = (
                connection.execute(
                    sa.select(batches)
                    .where(batches.c.status == "complete")
                    .order_by(batches.c.completed_at.desc())
                    .limit(1)
                )
                .mappings()
                .first()
            )
        return dict(row) if row else None

    def team_residents(self, team_id: str) -> tuple[pd.DataFrame, dict[str, Any]]:
        """The team's scored residents from the latest complete batch, typed as validated records.

        A complete batch never changes, so the last few teams read are kept in memory by batch id (a served
        list's next pages, and the next request for it, skip the read); callers must not modify the frame."""
        batch = self.latest_batch()
        if batch is None:
            raise StoreError("the result store holds no complete batch yet; run 'riskmodel score' first")
        key = (batch["batch_id"], team_id)
        cache = self.__dict__.setdefault("_team_cache", {})
        with self._caches:
            if key in cache:
                frame = cache[key] = cache.pop(key)  # most recently used last
                return frame, batch
        query = sa.select(scored_residents).where(
            scored_residents.c.batch_id == batch["batch_id"], scored_residents.c.team_id == team_id
        )
        with self.engine.connect() as connection:
            frame = _read_residents(connection, query)
        with self._caches:
            cache[key] = frame
            while len(cache) > TEAM_CACHE_SIZE:
                cache.pop(next(iter(cache)))
        return frame, batch

    def recent_teams(self) -> list[str]:
        """The teams whose rows this store object keeps, most recently read first (any batch)."""
        cache = self.__dict__.get("_team_cache", {})
        with self._caches:
            keys = list(cache)
        return list(dict.fromkeys(team for _, team in reversed(keys)))

    def derived(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """A value derived from a complete batch's rows (which never change), kept for the last few keys: the
        key must name everything the value depends on (the batch id first). Callers must not modify it."""
        cache = self.__dict__.setdefault("_derived_cache", {})
        with self._caches:
            if key in cache:
                value: T = cache.pop(key)
                cache[key] = value  # most recently used last
                return value
        value = compute()  # outside the lock: two threads may both compute a missing key (the last one kept)
        with self._caches:
            cache[key] = value
            while len(cache) > TEAM_CACHE_SIZE:
                cache.pop(next(iter(cache)))
        return value

    def resident_of_team(self, team_id: str, resident_id: str) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """One resident of a team from the latest complete batch, as a mapping (None when not on that team)."""
        batch = self.latest_batch()
        if batch is None:
            raise StoreError("the result store holds no complete batch yet; run 'riskmodel score' first")
        query = sa.select(scored_residents).where(
            scored_residents.c.batch_id == batch["batch_id"],
            scored_residents.c.team_id == team_id,
            scored_residents.c.resident_id == resident_id,
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        return (dict(row) if row is not None else None), batch

    @property
    def outcomes(self) -> OutcomeLog:
        """The append-only outcome log (SPEC 6)."""
        return OutcomeLog(self.engine)

    @property
    def contacts(self) -> ContactBook:
        """The teams' contacts (SPEC 15), apart from every batch."""
        return ContactBook(self.engine)

    def team_of_residents(self, resident_ids: list[str]) -> dict[str, str]:
        """Resident id -> team id in the latest complete batch, for the given residents (those found)."""
        batch = self.latest_batch()
        if batch is None:
            raise StoreError("the result store holds no complete batch yet; run 'riskmodel score' first")
        found: dict[str, str] = {}
        with self.engine.connect() as connection:
            for start in range(0, len(resident_ids), 500):
                query = sa.select(scored_residents.c.resident_id, scored_residents.c.team_id).where(
                    scored_residents.c.batch_id == batch["batch_id"],
                    scored_residents.c.resident_id.in_(resident_ids[start : start + 500]),
                )
                found.update({row.resident_id: row.team_id for row in connection.execute(query)})
        return found

    def audit(self, timezone: str) -> AuditLog:
        """The append-only audit log (SPEC 16); local times in ``timezone`` (``deployment.timezone``)."""
        return AuditLog(self.engine, timezone)

    @property
    def keys(self) -> KeyStore:
        """API keys issued per person (SPEC 16), digests only."""
        return KeyStore(self.engine)

    def erase_resident(self, team_id: str, resident_id: str, *, actor: str, timezone: str) -> dict[str, int]:
        """Erase a resident's free text on request (PIPL, SPEC 16), in one transaction with its audit row.

        Blanks the notes of the resident's outcomes and deletes their contact (SPEC 15); returns what was erased
        per kind. Another kind of personal text is erased by adding its statement here."""
        with self.engine.begin() as connection:
            erased = {"notes": erase_notes(connection, team_id, resident_id)}
            gone = connection.execute(
                contacts.delete().where(contacts.c.team_id == team_id, contacts.c.resident_id == resident_id)
            )
            erased["contacts"] = gone.rowcount or 0
            AuditLog(self.engine, timezone).record(
                AuditEntry(actor, "write", "erase", [team_id], 1),
                connection=connection,
            )
        logger.info("erased a resident's free text on request: %s", erased)
        return erased

    def teams(self) -> list[str]:
        batch = self.latest_batch()
        if batch is None:
            return []
        with self.engine.connect() as connection:
            return [
                row[0]
                for row in connection.execute(
                    sa.select(scored_residents.c.team_id)
                    .where(scored_residents.c.batch_id == batch["batch_id"])
                    .distinct()
                    .order_by(scored_residents.c.team_id)
                )
            ]

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


def _unit_column(level: str) -> Any:
    """The column a team or grid unit is matched on; a resident without a grid belongs to their team's
    "no grid" unit (``<team_id>:未分网格``, SPEC 16), as the indicators count them."""
    column = scored_residents.c
    if level == "team":
        return column.team_id
    return sa.func.coalesce(column.grid_id, column.team_id + NO_GRID_SUFFIX)


def _delete_batch(connection: Any, batch_id: str) -> None:
    """A batch and everything stored with it."""
    for table in (scored_residents, indicators, batch_events, monitoring):
        connection.execute(table.delete().where(table.c.batch_id == batch_id))
    connection.execute(batches.delete().where(batches.c.batch_id == batch_id))


def _create_sqlite_file(url: str) -> None:
    """A new SQLite store file is created readable by its owner only (SPEC 16); SQLite gives its -wal and
    -shm files the database file's mode."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return
    path = Path(parsed.database)
    if not path.exists() and path.parent.is_dir():
        owner_only(path)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _safe(url: str) -> str:
    """A URL with any password hidden, for messages."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<invalid store URL>"


def _tuples(scored: pd.DataFrame, batch_id: str, *, iso_dates: bool) -> list[tuple[Any, ...]]:
    """Rows as tuples in table order; missing values as None, dates as ``date`` (or ISO text for SQLite)."""
    columns: list[list[Any]] = [[batch_id] * len(scored)]
    for name in STORED_COLUMNS:
        values = scored[name]
        if pd.api.types.is_datetime64_any_dtype(values):
            days = values.to_numpy(dtype="datetime64[D]")
            text = days.astype(str) if iso_dates else days.astype(object)
            columns.append(
                [None if missing else item for item, missing in zip(text.tolist(), np.isnat(days), strict=True)]
            )
        elif isinstance(values.dtype, pd.BooleanDtype | pd.Int64Dtype):
            columns.append(values.astype(object).where(values.notna(), None).tolist())
        elif values.dtype.kind == "f":
            array = values.to_numpy()
            columns.append(np.where(np.isnan(array), MISSING, array).tolist())
        elif values.dtype.kind in "iub":
            columns.append(values.tolist())
        else:
            columns.append(values.astype(object).where(values.notna(), None).tolist())
    return list(zip(*columns, strict=True))


_ARROW_OF_SQL = {sa.Boolean: pa.bool_(), sa.Integer: pa.int64(), sa.Float: pa.float64(), sa.String: pa.string()}


def _read_residents(connection: Any, query: Any) -> pd.DataFrame:
    """The rows of a ``select(scored_residents)``, typed as validated records.

    Read a column at a time through Arrow: a 30,000-resident team is about four million stored values, and a
    pandas frame built row by row (or a date object a cell) costs seconds. Dates come as the database holds
    them (ISO text in SQLite, dates in PostgreSQL) and are parsed by Arrow."""
    raw = query.with_only_columns(
        *[
            sa.type_coerce(column, sa.String).label(column.name) if isinstance(column.type, sa.Date) else column
            for column in scored_residents.columns
        ]
    )
    rows = connection.execute(raw).fetchall()
    values = list(zip(*rows, strict=True)) if rows else [()] * len(scored_residents.columns)
    arrays = {}
    for column, items in zip(scored_residents.columns, values, strict=True):
        if isinstance(column.type, sa.Date):
            arrays[column.name] = _dates(items)
        else:
            kind = next(arrow for sql, arrow in _ARROW_OF_SQL.items() if isinstance(column.type, sql))
            arrays[column.name] = pa.array(items, kind)
    return _typed(pa.table(arrays).to_pandas())


def _dates(items: Any) -> pa.Array:
    """Stored dates (ISO text, date objects, or missing) as an Arrow date array."""
    try:
        return pa.array(items, pa.date32())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array(items, pa.string()).cast(pa.date32())


def _days(values: pd.Series) -> np.ndarray:
    """Stored dates (Arrow-typed, ISO text, date objects, or missing) as ``datetime64[s]``."""
    if values.dtype.kind == "M":
        return values.to_numpy().astype("datetime64[s]")
    try:
        array = pa.Array.from_pandas(values, type=pa.date32())
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        array = pa.Array.from_pandas(values.astype("str")).cast(pa.date32())
    return array.to_numpy(zero_copy_only=False).astype("datetime64[s]")


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Stored rows back into the validated-record dtypes (see :mod:`riskmodel.records.reading`)."""
    for column in RESIDENT_COLUMNS:
        values = frame[column.name]
        if column.kind == "bool":
            frame[column.name] = values.astype("boolean")
        elif column.kind == "int":
            frame[column.name] = values.astype("Int64")
        elif column.kind == "float":
            frame[column.name] = values.astype(np.float64)
        elif column.kind == "date":
            frame[column.name] = _days(values)
        else:
            frame[column.name] = values.astype(object).where(values.notna(), None)
    for name in PROBABILITY_COLUMNS:
        frame[name] = frame[name].astype(np.float64)
    for name in STATE_DATE_COLUMNS:  # typed once here, so that re-assessing a cached team reads them as they are
        frame[STATE_PREFIX + name] = _days(frame[STATE_PREFIX + name])
    return frame


def state_of_row(row: dict[str, Any]) -> dict[str, np.ndarray]:
    """One stored resident's derived state, as :func:`stored_state` gives it for a frame."""
    state: dict[str, np.ndarray] = {}
    for name in STATE_NUMBER_COLUMNS:
        value = row[STATE_PREFIX + name]
        state[name] = np.array([np.nan if value is None else float(value)])
    for name in STATE_DATE_COLUMNS:
        value = row[STATE_PREFIX + name]
        state[name] = np.array(["NaT" if value is None else str(value)], dtype="datetime64[D]")
    return state


def probabilities_of_row(row: dict[str, Any]) -> dict[str, np.ndarray]:
    """One stored resident's probabilities per disease as (1, 3) arrays."""
    return {
        disease: np.array(
            [[row[f"{disease}_p_{tier}"] for tier in ("healthy", "high_risk", "chronic")]], dtype=np.float64
        )
        for disease in ("diabetes", "hypertension")
    }


def stored_state(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """The batch's derived history state per resident, as :func:`riskmodel.records.history.row_state` gives it."""
    state: dict[str, np.ndarray] = {}
    for name in STATE_NUMBER_COLUMNS:
        state[name] = frame[STATE_PREFIX + name].to_numpy(dtype=np.float64, na_value=np.nan)
    for name in STATE_DATE_COLUMNS:
        values = frame[STATE_PREFIX + name]
        if values.dtype.kind != "M":  # as Spark hands them back: date objects with NaN for missing
            values = pd.to_datetime(values)
        state[name] = values.to_numpy().astype("datetime64[D]")
    return state


def stored_probabilities(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """The batch's probabilities per disease as (n, 3) arrays, for re-assessing as of another date."""
    return {
        disease: frame[[f"{disease}_p_healthy", f"{disease}_p_high_risk", f"{disease}_p_chronic"]].to_numpy(
            dtype=np.float64
        )
        for disease in ("diabetes", "hypertension")
    }
