"""Log output: plain text or one JSON object per line (MRS_LOG_FORMAT=json).

Records carry structured `fields` (request id, route, status, ...). Secrets never reach
a record: the access log writes only method, path (no query string), status and timing.

Logged values come from clients (paths, user agents, ids): a CR or LF in one of them
would start a line that looks like a record of its own. Both formatters escape control
characters in the message and in every field, so one record is one line; a traceback's
lines follow it indented (text) or inside its JSON string, never at the start of a line.
"""

from __future__ import annotations

import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

from mrs.settings import Settings

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# The same, less LF: a traceback keeps its line breaks (each line is then indented).
_CONTROL_BUT_NEWLINE_RE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x00": "\\0"}
TRACEBACK_INDENT = "    "


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED_ESCAPES.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escape_control(text: str) -> str:
    """`text` on one line: control characters written as escapes (\\r, \\n, \\x1b, ...)."""
    # The search first: nearly every value is clean, and then nothing is copied.
    return _CONTROL_RE.sub(_escape_char, text) if _CONTROL_RE.search(text) else text


def _escape_value(value: Any) -> Any:
    if isinstance(value, str):
        return escape_control(value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return _escape_fields(value)
    if isinstance(value, (list, tuple)):
        return [_escape_value(item) for item in value]
    return escape_control(str(value))


def _escape_fields(fields: dict[Any, Any]) -> dict[str, Any]:
    return {escape_control(str(key)): _escape_value(value) for key, value in fields.items()}


def _escape_traceback(text: str) -> str:
    return _CONTROL_BUT_NEWLINE_RE.sub(_escape_char, text)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message and any `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            # JSON escapes controls itself; escaping them here too keeps `jq -r` output
            # (and any tool that prints the decoded value) one line per record.
            "message": escape_control(record.getMessage()),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(_escape_fields(fields))
        if record.exc_info:
            entry["exception"] = _escape_traceback(self.formatException(record.exc_info))
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    """Readable lines, with the request id when the record has one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        record.message = escape_control(record.message)
        line = super().formatMessage(record)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict) and "request_id" in fields:
            line = f"{line} [request_id={escape_control(str(fields['request_id']))}]"
        return line

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        # Indented, so no line of a traceback (whose message may quote a client's input)
        # can pass for a record, which always starts with its time at the line's start.
        text = _escape_traceback(super().formatException(ei))
        return "\n".join(TRACEBACK_INDENT + line for line in text.splitlines())

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 - logging's name
        text = _escape_traceback(super().formatStack(stack_info))
        return "\n".join(TRACEBACK_INDENT + line for line in text.splitlines())


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
