"""Recurrence rules of a series: an RFC 5545 RRULE subset read, written back in one canonical
form, expanded into dates and described in words. Pure: no database, no clock.

The subset: `FREQ` DAILY | WEEKLY | MONTHLY, `INTERVAL`, `BYDAY` (weekdays; with MONTHLY
also an ordinal such as `2TU` or `-1FR`), `BYMONTHDAY` (MONTHLY), and `UNTIL` (a date, or a
date-time of which the date counts) or `COUNT`. One of UNTIL and COUNT is required: a
series without an end would have to be extended by a job forever, and the caps (a horizon
in days and a number of occurrences) are refused rather than silently cut short.

Expansion is on dates only: a series keeps its local wall time (minutes since midnight,
like every reservation), so 10:00 stays 10:00 across a DST change. Whether a wall time
exists on a given date is the booking's business (`wallclock.wall_time_exists`).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Literal

from babel.dates import get_day_names
from dateutil import rrule

from mrs.i18n import format_day
from mrs.reservations.errors import (
    InvalidRule,
    NoOccurrences,
    RuleWithoutEnd,
    SeriesTooLong,
    TooManyOccurrences,
)
from mrs.wallclock import format_minute

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# A rule is short; anything longer is not one of ours (and not worth parsing).
RULE_MAX_LENGTH = 500


class Frequency(enum.StrEnum):
    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"


@dataclass(frozen=True)
class DayOfWeek:
    """A `BYDAY` entry: a weekday (0 = Monday) and, in a monthly rule, which one of the
    month (1 to 5 from the start, -1 to -5 from the end; None: every one)."""

    weekday: int
    ordinal: int | None = None

    def text(self) -> str:
        prefix = "" if self.ordinal is None else str(self.ordinal)
        return f"{prefix}{WEEKDAY_CODES[self.weekday]}"


@dataclass(frozen=True)
class RecurrenceRule:
    frequency: Frequency
    interval: int = 1
    by_day: tuple[DayOfWeek, ...] = ()
    by_month_day: tuple[int, ...] = ()
    until: date | None = None
    count: int | None = None

    def text(self) -> str:
        """The rule in canonical RRULE form: the same rule always reads the same."""
        parts = [f"FREQ={self.frequency.value}"]
        if self.interval != 1:
            parts.append(f"INTERVAL={self.interval}")
        if self.by_day:
            parts.append("BYDAY=" + ",".join(day.text() for day in self.by_day))
        if self.by_month_day:
            parts.append("BYMONTHDAY=" + ",".join(str(day) for day in self.by_month_day))
        if self.until is not None:
            parts.append(f"UNTIL={self.until:%Y%m%d}")
        if self.count is not None:
            parts.append(f"COUNT={self.count}")
        return ";".join(parts)

    def ended_before(self, day: date) -> RecurrenceRule:
        """The same rule ending on the day before `day` (the old half of a series split
        at `day`): UNTIL replaces COUNT."""
        return replace(self, until=day - timedelta(days=1), count=None)


_BYDAY = re.compile(r"([+-]?[1-5])?(MO|TU|WE|TH|FR|SA|SU)")
# ASCII digits only: `str.isdigit` and `\d` also take "²" (which `int` then refuses with a
# crash) and other scripts' digits (which would be read back as a different rule).
_UNTIL = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})(T[0-9]{6}Z?)?")
_NUMBER = re.compile(r"[0-9]{1,5}")
_SIGNED_NUMBER = re.compile(r"[+-]?[0-9]{1,2}")


def _positive(name: str, value: str, *, most: int) -> int:
    if _NUMBER.fullmatch(value) is None or not 1 <= int(value) <= most:
        raise InvalidRule(part=f"{name}={value}")
    return int(value)


def parse_rule(text: str) -> RecurrenceRule:
    """Read an RRULE (with or without the `RRULE:` prefix), or raise a 422 naming the part
    that is wrong. Only the subset above; any other part is refused, not ignored."""
    body = text.strip()
    if len(body) > RULE_MAX_LENGTH or not body:
        raise InvalidRule(part=body[:40] or "empty")
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    fields: dict[str, str] = {}
    for part in body.upper().split(";"):
        name, equals, value = part.partition("=")
        if not equals or not value or name in fields:
            raise InvalidRule(part=part or ";")
        fields[name] = value
    unknown = set(fields) - {"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "UNTIL", "COUNT"}
    if unknown:
        raise InvalidRule(part=sorted(unknown)[0])
    try:
        frequency = Frequency(fields.get("FREQ", ""))
    except ValueError:
        raise InvalidRule(part=f"FREQ={fields.get('FREQ', '')}") from None
    interval = _positive("INTERVAL", fields.get("INTERVAL", "1"), most=99)
    by_day = tuple(_day(value, frequency) for value in _list(fields.get("BYDAY")))
    if by_day and frequency is Frequency.DAILY:
        raise InvalidRule(part="BYDAY with FREQ=DAILY")
    by_month_day = tuple(_month_day(value) for value in _list(fields.get("BYMONTHDAY")))
    if by_month_day and frequency is not Frequency.MONTHLY:
        raise InvalidRule(part="BYMONTHDAY without FREQ=MONTHLY")
    if by_month_day and by_day:
        raise InvalidRule(part="BYDAY with BYMONTHDAY")
    until = _until(fields["UNTIL"]) if "UNTIL" in fields else None
    count = _positive("COUNT", fields["COUNT"], most=99999) if "COUNT" in fields else None
    if until is not None and count is not None:
        raise InvalidRule(part="UNTIL with COUNT")
    if until is None and count is None:
        raise RuleWithoutEnd()
    return RecurrenceRule(
        frequency=frequency,
        interval=interval,
        by_day=tuple(sorted(set(by_day), key=lambda d: (d.ordinal or 0, d.weekday))),
        by_month_day=tuple(sorted(set(by_month_day))),
        until=until,
        count=count,
    )


def _list(value: str | None) -> list[str]:
    return [] if value is None else value.split(",")


def _day(value: str, frequency: Frequency) -> DayOfWeek:
    match = _BYDAY.fullmatch(value)
    if match is None:
        raise InvalidRule(part=f"BYDAY={value}")
    ordinal = int(match[1]) if match[1] else None
    if ordinal is not None and frequency is not Frequency.MONTHLY:
        raise InvalidRule(part=f"BYDAY={value} without FREQ=MONTHLY")
    return DayOfWeek(WEEKDAY_CODES.index(match[2]), ordinal)


def _month_day(value: str) -> int:
    if _SIGNED_NUMBER.fullmatch(value) is None or not 1 <= abs(int(value)) <= 31:
        raise InvalidRule(part=f"BYMONTHDAY={value}")
    return int(value)


def _until(value: str) -> date:
    match = _UNTIL.fullmatch(value)
    if match is None:
        raise InvalidRule(part=f"UNTIL={value}")
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise InvalidRule(part=f"UNTIL={value}") from None


_FREQUENCIES: dict[Frequency, Literal[0, 1, 2, 3, 4, 5, 6]] = {
    Frequency.DAILY: rrule.DAILY,
    Frequency.WEEKLY: rrule.WEEKLY,
    Frequency.MONTHLY: rrule.MONTHLY,
}


def occurrence_dates(
    rule: RecurrenceRule, first_date: date, *, horizon_days: int, max_occurrences: int
) -> list[date]:
    """The dates the rule gives from `first_date` on (the first date itself only when it
    fits the rule, as RFC 5545 reads it). Refused (422) when a date would fall more than
    `horizon_days` after the first date or there would be more than `max_occurrences`."""
    if rule.count is not None and rule.count > max_occurrences:
        raise TooManyOccurrences(limit=max_occurrences)
    if _never_matches(rule, first_date):
        raise NoOccurrences()
    last_allowed = _days_after(first_date, horizon_days)
    dates = rrule.rrule(
        _FREQUENCIES[rule.frequency],
        dtstart=datetime.combine(first_date, datetime.min.time()),
        interval=rule.interval,
        byweekday=[rrule.weekday(day.weekday, day.ordinal) for day in rule.by_day] or None,
        bymonthday=list(rule.by_month_day) or None,
        until=None if rule.until is None else datetime.combine(rule.until, datetime.min.time()),
        count=rule.count,
    )
    found: list[date] = []
    for moment in dates:
        day = moment.date()
        if day > last_allowed:
            raise SeriesTooLong(last_date=last_allowed.isoformat(), days=horizon_days)
        if len(found) == max_occurrences:
            raise TooManyOccurrences(limit=max_occurrences)
        found.append(day)
    if not found:
        raise NoOccurrences()
    return found


def _days_after(first_date: date, days: int) -> date:
    try:
        return first_date + timedelta(days=days)
    except OverflowError:
        return date.max


# The most days each month can have (February in a leap year).
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _never_matches(rule: RecurrenceRule, first_date: date) -> bool:
    """Whether a monthly rule can give no date at all: only when it returns to the same
    month every time (an interval of 12, 24...) and asks for days that month never has
    ("every 12 months on the 30th" from February). dateutil would look for one until the
    year 9999, which takes a noticeable fraction of a second; any other rule visits a
    31-day month within a year."""
    if rule.frequency is not Frequency.MONTHLY or rule.interval % 12 or not rule.by_month_day:
        return False
    most = _MONTH_DAYS[first_date.month - 1]
    return all(abs(day) > most for day in rule.by_month_day)


# --- in words ---

_ORDINALS_EN = {
    1: "first",
    2: "second",
    3: "third",
    4: "fourth",
    5: "fifth",
    -1: "last",
    -2: "second-to-last",
    -3: "third-to-last",
    -4: "fourth-to-last",
    -5: "fifth-to-last",
}


def _weekday_name(locale: str, weekday: int) -> str:
    return str(get_day_names("wide", locale=locale)[weekday])


def describe(
    rule: RecurrenceRule, first_date: date, start_minute: int, end_minute: int, locale: str
) -> str:
    """The series in words, in the reader's language:
    "毎週火曜日 10:00–11:00、2027年3月31日(水)まで" / "Every Tuesday, 10:00–11:00, until Wed 31 Mar 2027"."""
    times = f"{format_minute(start_minute)}–{format_minute(end_minute)}"
    if locale == "ja":
        return _describe_ja(rule, first_date, times)
    return _describe_en(rule, first_date, times)


def _days_of(rule: RecurrenceRule, first_date: date) -> tuple[DayOfWeek, ...]:
    """BYDAY, or what the rule implies: a weekly rule without it repeats on the first
    date's weekday."""
    if rule.by_day or rule.frequency is not Frequency.WEEKLY:
        return rule.by_day
    return (DayOfWeek(first_date.weekday()),)


