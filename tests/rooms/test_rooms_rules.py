"""The opening rules, without a database: which dates a room's rule opens."""

from __future__ import annotations

from datetime import date

import pytest

from mrs.rooms.errors import BookableHoursInvalid
from mrs.rooms.rules import (
    BY_HAND,
    OpeningRule,
    check_opening_rule,
    dates_to_open,
    public_holidays,
    weekdays_from_digits,
)

WEEKDAYS_8_TO_20 = OpeningRule(
    weekdays=frozenset({1, 2, 3, 4, 5}),
    open_minute=8 * 60,
    close_minute=20 * 60,
    auto_open=True,
    closed_on_holidays=True,
)
NO_HOLIDAYS: frozenset[date] = frozenset()


def test_japanese_public_holidays_are_closed() -> None:
    holidays = public_holidays("JP", date(2027, 1, 1), date(2027, 5, 7))
    assert date(2027, 1, 1) in holidays  # New Year's Day (a Friday)
    assert date(2027, 5, 3) in holidays  # Constitution Memorial Day (a Monday)
    opened = dates_to_open(WEEKDAYS_8_TO_20, date(2026, 12, 28), date(2027, 1, 8), holidays, ())
    assert date(2027, 1, 1) not in opened
    assert date(2026, 12, 31) in opened
    assert date(2027, 1, 4) in opened
    may = dates_to_open(WEEKDAYS_8_TO_20, date(2027, 5, 3), date(2027, 5, 7), holidays, ())
    # 3, 4 and 5 May (Golden Week) are all holidays in Japan.
    assert may == [date(2027, 5, 6), date(2027, 5, 7)]


def test_a_company_closure_day_is_closed() -> None:
    closures = {date(2027, 6, 4)}
    opened = dates_to_open(WEEKDAYS_8_TO_20, date(2027, 6, 1), date(2027, 6, 4), (), closures)
    assert opened == [date(2027, 6, 1), date(2027, 6, 2), date(2027, 6, 3)]


def test_a_saturday_is_not_opened_for_a_monday_to_friday_room() -> None:
    opened = dates_to_open(WEEKDAYS_8_TO_20, date(2027, 6, 4), date(2027, 6, 7), NO_HOLIDAYS, ())
    assert opened == [date(2027, 6, 4), date(2027, 6, 7)]  # Friday, then Monday


def test_a_room_open_on_holidays_opens_them() -> None:
    rule = OpeningRule(
        weekdays=frozenset(range(1, 8)),
        open_minute=0,
        close_minute=1440,
        auto_open=True,
        closed_on_holidays=False,
    )
    holidays = public_holidays("JP", date(2027, 1, 1), date(2027, 1, 1))
    assert dates_to_open(rule, date(2027, 1, 1), date(2027, 1, 1), holidays, ()) == [
        date(2027, 1, 1)
    ]
    # ... but never a closure day of the site.
    assert (
        dates_to_open(rule, date(2027, 1, 1), date(2027, 1, 1), holidays, {date(2027, 1, 1)}) == []
    )


def test_no_country_means_no_public_holidays() -> None:
    assert public_holidays("", date(2027, 1, 1), date(2027, 12, 31)) == frozenset()


def test_bookable_hours_must_run_forwards_on_slot_boundaries() -> None:
    check_opening_rule(WEEKDAYS_8_TO_20, 30)
    check_opening_rule(BY_HAND, 30)
    for wrong in (
        {"open_minute": 600, "close_minute": 600},
        {"open_minute": 720, "close_minute": 600},
        {"open_minute": 8 * 60 + 15, "close_minute": 600},
        {"open_minute": 0, "close_minute": 1470},
        {"weekdays": frozenset()},
    ):
        rule = OpeningRule(**{**WEEKDAYS_8_TO_20.__dict__, **wrong})
        with pytest.raises(BookableHoursInvalid):
            check_opening_rule(rule, 30)


def test_a_booking_must_lie_within_the_hours() -> None:
    assert WEEKDAYS_8_TO_20.allows(8 * 60, 9 * 60)
    assert WEEKDAYS_8_TO_20.allows(19 * 60, 20 * 60)
    assert not WEEKDAYS_8_TO_20.allows(7 * 60 + 30, 8 * 60 + 30)
    assert not WEEKDAYS_8_TO_20.allows(19 * 60 + 30, 20 * 60 + 30)


def test_weekdays_are_stored_as_iso_digits() -> None:
    assert WEEKDAYS_8_TO_20.weekday_digits == "12345"
    assert weekdays_from_digits("67") == frozenset({6, 7})
