"""Pure rules for opening rooms on dates."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from mrs.rooms.errors import DateRangeInvalid

MAX_OPENING_DAYS = 366


def dates_in_range(from_date: date, to_date: date, weekdays: Iterable[int] | None) -> list[date]:
    """Every date from `from_date` to `to_date` inclusive on the given ISO weekdays."""
    span = (to_date - from_date).days + 1
    if span < 1 or span > MAX_OPENING_DAYS:
        raise DateRangeInvalid(max_days=MAX_OPENING_DAYS)
    wanted = set(weekdays) if weekdays else set(range(1, 8))
    days = (from_date + timedelta(days=offset) for offset in range(span))
    return [day for day in days if day.isoweekday() in wanted]
