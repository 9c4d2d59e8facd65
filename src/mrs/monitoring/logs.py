"""Log output: plain text or one JSON object per line (MRS_LOG_FORMAT=json).

Records carry structured `fields` (request id, route, status, ...). Secrets never reach
a record: the access log writes only method, path (no query string), status and timing.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

from mrs.settings import Settings


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message and any `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    """Readable lines, with the request id when the record has one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict) and "request_id" in fields:
            line = f"{line} [request_id={fields['request_id']}]"
        return line


def configure_logging(settings: Settings) -> None:
    """Send the service's logs (`mrs.*`) to stderr in the configured format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    logger = logging.getLogger("mrs")
    for existing in list(logger.handlers):
        if getattr(existing, "_mrs_handler", False):
            logger.removeHandler(existing)
    handler._mrs_handler = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(settings.log_level.upper())
    logger.propagate = False