def _describe_en(rule: RecurrenceRule, first_date: date, times: str) -> str:
    every = {Frequency.DAILY: "day", Frequency.WEEKLY: "week", Frequency.MONTHLY: "month"}[
        rule.frequency
    ]
    period = f"Every {every}" if rule.interval == 1 else f"Every {rule.interval} {every}s"
    days = _days_of(rule, first_date)
    if rule.frequency is Frequency.WEEKLY:
        names = _joined_en([_weekday_name("en", day.weekday) for day in days])
        head = f"Every {names}" if rule.interval == 1 else f"{period} on {names}"
    elif rule.frequency is Frequency.MONTHLY and days:
        names = _joined_en(
            [
                f"the {_ORDINALS_EN[day.ordinal]} {_weekday_name('en', day.weekday)}"
                if day.ordinal
                else f"every {_weekday_name('en', day.weekday)}"
                for day in days
            ]
        )
        head = f"{period} on {names}"
    elif rule.frequency is Frequency.MONTHLY:
        month_days = rule.by_month_day or (first_date.day,)
        names = _joined_en([_month_day_en(day) for day in month_days])
        head = f"{period} on the {names}"
    else:
        head = period
    end = (
        f"until {format_day('en', rule.until)}"
        if rule.until is not None
        else f"{rule.count} time{'s' if rule.count != 1 else ''}"
    )
    return f"{head}, {times}, {end}"


