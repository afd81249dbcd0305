"""The part files Spark's groups write, and the driver's queries over them (DuckDB, spilling to disk).

Each group of residents (``serving.spark_engine``) writes one table whose rows are of three kinds (column
``_kind``): a scored or rejected resident, a used event, a rejected event; ``_row_number`` is the row's
1-based number in its input file. The driver reads them back in input order with the queries below, one public
name each (issue 22: SQL has one home per domain).
"""

from __future__ import annotations

import pyarrow as pa

from riskmodel.records.events import EVENT_ARROW_SCHEMA

ROW, DUPLICATE, REJECTED, ERRORS, RAW = "_row_number", "_duplicate", "_rejected", "_errors", "_raw"
KIND, BUCKET = "_kind", "_bucket"
RESIDENT, EVENT_USED, EVENT_REJECTED = "resident", "event", "event_rejected"
"""The three kinds of part rows."""
EVENT_FIELDS = [pa.field(f"ev_{f.name}", f.type) for f in EVENT_ARROW_SCHEMA]
"""A used event's columns in a part row (prefixed, beside the resident columns)."""


def parts_view(glob: str) -> str:
    """Every group's part files (``glob``) as the view ``result`` (a view takes no parameter: the glob is quoted)."""
    quoted = glob.replace("'", "''")
    return f"CREATE VIEW result AS SELECT * FROM read_parquet('{quoted}')"


REJECTED_EVENTS = f"SELECT {ROW}, {ERRORS}, {RAW} FROM result WHERE {KIND} = '{EVENT_REJECTED}' ORDER BY {ROW}"
"""The rejected events, in input order, with their reasons and their values as read (JSON)."""
USED_EVENT_COUNT = f"SELECT count(*) FROM result WHERE {KIND} = '{EVENT_USED}'"
"""How many events were used."""
RESIDENT_ROWS = (
    f"SELECT * EXCLUDE ({', '.join(f.name for f in EVENT_FIELDS)}) FROM result "
    f"WHERE {KIND} = '{RESIDENT}' ORDER BY {ROW}"
)
"""The scored and rejected residents, in input order, without the event columns."""
USED_EVENTS = (
    f"SELECT {', '.join(f'ev_{f.name} AS {f.name}' for f in EVENT_ARROW_SCHEMA)} FROM result "
    f"WHERE {KIND} = '{EVENT_USED}'"
)
"""The used events, with the columns of SPEC 2.2 (to publish with the batch)."""
