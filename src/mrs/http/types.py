"""Strict input types for the edge: calendar dates as YYYY-MM-DD, times as HH:MM."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import Path
from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from mrs.wallclock import format_minute

# ASCII digits only, matched in full: `\d` also takes "１０" or Arabic-Indic digits (which
# int() then reads as numbers) and `$` lets a trailing newline through.
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME_RE = re.compile(r"([0-9]{2}):([0-9]{2})")


def parse_iso_date(value: Any) -> date:
    """A real calendar date written YYYY-MM-DD (2025-02-30 is refused)."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _DATE_RE.fullmatch(value):
        raise ValueError("Enter a date as YYYY-MM-DD.")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError("This date does not exist.") from exc


def parse_hour_minute(value: Any) -> int:
    """A wall-clock time "HH:MM" from 00:00 to 24:00, as minutes since midnight."""
    if not isinstance(value, str):
        raise ValueError("Enter a time as HH:MM.")
    match = _TIME_RE.fullmatch(value)
    if not match:
        raise ValueError("Enter a time as HH:MM.")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes != 0):
        raise ValueError("This time does not exist; use 00:00 to 24:00.")
    return hours * 60 + minutes


IsoDate = Annotated[
    date,
    BeforeValidator(parse_iso_date),
    WithJsonSchema({"type": "string", "format": "date", "example": "2026-12-01"}),
]
HourMinute = Annotated[
    int,
    BeforeValidator(parse_hour_minute),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]{2}:[0-9]{2}$", "example": "10:30"}),
]

MAX_INT32 = 2**31 - 1
MAX_INT64 = 2**63 - 1
# Path ids bounded to their column types, so a huge number is a 422, never a database error.
RoomIdPath = Annotated[int, Path(ge=1, le=MAX_INT32, description="Room id")]
ReservationIdPath = Annotated[int, Path(ge=1, le=MAX_INT64, description="Reservation id")]
# Output form of a time of day: minutes since midnight rendered as "HH:MM".
ClockTime = Annotated[
    int,
    PlainSerializer(format_minute, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]{2}:[0-9]{2}$", "example": "10:30"}),
]
