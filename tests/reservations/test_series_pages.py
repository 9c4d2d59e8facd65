"""Recurring series on the pages: the repeat options of the booking form read into a rule
(pure), and the pages that preview, create, show, change and cancel a series."""

from __future__ import annotations

from datetime import date

import pytest

from mrs.reservations.recurrence import DayOfWeek, Frequency, RecurrenceRule, describe
from mrs.web.pages.repeat_form import (
    RepeatChoice,
    form_values_of,
    monthly_options,
    parse_repeat,
    weekday_options,
)

TUESDAY = date(2027, 3, 9)  # the 2nd Tuesday of March 2027
LAST_FRIDAY = date(2027, 3, 26)


def _text(choice: RepeatChoice) -> str | None:
    return None if choice.rule is None else choice.rule.text()


def _fields(choice: RepeatChoice) -> dict[str, str]:
    return {error.name: error.msgid for error in choice.errors}


# --- the repeat options, without a database ---


def test_no_repeat_chosen_is_a_single_booking_and_the_other_fields_are_not_checked() -> None:
    choice = parse_repeat({"repeat": "", "interval": "x", "count": "-1"}, TUESDAY)
    assert choice.rule is None
    assert choice.errors == ()


def test_weekly_on_the_chosen_weekdays_until_a_date() -> None:
    choice = parse_repeat(
        {"repeat": "weekly", "weekdays": "TH,TU", "ends": "until", "until": "2027-04-30"},
        TUESDAY,
    )
    assert choice.rule == RecurrenceRule(
        frequency=Frequency.WEEKLY,
        by_day=(DayOfWeek(1), DayOfWeek(3)),
        until=date(2027, 4, 30),
    )
    assert _text(choice) == "FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20270430"


def test_weekly_without_a_weekday_asks_for_one() -> None:
    choice = parse_repeat(
        {"repeat": "weekly", "weekdays": "", "ends": "count", "count": "5"}, TUESDAY
    )
    assert choice.rule is None
    assert _fields(choice) == {"weekdays": "Choose at least one weekday."}


def test_every_other_day_n_times() -> None:
    choice = parse_repeat(
        {"repeat": "daily", "interval": "2", "ends": "count", "count": "10"}, TUESDAY
    )
    assert choice.rule == RecurrenceRule(frequency=Frequency.DAILY, interval=2, count=10)


def test_monthly_by_date_by_weekday_and_by_last_weekday_come_from_the_chosen_date() -> None:
    by_date = parse_repeat(
        {"repeat": "monthly", "monthly_by": "day", "ends": "count", "count": "3"}, TUESDAY
    )
    nth = parse_repeat(
        {"repeat": "monthly", "monthly_by": "weekday", "ends": "count", "count": "3"}, TUESDAY
    )
    last = parse_repeat(
        {"repeat": "monthly", "monthly_by": "last_weekday", "ends": "count", "count": "3"},
        LAST_FRIDAY,
    )
    assert _text(by_date) == "FREQ=MONTHLY;BYMONTHDAY=9;COUNT=3"
    assert _text(nth) == "FREQ=MONTHLY;BYDAY=2TU;COUNT=3"
    assert _text(last) == "FREQ=MONTHLY;BYDAY=-1FR;COUNT=3"


def test_last_weekday_is_refused_for_a_date_that_is_not_the_last_of_its_month() -> None:
    choice = parse_repeat(
        {"repeat": "monthly", "monthly_by": "last_weekday", "ends": "count", "count": "3"}, TUESDAY
    )
    assert set(_fields(choice)) == {"monthly_by"}


@pytest.mark.parametrize(
    ("values", "field", "msgid"),
    [
        ({"interval": "0"}, "interval", "Enter a whole number from 1 to {most}."),
        ({"interval": "100"}, "interval", "Enter a whole number from 1 to {most}."),
        ({"interval": "２"}, "interval", "Enter a whole number from 1 to {most}."),
        ({"ends": "count", "count": ""}, "count", "Enter a whole number from 1 to {most}."),
        ({"ends": "until", "until": ""}, "until", "Enter the last date of the series."),
        ({"ends": "until", "until": "2027-02-30"}, "until", "This date does not exist."),
        ({"ends": "until", "until": "31/03/2027"}, "until", "Enter a date as YYYY-MM-DD."),
        (
            {"ends": "until", "until": "2027-03-08"},
            "until",
            "The last date must not be before the first date.",
        ),
        ({"ends": "never"}, "ends", "Choose when the series ends."),
        ({"repeat": "yearly"}, "repeat", "Choose how the meeting repeats."),
    ],
)
def test_a_wrong_choice_is_said_next_to_its_field(
    values: dict[str, str], field: str, msgid: str
) -> None:
    typed = {"repeat": "daily", "ends": "until", "until": "2027-03-31", **values}
    choice = parse_repeat(typed, TUESDAY)
    assert choice.rule is None
    assert _fields(choice)[field] == msgid


def test_a_rule_fills_the_fields_it_was_read_from() -> None:
    typed = {
        "repeat": "monthly",
        "interval": "2",
        "weekdays": "",
        "monthly_by": "weekday",
        "ends": "count",
        "until": "",
        "count": "6",
    }
    rule = parse_repeat(typed, TUESDAY).rule
    assert rule is not None
    assert form_values_of(rule, TUESDAY) == typed


def test_the_choices_are_worded_from_the_booking_date_in_both_languages() -> None:
    assert [o.label for o in monthly_options(LAST_FRIDAY, "en")] == [
        "On day 26 of each month",
        "On the fourth Friday of each month",
        "On the last Friday of each month",
    ]
    assert [o.label for o in monthly_options(TUESDAY, "ja")] == ["毎月9日", "毎月第2火曜日"]
    assert weekday_options("ja")[0].label == "月曜日"
    assert weekday_options("en")[6].value == "SU"


def test_the_rule_is_said_in_words() -> None:
    rule = parse_repeat(
        {"repeat": "weekly", "weekdays": "TU", "ends": "until", "until": "2027-03-30"}, TUESDAY
    ).rule
    assert rule is not None
    assert describe(rule, TUESDAY, 600, 660, "en").startswith("Every Tuesday, 10:00–11:00, until")
