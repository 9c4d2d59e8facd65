"""Reservation request and response models."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from mrs.http.types import MAX_INT32, ClockTime, HourMinute, IsoDate
from mrs.reservations.models import Visibility

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


TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 2000
# A meeting invites at most this many people (the type-ahead adds them one by one).
MAX_ATTENDEES = 100
# An administrator's reason for changing someone else's reservation (mailed to them).
REASON_MAX_LENGTH = 500


def _trimmed_or_none(value: Any) -> Any:
    """Surrounding spaces dropped; an empty text is no text (None)."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _trimmed(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


# An empty or blank title is no title: readers then see the owner's name.
Title = Annotated[
    Annotated[str, StringConstraints(max_length=TITLE_MAX_LENGTH)] | None,
    BeforeValidator(_trimmed_or_none),
    Field(description="At most 200 characters; empty for none."),
]
Description = Annotated[str, BeforeValidator(_trimmed), Field(max_length=DESCRIPTION_MAX_LENGTH)]
AttendeeId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Attendees = Annotated[
    list[AttendeeId],
    Field(
        max_length=MAX_ATTENDEES,
        description="User ids of active users of the site (at most 100); repeats and the "
        "owner are left out.",
    ),
]
OnBehalfOf = Annotated[
    AttendeeId | None,
    Field(
        description="Book for this user (代理予約): allowed when they named the caller "
        "as a delegate, or for an administrator. The reservation is theirs (`user_id`, "
        "their policies and quota) and records the caller as `booked_by`."
    ),
]


class ReservationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: IsoDate
    start_time: HourMinute
    end_time: HourMinute
    title: Title = None
    description: Description = ""
    visibility: Visibility = Visibility.PUBLIC
    attendees: Attendees = []
    on_behalf_of: OnBehalfOf = None


class ReservationUpdate(BaseModel):
    """The fields to change; those left out keep their values."""

    model_config = ConfigDict(extra="forbid")

    date: IsoDate | None = None
    start_time: HourMinute | None = None
    end_time: HourMinute | None = None
    room_id: Annotated[int, Field(ge=1, le=MAX_INT32)] | None = None
    title: Title = None
    description: Description | None = None
    visibility: Visibility | None = None
    attendees: Attendees | None = None
    reason: Annotated[
        Annotated[str, StringConstraints(max_length=REASON_MAX_LENGTH)] | None,
        BeforeValidator(_trimmed_or_none),
        Field(
            description="An administrator changing someone else's reservation may say why; "
            "the owner is mailed either way.",
        ),
    ] = None

    @field_validator(
        "date", "start_time", "end_time", "room_id", "description", "visibility", "attendees"
    )
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Only a value sent as null reaches here (defaults are not validated).
        if value is None:
            raise ValueError("This field cannot be empty.")
        return value


class AttendeeRead(BaseModel):
    user_id: str
    display_name: str


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
    title: str = Field(
        description="The meeting's title; the owner's name when none was given; "
        '"Reserved" for a private meeting the reader may not see.'
    )
    title_given: bool = Field(description="Whether the owner gave the title shown.")
    details_visible: bool = Field(
        description="False for a private meeting seen by someone other than its owner, "
        "attendees and administrators: title, description and attendees are withheld."
    )
    description: str
    visibility: Visibility
    attendees: list[AttendeeRead]
    owner: str = Field(description="The owner's name in the reader's language.")
    version: int = Field(description="Rises with every change; the reservation's ETag.")
    updated_at: datetime | None
    role: Literal["owner", "attendee", "delegate"] | None = Field(
        description="The reader's part in the meeting, if any (delegate: booked it for the owner)."
    )
    series_id: int | None = Field(
        default=None, description="The recurring series it belongs to; null for a single booking."
    )
    is_exception: bool = Field(
        default=False,
        description="An occurrence changed or cancelled on its own: series edits leave it alone.",
    )
    booked_by: str | None = Field(
        default=None,
        description="Who booked it for the owner (a delegate, or an administrator); "
        "null when the owner booked it.",
    )


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


