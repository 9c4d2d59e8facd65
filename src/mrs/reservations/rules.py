"""Pure reservation rules: slots, overlap, who may cancel. No database, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from mrs.reservations.errors import (
    CancelNotAllowed,
    InvalidTimeRange,
    OutsideDay,
    ReservationAlreadyEnded,
    SlotMisaligned,
    StartInPast,
)
from mrs.wallclock import MINUTES_PER_DAY


def check_time_range(start_minute: int, end_minute: int, slot_minutes: int) -> None:
    """A reservation lies within one day, ends after it starts, and sits on slot boundaries."""
    if not (0 <= start_minute <= MINUTES_PER_DAY and 0 <= end_minute <= MINUTES_PER_DAY):
        raise OutsideDay()
    if end_minute <= start_minute:
        raise InvalidTimeRange()
    if start_minute % slot_minutes or end_minute % slot_minutes:
        raise SlotMisaligned(slot_minutes=slot_minutes)


def local_datetime(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """The aware instant of `minute` past local midnight on `day`."""
    return datetime.combine(day, time(0), tzinfo=tz) + timedelta(minutes=minute)


def check_not_in_past(day: date, start_minute: int, now: datetime, tz: ZoneInfo) -> None:
    """A reservation may not start before now."""
    if local_datetime(day, start_minute, tz) < now:
        raise StartInPast()


def overlaps(start_a: int, end_a: int, start_b: int, end_b: int) -> bool:
    """Half-open intervals: 10:00-10:30 and 10:30-11:00 do not overlap."""
    return start_a < end_b and start_b < end_a


@dataclass(frozen=True)
class Actor:
    """Who is acting: enough to decide permissions."""

    user_id: str
    is_admin: bool


def check_can_cancel(
    actor: Actor,
    *,
    owner_id: str,
    day: date,
    end_minute: int,
    now: datetime,
    tz: ZoneInfo,
) -> None:
    """The owner or an admin may cancel; only an admin once the reservation has ended."""
    if actor.user_id != owner_id and not actor.is_admin:
        raise CancelNotAllowed()
    if not actor.is_admin and local_datetime(day, end_minute, tz) <= now:
        raise ReservationAlreadyEnded()
