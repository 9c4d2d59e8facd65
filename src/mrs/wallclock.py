"""Wall-clock times of day as minutes since local midnight (0..1440), and the instants
they stand for at the site.

Reservations are stored and spoken in wall-clock minutes; on the days a time zone changes
its offset those minutes are not all real: some do not exist (clocks spring forward) and
some happen twice (clocks fall back). This module holds the one rule for both, so that the
API, the pages and the "is it in the past" checks agree:

- a wall time that happens twice means its first occurrence (`fold=0`);
- a wall time that does not exist cannot be reserved (`wall_time_exists`);
- lengths are real elapsed time (`elapsed_minutes`), not the difference of wall minutes.
"""

from __future__ import annotations

from datetime import MAXYEAR, UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60


def _formatted(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


# Pages format thousands of times per request (every taken range of every room): a table
# lookup instead of string formatting each time.
_FORMATTED = tuple(_formatted(minute) for minute in range(MINUTES_PER_DAY + 1))


def format_minute(minute: int) -> str:
    """Minutes since midnight as "HH:MM" (1440 is "24:00")."""
    if 0 <= minute <= MINUTES_PER_DAY:
        return _FORMATTED[minute]
    return _formatted(minute)


def _wall(day: date, minute: int, tz: ZoneInfo) -> datetime:
    # fold=0 (the default) is the rule for a repeated wall time: its first occurrence.
    days, rest = divmod(minute, MINUTES_PER_DAY)
    return datetime.combine(day + timedelta(days=days), time(rest // 60, rest % 60), tzinfo=tz)


def wall_instant(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """The instant (in UTC) of `minute` past local midnight on `day` (1440 is the next
    midnight); a time that happens twice that day means its first occurrence.

    In UTC on purpose: Python compares and subtracts two datetimes of the same `tzinfo` by
    their wall-clock fields, ignoring the offset, which gets DST days wrong.
    """
    try:
        return _wall(day, minute, tz).astimezone(UTC)
    except OverflowError:
        # Only at the ends of the calendar (9999-12-31 24:00, or 0001-01-01 east of UTC):
        # the instant lies beyond what datetime holds, so it is the end (or start) of time.
        return (datetime.max if day.year == MAXYEAR else datetime.min).replace(tzinfo=UTC)


def wall_time_exists(day: date, minute: int, tz: ZoneInfo) -> bool:
    """False for a wall time skipped when clocks spring forward (02:30 in New York on
    2027-03-14): the instant it would stand for reads back as another time."""
    if not _offset_changes(day, tz) and 0 <= minute < MINUTES_PER_DAY:
        return True
    try:
        wall = _wall(day, minute, tz)
        return wall.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall.replace(tzinfo=None)
    except OverflowError:  # the ends of the calendar: no clock change is known there
        return True


@lru_cache(maxsize=256)
def _offset_changes(day: date, tz: ZoneInfo) -> bool:
    """Whether the UTC offset differs between this midnight and the next (a DST day).
    Cached: the slot grid asks for every slot of the day."""
    try:
        return _wall(day, 0, tz).utcoffset() != _wall(day, MINUTES_PER_DAY, tz).utcoffset()
    except OverflowError:  # 9999-12-31 has no next midnight
        return False


def elapsed_minutes(day: date, start_minute: int, end_minute: int, tz: ZoneInfo) -> int:
    """The real length of a wall-clock range on `day`, in minutes: 01:30–03:00 lasts 30
    minutes on a spring-forward day in New York, 01:00–02:00 lasts 120 when clocks fall back."""
    if not _offset_changes(day, tz) and 0 <= start_minute <= end_minute <= MINUTES_PER_DAY:
        # Every other day (lists ask for hundreds of ranges): the wall minutes are real.
        return end_minute - start_minute
    elapsed = wall_instant(day, end_minute, tz) - wall_instant(day, start_minute, tz)
    return int(elapsed.total_seconds() // 60)


def minutes_gone(day: date, now: datetime, tz: ZoneInfo) -> int:
    """The first wall minute of `day` whose instant is not before `now`: a time of `day`
    is in the past exactly when it is below this (0 for a later day, 1440 for an earlier
    one). The same rule as `wall_instant`, so pages and API agree in a repeated hour."""
    local = now.astimezone(tz)
    if day > local.date():
        return 0
    if day < local.date():
        return MINUTES_PER_DAY
    minute = local.hour * 60 + local.minute
    # At most a few steps: a started minute, or the rest of a repeated hour (whose first
    # occurrence is already over when `now` is in the second one).
    while minute < MINUTES_PER_DAY and wall_instant(day, minute, tz) < now:
        minute += 1
    return minute