def _month_day_en(day: int) -> str:
    if day == -1:
        return "last day"
    if day < 0:
        return f"{-day}{_suffix(-day)} last day"
    return f"{day}{_suffix(day)}"


def _suffix(number: int) -> str:
    if 10 <= number % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")


def _joined_en(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _describe_ja(rule: RecurrenceRule, first_date: date, times: str) -> str:
    days = _days_of(rule, first_date)
    if rule.frequency is Frequency.DAILY:
        head = "毎日" if rule.interval == 1 else f"{rule.interval}日ごと"
    elif rule.frequency is Frequency.WEEKLY:
        names = "・".join(_weekday_name("ja", day.weekday) for day in days)
        head = f"毎週{names}" if rule.interval == 1 else f"{rule.interval}週間ごとの{names}"
    else:
        period = "毎月" if rule.interval == 1 else f"{rule.interval}か月ごとの"
        if days:
            names = "・".join(
                (
                    "最終"
                    if day.ordinal == -1
                    else f"最後から{-day.ordinal}番目の"
                    if day.ordinal and day.ordinal < 0
                    else f"第{day.ordinal}"
                    if day.ordinal
                    else "毎"
                )
                + _weekday_name("ja", day.weekday)
                for day in days
            )
        else:
            names = "・".join(
                "末日" if day == -1 else f"末日の{-day - 1}日前" if day < 0 else f"{day}日"
                for day in (rule.by_month_day or (first_date.day,))
            )
        head = f"{period}{names}"
    end = f"{format_day('ja', rule.until)}まで" if rule.until is not None else f"{rule.count}回"
    return f"{head} {times}、{end}"
