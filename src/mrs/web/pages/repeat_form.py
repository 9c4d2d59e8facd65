"""The repeat options of the booking form, read into a recurrence rule. Pure: no database,
no request, so every wording of a wrong choice is tested on its own.

The form offers what people say ("every week on Monday and Thursday", "every month on
the 2nd Tuesday", "10 times") rather than an RRULE; this module is the one place that
turns those fields into `recurrence.RecurrenceRule`, with a message next to the field
that is wrong. How long a series may run and how many dates it may hold is the
service's rule (`recurrence.occurrence_dates`), not repeated here.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from babel.dates import get_day_names
from starlette.datastructures import FormData

from mrs.http.types import parse_iso_date
from mrs.i18n import translate
from mrs.reservations.recurrence import (
    WEEKDAY_CODES,
    DayOfWeek,
    Frequency,
    RecurrenceRule,
)
from mrs.web.forms import MAX_VALUE_LENGTH
from mrs.web.i18n import N_

REPEAT_FIELDS = ("repeat", "interval", "monthly_by", "ends", "until", "count")
REPEAT_CHOICES = ("", "daily", "weekly", "monthly")
MONTHLY_CHOICES = ("day", "weekday", "last_weekday")
INTERVAL_MAX = 99
COUNT_MAX = 999

_FREQUENCIES = {
    "daily": Frequency.DAILY,
    "weekly": Frequency.WEEKLY,
    "monthly": Frequency.MONTHLY,
}
_ORDINALS = {
    1: N_("first"),
    2: N_("second"),
    3: N_("third"),
    4: N_("fourth"),
    5: N_("fifth"),
}


@dataclass(frozen=True)
class FieldError:
    """A message (an English msgid and its parameters) for one field of the form."""

    name: str
    msgid: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RepeatChoice:
    """What the repeat fields say: no repeat (`rule` None, no errors), a rule, or errors."""

    rule: RecurrenceRule | None = None
    errors: tuple[FieldError, ...] = ()

    @property
    def repeats(self) -> bool:
        return self.rule is not None


def repeat_values(form: FormData) -> dict[str, str]:
    """The repeat fields as typed; the weekday checkboxes as one comma-separated value."""
    values: dict[str, str] = {}
    for name in REPEAT_FIELDS:
        raw = form.get(name)
        values[name] = (
            raw.replace("\x00", "").strip()[:MAX_VALUE_LENGTH] if isinstance(raw, str) else ""
        )
    days = [value for value in form.getlist("weekdays") if value in WEEKDAY_CODES]
    values["weekdays"] = ",".join(dict.fromkeys(days))
    return values


def week_of_month(day: date) -> int:
    """Which of its weekday the date is in its month: the 9th is the 2nd Tuesday (1–5)."""
    return (day.day - 1) // 7 + 1


def is_last_of_month(day: date) -> bool:
    """Whether no later date of the month falls on the same weekday (the last Friday)."""
    return day.day + 7 > calendar.monthrange(day.year, day.month)[1]


def parse_repeat(values: Mapping[str, str], first_date: date) -> RepeatChoice:
    """The rule the repeat fields describe for a series starting on `first_date`, or the
    messages for the fields that are wrong. Nothing chosen is no repeat (a single
    booking): the fields below the choice are then ignored, not checked."""
    kind = values.get("repeat", "")
    if kind == "":
        return RepeatChoice()
    errors: list[FieldError] = []
    frequency = _FREQUENCIES.get(kind)
    if frequency is None:
        return RepeatChoice(errors=(FieldError("repeat", N_("Choose how the meeting repeats.")),))
    interval = _number(values.get("interval", "") or "1", most=INTERVAL_MAX)
    if interval is None:
        errors.append(
            FieldError(
                "interval",
                N_("Enter a whole number from 1 to {most}."),
                {"most": INTERVAL_MAX},
            )
        )
    by_day: tuple[DayOfWeek, ...] = ()
    by_month_day: tuple[int, ...] = ()
    if frequency is Frequency.WEEKLY:
        codes = [code for code in values.get("weekdays", "").split(",") if code]
        if not codes:
            errors.append(FieldError("weekdays", N_("Choose at least one weekday.")))
        by_day = tuple(
            DayOfWeek(WEEKDAY_CODES.index(code)) for code in WEEKDAY_CODES if code in codes
        )
    elif frequency is Frequency.MONTHLY:
        monthly_by = values.get("monthly_by", "") or "day"
        if monthly_by == "day":
            by_month_day = (first_date.day,)
        elif monthly_by == "weekday":
            by_day = (DayOfWeek(first_date.weekday(), week_of_month(first_date)),)
        elif monthly_by == "last_weekday" and is_last_of_month(first_date):
            by_day = (DayOfWeek(first_date.weekday(), -1),)
        else:
            errors.append(
                FieldError("monthly_by", N_("Choose which day of the month the meeting repeats."))
            )
    until, count = _end(values, first_date, errors)
    if errors or interval is None:
        return RepeatChoice(errors=tuple(errors))
    return RepeatChoice(
        rule=RecurrenceRule(
            frequency=frequency,
            interval=interval,
            by_day=by_day,
            by_month_day=by_month_day,
            until=until,
            count=count,
        )
    )


def _end(
    values: Mapping[str, str], first_date: date, errors: list[FieldError]
) -> tuple[date | None, int | None]:
    """UNTIL or COUNT, from the "ends" choice and its field."""
    ends = values.get("ends", "") or "until"
    if ends == "count":
        count = _number(values.get("count", ""), most=COUNT_MAX)
        if count is None:
            errors.append(
                FieldError(
                    "count", N_("Enter a whole number from 1 to {most}."), {"most": COUNT_MAX}
                )
            )
        return None, count
    if ends != "until":
        errors.append(FieldError("ends", N_("Choose when the series ends.")))
        return None, None
    typed = values.get("until", "")
    if not typed:
        errors.append(FieldError("until", N_("Enter the last date of the series.")))
        return None, None
    try:
        until = parse_iso_date(typed)
    except ValueError as exc:
        errors.append(FieldError("until", str(exc)))
        return None, None
    if until < first_date:
        errors.append(FieldError("until", N_("The last date must not be before the first date.")))
        return None, None
    return until, None


def _number(typed: str, *, most: int) -> int | None:
    if not typed.isascii() or not typed.isdigit() or len(typed) > 4:
        return None
    number = int(typed)
    return number if 1 <= number <= most else None


def form_values_of(rule: RecurrenceRule, first_date: date) -> dict[str, str]:
    """The repeat fields filled from a rule (the series edit form starts from it)."""
    frequency = {value: key for key, value in _FREQUENCIES.items()}[rule.frequency]
    monthly_by = "day"
    if rule.by_day and rule.frequency is Frequency.MONTHLY:
        monthly_by = "last_weekday" if rule.by_day[0].ordinal == -1 else "weekday"
    weekdays = rule.by_day if rule.frequency is Frequency.WEEKLY else ()
    return {
        "repeat": frequency,
        "interval": str(rule.interval),
        "weekdays": ",".join(WEEKDAY_CODES[day.weekday] for day in weekdays)
        or (WEEKDAY_CODES[first_date.weekday()] if rule.frequency is Frequency.WEEKLY else ""),
        "monthly_by": monthly_by,
        "ends": "count" if rule.count is not None else "until",
        "until": "" if rule.until is None else rule.until.isoformat(),
        "count": "" if rule.count is None else str(rule.count),
    }


@dataclass(frozen=True)
class Option:
    value: str
    label: str


def weekday_options(locale: str) -> list[Option]:
    """The seven weekday checkboxes, Monday first, named in the reader's language."""
    names = get_day_names("wide", locale=locale)
    return [Option(code, str(names[index])) for index, code in enumerate(WEEKDAY_CODES)]


def monthly_options(first_date: date, locale: str) -> list[Option]:
    """The monthly choices the booking date allows, in words: "On day 15 of each month",
    "On the second Tuesday of each month", and "On the last Friday of each month" when
    the date is its month's last such weekday."""
    weekday = str(get_day_names("wide", locale=locale)[first_date.weekday()])
    options = [Option("day", translate(locale, "On day {day} of each month", day=first_date.day))]
    nth = week_of_month(first_date)
    options.append(
        Option(
            "weekday",
            translate(
                locale,
                "On the {ordinal} {weekday} of each month",
                ordinal=translate(locale, _ORDINALS[nth]),
                weekday=weekday,
            ),
        )
    )
    if is_last_of_month(first_date):
        options.append(
            Option(
                "last_weekday",
                translate(locale, "On the last {weekday} of each month", weekday=weekday),
            )
        )
    return options


def error_messages(errors: Sequence[FieldError], locale: str) -> dict[str, str]:
    """The messages by field, translated (the first one of a field wins)."""
    messages: dict[str, str] = {}
    for error in errors:
        messages.setdefault(error.name, translate(locale, error.msgid, **error.params))
    return messages
