"""One in-memory DuckDB connection per thread (and process), kept between calls.

Opening a connection costs more than mapping one patient's Bundle (tens of milliseconds against a few), so the
API's per-request work that runs SQL (the FHIR endpoint's mapping) reuses the thread's; the history derivation
needs none (:mod:`riskmodel.records.derivation` works on arrays). A caller must leave the connection as it
found it: drop the temporary tables and views it made and unregister what it registered.
"""

from __future__ import annotations

import os
import threading

import duckdb

_LOCAL = threading.local()


def thread_connection() -> duckdb.DuckDBPyConnection:
    """This thread's connection (a new one after a fork: a connection is never shared across processes)."""
    held = getattr(_LOCAL, "held", None)
    if held is None or held[0] != os.getpid():
        held = (os.getpid(), duckdb.connect())
        _LOCAL.held = held
    return held[1]
