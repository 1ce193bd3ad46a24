"""Logging with the standard library: console, rotating files and a JSON formatter.

Every record carries the correlation id of the request or task that produced it.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dashboard.observability.context import get_request_id

TEXT_FORMAT = (
    "%(asctime)s %(levelname)s %(name)s %(funcName)s:%(lineno)d [%(request_id)s] %(message)s"
)
MAX_BYTES = 10 * 1024 * 1024
BACKUPS = 5


class RequestIdFilter(logging.Filter):
    """Attach the current correlation id to every record as `request_id`.

    `django.request` logs a 4xx/5xx response after the middleware chain returned (and the
    request's id was unbound), but passes the request along: its id is taken from there.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Never drops a record; only annotates it."""
        if not hasattr(record, "request_id"):
            request = getattr(record, "request", None)
            record.request_id = getattr(request, "request_id", None) or get_request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers in production."""

    def format(self, record: logging.LogRecord) -> str:
        """Serialise the record with time, level, logger, function, line and request id."""
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "function": record.funcName,
            "line": record.lineno,
            "request_id": getattr(record, "request_id", get_request_id()),
            "message": record.getMessage(),
        }
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def build_logging(level: str, log_dir: Path, fmt: str) -> dict[str, Any]:
    """The `LOGGING` dict: console plus `app.log` (all) and `error.log` (ERROR+), 10 MB x 5."""
    log_dir.mkdir(parents=True, exist_ok=True)
    file_formatter = "json" if fmt == "json" else "text"
    rotating = {
        "class": "logging.handlers.RotatingFileHandler",
        "maxBytes": MAX_BYTES,
        "backupCount": BACKUPS,
        "encoding": "utf-8",
        "delay": True,
        "filters": ["request_id"],
        "formatter": file_formatter,
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {
            "text": {"format": TEXT_FORMAT},
            "json": {"()": JsonFormatter},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "filters": ["request_id"],
                "formatter": "json" if fmt == "json" else "text",
            },
            "app_file": {**rotating, "filename": str(log_dir / "app.log")},
            "error_file": {**rotating, "filename": str(log_dir / "error.log"), "level": "ERROR"},
        },
        "root": {"handlers": ["console", "app_file", "error_file"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "INFO"},
            "git": {"level": "WARNING"},
            # The file-based broker has no host by design; kombu warns about it on every connect.
            "kombu.connection": {"level": "ERROR"},
        },
    }
