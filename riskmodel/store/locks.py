"""One writer at a time (SPEC 8): runs that write one store are serialised by a lock in the store.

PostgreSQL: a session advisory lock held on a dedicated connection for the run (released by the server if
the run dies). SQLite: a lock row with a heartbeat that a thread refreshes; a row whose heartbeat is older
than :data:`STALE_AFTER_SECONDS` belongs to a dead run and is taken over. A second run waits up to ``wait``
seconds, then raises :class:`~riskmodel.exceptions.StoreBusyError` (exit code 4).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from types import TracebackType

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from riskmodel.exceptions import StoreBusyError
from riskmodel.store.tables import store_lock

ADVISORY_KEY = 0x7269736B  # "risk"
LOG = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 5.0
STALE_AFTER_SECONDS = 30.0
"""A lock row not refreshed for this long belongs to a run that is gone."""
POLL_SECONDS = 0.5


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class StoreLock:
    """The store's write lock, as a context manager."""

    def __init__(self, engine: Engine, *, wait: float = 0.0) -> None:
        self.engine = engine
        self.wait = wait
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._connection: Connection | None = None
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def __enter__(self) -> StoreLock:
        deadline = time.monotonic() + self.wait
        while not self._try():
            if time.monotonic() >= deadline:
                raise StoreBusyError(
                    "another run is writing to this store; try again when it is done, or pass --wait SECONDS"
                )
            time.sleep(POLL_SECONDS)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.release()

    def _try(self) -> bool:
        if self.engine.dialect.name == "postgresql":
            connection = self.engine.connect()
            taken = bool(
                connection.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}).scalar()
            )
            connection.commit()
            if taken:
                self._connection = connection
            else:
                connection.close()
            return taken
        with self.engine.begin() as connection:
            row = connection.execute(sa.select(store_lock).where(store_lock.c.name == "writer")).mappings().first()
            now = _now()
            if row is not None and (now - row["heartbeat_at"]).total_seconds() < STALE_AFTER_SECONDS:
                return False
            if row is None:
                connection.execute(store_lock.insert().values(name="writer", holder=self.holder, heartbeat_at=now))
            else:
                taken = connection.execute(  # type: ignore[assignment]
                    store_lock.update()
                    .where(store_lock.c.name == "writer", store_lock.c.heartbeat_at == row["heartbeat_at"])
                    .values(holder=self.holder, heartbeat_at=now)
                ).rowcount
                if not taken:
                    return False
        self._beat = threading.Thread(target=self._heartbeat, name="store-lock-heartbeat", daemon=True)
        self._beat.start()
        return True

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                with self.engine.begin() as connection:
                    connection.execute(
                        store_lock.update()
                        .where(store_lock.c.name == "writer", store_lock.c.holder == self.holder)
                        .values(heartbeat_at=_now())
                    )
            except sa.exc.OperationalError as error:
                # SQLite is locked while the run itself writes a large batch: beat again next time (a run is
                # taken over only after STALE_AFTER_SECONDS without a beat, six beats).
                LOG.warning("store lock heartbeat skipped: %s", type(error.orig).__name__)

    def release(self) -> None:
        if self._connection is not None:
            self._connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
            self._connection.commit()
            self._connection.close()
            self._connection = None
            return
        if self._beat is not None:
            self._stop.set()
            self._beat.join(timeout=10)
            self._beat = None
            with self.engine.begin() as connection:
                connection.execute(
                    store_lock.delete().where(store_lock.c.name == "writer", store_lock.c.holder == self.holder)
                )