# --- recurring series ---

Rule = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    Field(
        description="An RFC 5545 RRULE: FREQ=DAILY|WEEKLY|MONTHLY, INTERVAL, BYDAY (e.g. "
        "TU, 2TU, -1FR), BYMONTHDAY, and UNTIL or COUNT. Example: FREQ=WEEKLY;BYDAY=TU;COUNT=10",
        examples=["FREQ=WEEKLY;BYDAY=TU;COUNT=10"],
    ),
]
OnConflict = Annotated[
    Literal["fail", "skip"],
    Field(
        description='"fail": any date taken or not bookable refuses the whole series (409 '
        'listing every date); "skip": those dates are left out and listed.'
    ),
]


class SeriesCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title = None
    start_date: IsoDate
    start_time: HourMinute
    end_time: HourMinute
    rule: Rule
    on_conflict: OnConflict = "fail"
    description: Description = ""
    visibility: Visibility = Visibility.PUBLIC
    attendees: Attendees = []
    on_behalf_of: OnBehalfOf = None


class SkippedDateRead(BaseModel):
    date: date
    reason: str | None = Field(
        description="The error code a single booking would get that day (e.g. "
        "reservation_conflict, room_not_reservable, outside_bookable_hours, start_in_past)."
    )
    reservation_id: int | None = Field(default=None, description="The reservation in the way.")


class SeriesCreated(BaseModel):
    series_id: int
    rule: str = Field(description="The rule in canonical form.")
    occurrences: list[ReservationRead]
    skipped: list[SkippedDateRead]


class PlannedDateRead(SkippedDateRead):
    state: Literal["free", "conflict", "unbookable"]


class SeriesPreviewRead(BaseModel):
    dates: list[PlannedDateRead] = Field(description="Every date the rule gives, in order.")


class OccurrenceRead(BaseModel):
    reservation_id: int
    occurrence_date: date = Field(description="The date the rule gave it (kept when moved).")
    date: date
    start_time: ClockTime
    end_time: ClockTime
    room_id: int
    status: str
    is_exception: bool
    state: Literal["active", "cancelled", "moved"]


class SeriesRead(BaseModel):
    series_id: int
    room_id: int
    room_name: str
    user_id: str
    owner: str
    title: str
    title_given: bool
    details_visible: bool
    description: str
    visibility: Visibility
    attendees: list[AttendeeRead]
    start_date: date
    start_time: ClockTime
    end_time: ClockTime
    rule: str = Field(description="The rule in canonical form.")
    rule_description: str = Field(description="The series in words, in the reader's language.")
    status: str
    version: int = Field(description="Rises with every change; the series' ETag.")
    created_at: datetime
    updated_at: datetime | None
    occurrences: list[OccurrenceRead]
    exceptions: list[OccurrenceRead] = Field(
        description="Occurrences changed or cancelled on their own: series edits leave them alone."
    )


class SeriesChangedRead(SeriesRead):
    skipped: list[SkippedDateRead] = []


class SeriesUpdate(BaseModel):
    """A change to a series; fields left out keep their values."""

    model_config = ConfigDict(extra="forbid")

    scope: Literal["all", "following"] = "all"
    from_date: IsoDate | None = Field(
        default=None,
        description='"following": the first date changed (the series before it is kept as '
        'it was); "all": the changes apply from this date (today by default).',
    )
    title: Title = None
    description: Description | None = None
    visibility: Visibility | None = None
    attendees: Attendees | None = None
    start_time: HourMinute | None = None
    end_time: HourMinute | None = None
    rule: Rule | None = None
    room_id: Annotated[int, Field(ge=1, le=MAX_INT32)] | None = None
    on_conflict: OnConflict = "fail"

    @field_validator(
        "description", "visibility", "attendees", "start_time", "end_time", "rule", "room_id"
    )
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("This field cannot be empty.")
        return value
