"""Reservation request and response models."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from mrs.http.types import ClockTime, HourMinute, IsoDate

IDEMPOTENCY_KEY_MAX_LENGTH = 255
# Printable ASCII (space to tilde), as the IETF Idempotency-Key draft's examples are; a
# UUID is the usual choice. Used as it is: the same characters are the same key.
_IDEMPOTENCY_KEY_RE = re.compile(rf"[\x20-\x7e]{{1,{IDEMPOTENCY_KEY_MAX_LENGTH}}}")


def parse_idempotency_key(value: Any) -> str:
    """An `Idempotency-Key` header: 1 to 255 printable ASCII characters."""
    if not isinstance(value, str) or not _IDEMPOTENCY_KEY_RE.fullmatch(value):
        raise ValueError("An Idempotency-Key is 1 to 255 printable ASCII characters.")
    return value


IdempotencyKeyHeader = Annotated[str, BeforeValidator(parse_idempotency_key)]


class ReservationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: IsoDate
    start_time: HourMinute
    end_time: HourMinute


class ReservationRead(BaseModel):
    reservation_id: int
    room_id: int
    room_name: str
    date: date
    start_time: ClockTime
    end_time: ClockTime
    duration_minutes: int = Field(
        description="Real elapsed minutes: differs from end minus start on a day the clocks change."
    )
    user_id: str
    user_name: str
    status: str
    created_at: datetime
    cancelled_at: datetime | None
    cancelled_by: str | None


class BookingConfigRead(BaseModel):
    """How reservations are made on this site: what an API client needs to know before
    its first request, instead of learning it from a 422."""

    slot_minutes: int = Field(
        description="Start and end times fall on multiples of this many minutes (MRS_SLOT_MINUTES)."
    )
    time_zone: str = Field(
        description="IANA time zone of every date and HH:MM time in the API (MRS_TIMEZONE)."
    )
    day_start_time: ClockTime = Field(
        description="The day grid of the pages starts here (MRS_WEB_DAY_START_HOUR); the "
        "API accepts any slot boundary from 00:00."
    )
    day_end_time: ClockTime = Field(
        description="The day grid of the pages ends here (MRS_WEB_DAY_END_HOUR); the API "
        "accepts any slot boundary up to 24:00."
    )
    idempotency_key_hours: int = Field(
        description="A retried `Idempotency-Key` gets the first answer within this many "
        "hours (MRS_IDEMPOTENCY_KEY_HOURS)."
    )
