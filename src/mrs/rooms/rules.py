"""Pure rules for opening rooms on dates: date ranges, opening rules, holidays."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import holidays as holiday_calendars

from mrs.rooms.errors import BookableHoursInvalid, DateRangeInvalid
from mrs.wallclock import MINUTES_PER_DAY

MAX_OPENING_DAYS = 366
ALL_WEEKDAYS = frozenset(range(1, 8))


def dates_in_range(from_date: date, to_date: date, weekdays: Iterable[int] | None) -> list[date]:
    """Every date from `from_date` to `to_date` inclusive on the given ISO weekdays."""
    span = (to_date - from_date).days + 1
    if span < 1 or span > MAX_OPENING_DAYS:
        raise DateRangeInvalid(max_days=MAX_OPENING_DAYS)
    wanted = set(weekdays) if weekdays else set(range(1, 8))
    days = (from_date + timedelta(days=offset) for offset in range(span))
    return [day for day in days if day.isoweekday() in wanted]


@dataclass(frozen=True)
class OpeningRule:
    """When a room opens: ISO weekdays (1 = Monday), bookable hours as minutes since
    local midnight, whether its dates are opened automatically, and whether public
    holidays stay closed."""

    weekdays: frozenset[int]
    open_minute: int
    close_minute: int
    auto_open: bool
    closed_on_holidays: bool

    @property
    def weekday_digits(self) -> str:
        """The weekdays as stored: "12345" for Monday to Friday."""
        return "".join(str(day) for day in sorted(self.weekdays))

    def allows(self, start_minute: int, end_minute: int) -> bool:
        """Whether a booking from `start_minute` to `end_minute` lies within the hours."""
        return self.open_minute <= start_minute and end_minute <= self.close_minute


# Rooms as they were before opening rules: every day, all day, opened by hand.
BY_HAND = OpeningRule(
    weekdays=ALL_WEEKDAYS,
    open_minute=0,
    close_minute=MINUTES_PER_DAY,
    auto_open=False,
    closed_on_holidays=False,
)


def weekdays_from_digits(digits: str) -> frozenset[int]:
    """The stored weekday digits ("12345") as ISO weekday numbers."""
    return frozenset(int(digit) for digit in digits if digit in "1234567")


def check_opening_rule(rule: OpeningRule, slot_minutes: int) -> None:
    """The hours run forwards within the day, on slot boundaries; at least one weekday."""
    if (
        not 0 <= rule.open_minute < rule.close_minute <= MINUTES_PER_DAY
        or rule.open_minute % slot_minutes
        or rule.close_minute % slot_minutes
        or not rule.weekdays
        or not rule.weekdays <= ALL_WEEKDAYS
    ):
        raise BookableHoursInvalid(slot_minutes=slot_minutes)


def public_holidays(country: str, from_date: date, to_date: date) -> frozenset[date]:
    """The public holidays of `country` (ISO 3166 code) in the range; none for ""."""
    if not country:
        return frozenset()
    calendar = holiday_calendars.country_holidays(
        country, years=range(from_date.year, to_date.year + 1)
    )
    return frozenset(day for day in calendar if from_date <= day <= to_date)


def dates_to_open(
    rule: OpeningRule,
    from_date: date,
    to_date: date,
    holidays: Collection[date],
    closures: Collection[date],
) -> list[date]:
    """The dates from `from_date` to `to_date` (inclusive) the rule opens: its weekdays,
    minus the site's closure days, minus public holidays when the rule closes on them."""
    days: list[date] = []
    day = from_date
    while day <= to_date:
        if (
            day.isoweekday() in rule.weekdays
            and day not in closures
            and not (rule.closed_on_holidays and day in holidays)
        ):
            days.append(day)
        day += timedelta(days=1)
    return days
