"""The period a report covers: pure rules, tested without a database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from mrs.errors import InvalidInput

MAX_PERIOD_DAYS = 366
DEFAULT_PERIOD_DAYS = 30


class PeriodBackwards(InvalidInput):
    code = "report_period_backwards"
    field = "to"
    message = "The end of the period ({to}) must not be before its start ({from_date})."


class PeriodTooLong(InvalidInput):
    code = "report_period_too_long"
    field = "to"
    message = "A report covers at most {max_days} days; this period has {days}."


@dataclass(frozen=True)
class Period:
    """Calendar dates from `first` to `last`, both included."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def period(first: date, last: date) -> Period:
    """The period from `first` to `last` (inclusive), refused when it runs backwards or
    is longer than MAX_PERIOD_DAYS (a year and a leap day)."""
    if last < first:
        raise PeriodBackwards(to=last.isoformat(), from_date=first.isoformat())
    days = (last - first).days + 1
    if days > MAX_PERIOD_DAYS:
        raise PeriodTooLong(max_days=MAX_PERIOD_DAYS, days=days)
    return Period(first, last)


def default_period(today: date) -> Period:
    """The last DEFAULT_PERIOD_DAYS days, today included."""
    return Period(today - timedelta(days=DEFAULT_PERIOD_DAYS - 1), today)


def share(part: int, whole: int) -> float:
    """`part` ÷ `whole`, 0.0 when there is no whole (an empty period, a closed room)."""
    return part / whole if whole > 0 else 0.0
