"""One JSON log line format for the application and the server's own lines (SPEC 16 "Logs").

Every line is a JSON object with ``timestamp`` (ISO 8601, UTC), ``level``, ``logger`` and ``message``; a
request line adds ``request_id``, ``route`` (the template, ``/v1/teams/{team_id}/worklist``), ``method``,
``status``, ``ms`` and ``key``. A raw path is never written: uvicorn's access lines (which carry it) are
reduced to their method and status, and the application logs the route template instead.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from pythonjsonlogger.json import JsonFormatter

SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
APPLICATION_LOGGERS = ("riskmodel", "serving", "training")


class JsonLineFormatter(JsonFormatter):
    """python-json-logger's formatter with our field names and a UTC ISO 8601 timestamp."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", "%(levelname)s %(name)s %(message)s")
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("json_ensure_ascii", True)  # control characters (terminal escapes) leave as \\u001b
        super().__init__(*args, **kwargs)

    def add_fields(self, log_record: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        log_record["timestamp"] = dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(
            timespec="milliseconds"
        )
        super().add_fields(log_record, record, message_dict)
        log_record.pop("color_message", None)  # uvicorn's copy of the message with terminal colour codes


class NoRawPath(logging.Filter):
    """Drops the path from uvicorn's access line (``client - "GET /raw/path HTTP/1.1" 200``): keeps the
    method and the status only."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            _client, method, _path, _version, status = args
            record.msg, record.args = "%s %s", (method, status)
        return True


def log_config(level: str = "INFO") -> dict[str, Any]:
    """A :func:`logging.config.dictConfig` mapping (also uvicorn's ``log_config``): every application and
    server logger writes JSON lines to standard error."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    loggers: dict[str, Any] = {
        name: {"handlers": ["json"], "level": level, "propagate": False}
        for name in (*APPLICATION_LOGGERS, "uvicorn", "uvicorn.access")
    }
    loggers["uvicorn.error"] = {"level": level}  # propagates to "uvicorn"
    loggers["uvicorn.access"]["filters"] = ["no_raw_path"]
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonLineFormatter}},
        "filters": {"no_raw_path": {"()": NoRawPath}},
        "handlers": {"json": handler},
        "loggers": loggers,
        "root": {"handlers": ["json"], "level": "WARNING"},  # libraries' lines (MLflow, warnings) too
    }
