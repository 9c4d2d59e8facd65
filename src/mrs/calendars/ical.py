"""Meetings as iCalendar (RFC 5545 / 5546), written with the `icalendar` library.

Pure: no database. `reading` turns rows into `CalendarEvent`s; this module turns those
into the text of an invitation (METHOD REQUEST or CANCEL) or a subscribable feed.

Times are local wall times in the site's zone (`DTSTART;TZID=...`) with its VTIMEZONE, so
a weekly 10:00 meeting stays at 10:00 across a clock change in every reader, as it does in
MRS. A series is one VEVENT with an RRULE; rule dates without their occurrence are EXDATEs
and an occurrence that differs from the rule (moved, retitled) is an override with a
RECURRENCE-ID naming its rule date.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vCalAddress, vRecur, vText

from mrs.reservations import recurrence
from mrs.wallclock import wall_instant

PRODUCT_ID = "-//MRS//Meeting Room System//EN"
UID_DOMAIN = "mrs"


class Method(enum.StrEnum):
    REQUEST = "REQUEST"
    CANCEL = "CANCEL"
    PUBLISH = "PUBLISH"


@dataclass(frozen=True)
class Person:
    name: str
    email: str


@dataclass(frozen=True)
class CalendarEvent:
    """One VEVENT: a meeting, a series' master, or one occurrence's override."""

    uid: str
    sequence: int
    summary: str
    description: str
    location: str
    day: date
    start_minute: int
    end_minute: int
    owner: Person | None
    attendees: tuple[Person, ...] = ()
    private: bool = False
    cancelled: bool = False
    # Waiting for a room manager's approval: STATUS:TENTATIVE until decided.
    tentative: bool = False
    # A series master: its rule (canonical RRULE text, `recurrence.parse_rule`) and the
    # rule dates that have no occurrence (cancelled, or never booked).
    rrule: str | None = None
    exdates: tuple[date, ...] = ()
    # An override of one occurrence: the rule date it stands for.
    recurrence_id: date | None = None
    # The master's start, which EXDATE and RECURRENCE-ID times are given in.
    series_start_minute: int | None = None
    updated_at: datetime | None = None


def uid_of(ical_uid: str) -> str:
    """The UID calendars know a meeting or series by (the stored random part @mrs)."""
    return f"{ical_uid}@{UID_DOMAIN}"


def _local(day: date, minute: int, tz: ZoneInfo) -> datetime:
    # The instant as a wall time in the zone (24:00 is the next day's 00:00).
    return wall_instant(day, minute, tz).astimezone(tz)


def _address(person: Person) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    if person.name:
        address.params["CN"] = vText(person.name)
    return address


def _rrule(text: str, first_date: date, start_minute: int, tz: ZoneInfo) -> vRecur:
    rule = recurrence.parse_rule(text)
    parts: dict[str, object] = {"FREQ": rule.frequency.value}
    if rule.interval != 1:
        parts["INTERVAL"] = rule.interval
    if rule.by_day:
        parts["BYDAY"] = [day.text() for day in rule.by_day]
    if rule.by_month_day:
        parts["BYMONTHDAY"] = list(rule.by_month_day)
    if rule.until is not None:
        # With a zoned DTSTART, RFC 5545 wants UNTIL in UTC: the last day's start, inclusive.
        parts["UNTIL"] = wall_instant(rule.until, start_minute, tz)
    if rule.count is not None:
        parts["COUNT"] = rule.count
    return vRecur(parts)


def _vevent(event: CalendarEvent, *, tz: ZoneInfo, stamp: datetime, method: Method) -> Event:
    vevent = Event()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", stamp.astimezone(UTC))
    vevent.add("sequence", max(0, event.sequence))
    vevent.add("dtstart", _local(event.day, event.start_minute, tz))
    vevent.add("dtend", _local(event.day, event.end_minute, tz))
    vevent.add("summary", event.summary)
    if event.description:
        vevent.add("description", event.description)
    if event.location:
        vevent.add("location", event.location)
    vevent.add("class", "PRIVATE" if event.private else "PUBLIC")
    cancelled = event.cancelled or method is Method.CANCEL
    vevent.add(
        "status", "CANCELLED" if cancelled else "TENTATIVE" if event.tentative else "CONFIRMED"
    )
    vevent.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    if event.updated_at is not None:
        vevent.add("last-modified", event.updated_at.astimezone(UTC))
    series_start = (
        event.series_start_minute if event.series_start_minute is not None else event.start_minute
    )
    if event.rrule is not None:
        vevent.add("rrule", _rrule(event.rrule, event.day, series_start, tz))
        for day in event.exdates:
            vevent.add("exdate", _local(day, series_start, tz))
    if event.recurrence_id is not None:
        vevent.add("recurrence-id", _local(event.recurrence_id, series_start, tz))
    if event.owner is not None:
        owner = _address(event.owner)
        owner.params["ROLE"] = vText("CHAIR")
        owner.params["PARTSTAT"] = vText("ACCEPTED")
        vevent.add("attendee", owner, encode=False)
    for person in event.attendees:
        attendee = _address(person)
        attendee.params["ROLE"] = vText("REQ-PARTICIPANT")
        attendee.params["PARTSTAT"] = vText("NEEDS-ACTION")
        # MRS does not read replies: say none is expected.
        attendee.params["RSVP"] = vText("FALSE")
        vevent.add("attendee", attendee, encode=False)
    return vevent


def _calendar(method: Method, tz: ZoneInfo) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method.value)
    return calendar


def _with_timezone(calendar: Calendar, events: Sequence[CalendarEvent], tz: ZoneInfo) -> str:
    if events and calendar.get_missing_tzids():
        first, last = _span(events)
        # Ahead of the events, as `add_missing_timezones` puts it.
        calendar.subcomponents.insert(0, _vtimezone(tz.key, first.year, last.year))
    text: str = calendar.to_ical().decode("utf-8")
    return text


def _span(events: Sequence[CalendarEvent]) -> tuple[date, date]:
    """A day before the first and two after the last day the events touch."""
    first = min(event.recurrence_id or event.day for event in events) - timedelta(days=1)
    last = max(_last_day(event) for event in events) + timedelta(days=2)
    return first, last


@lru_cache(maxsize=64)
def _vtimezone(key: str, first_year: int, last_year: int) -> Timezone:
    """The VTIMEZONE of zone `key` for whole years (its transitions from 1 January of
    `first_year` to the end of `last_year`). Working the transitions out takes tens of
    milliseconds, so it is done once per zone and years and shared (never modified)."""
    return Timezone.from_tzid(
        key, first_date=date(first_year, 1, 1), last_date=date(last_year + 1, 1, 1)
    )


def _last_day(event: CalendarEvent) -> date:
    if event.rrule is None:
        return max(event.day, event.recurrence_id or event.day)
    rule = recurrence.parse_rule(event.rrule)
    if rule.until is not None:
        return max(rule.until, event.day)
    # A COUNT rule: its last date (a stored rule was within the limits when written).
    return recurrence.occurrence_dates(
        rule, event.day, horizon_days=_UNBOUNDED_DAYS, max_occurrences=_UNBOUNDED_COUNT
    )[-1]


# A rule read back was checked against the limits when it was stored; reading it again
# must not fail because an administrator lowered them since.
_UNBOUNDED_DAYS = 366 * 200
_UNBOUNDED_COUNT = 1_000_000


def invitation(
    events: Sequence[CalendarEvent],
    *,
    method: Method,
    organizer: Person,
    tz: ZoneInfo,
    stamp: datetime,
) -> str:
    """An invitation (METHOD REQUEST) or its withdrawal (CANCEL) for one meeting: its
    event, or a series' master and overrides, all with the same UID. The site is the
    ORGANIZER; the owner attends as CHAIR."""
    calendar = _calendar(method, tz)
    for event in events:
        vevent = _vevent(event, tz=tz, stamp=stamp, method=method)
        vevent.add("organizer", _address(organizer), encode=False)
        calendar.add_component(vevent)
    return _with_timezone(calendar, events, tz)


def feed(events: Sequence[CalendarEvent], *, name: str, tz: ZoneInfo, stamp: datetime) -> str:
    """A subscribable calendar (METHOD PUBLISH) named `name`.

    Each event's DTSTAMP is its last change (`stamp` when it has none), so an unchanged
    meeting reads the same in every build; its VEVENT is then written once and kept
    (`_published`): a feed changes a few events between polls, and serialising is where
    a build spends its time. Components are written by icalendar and only joined here.
    """
    calendar = _calendar(Method.PUBLISH, tz)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", tz.key)
    # Subscribers may poll every 15 minutes; answers carry an ETag for cheap polls.
    calendar.add("refresh-interval", timedelta(minutes=15), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT15M")
    if events:
        # Every event's times are in `tz`: its VTIMEZONE is the one needed.
        first, last = _span(events)
        calendar.add_component(_vtimezone(tz.key, first.year, last.year))
    head = calendar.to_ical()
    end = b"END:VCALENDAR\r\n"  # the events go in before it
    body = b"".join(_published(event, tz.key, event.updated_at or stamp) for event in events)
    text: str = (head[: -len(end)] + body + end).decode("utf-8")
    return text


@lru_cache(maxsize=20_000)
def _published(event: CalendarEvent, zone: str, stamp: datetime) -> bytes:
    """One VEVENT of a feed, as icalendar writes it (kept: events are immutable values)."""
    vevent: bytes = _vevent(event, tz=ZoneInfo(zone), stamp=stamp, method=Method.PUBLISH).to_ical()
    return vevent


@dataclass(frozen=True)
class OccurrenceState:
    """What one occurrence of a series is now, for `series_events`."""

    occurrence_date: date
    day: date
    start_minute: int
    end_minute: int
    active: bool
    summary: str
    description: str
    location: str
    sequence: int
    # Its own attendees when they differ from the series' (None: the series').
    attendees: tuple[Person, ...] | None = None
    updated_at: datetime | None = None


def series_events(
    master: CalendarEvent, occurrences: Sequence[OccurrenceState]
) -> list[CalendarEvent]:
    """A series as calendars see it: `master` (its `rrule` set, `day` any date on or before
    the first rule date) with EXDATEs for rule dates that have no active occurrence, and
    an override for each active occurrence that differs from what the rule says."""
    if master.rrule is None:
        raise ValueError("a series master has a rule")
    rule = recurrence.parse_rule(master.rrule)
    dates = recurrence.occurrence_dates(
        rule, master.day, horizon_days=_UNBOUNDED_DAYS, max_occurrences=_UNBOUNDED_COUNT
    )
    by_date = {occurrence.occurrence_date: occurrence for occurrence in occurrences}
    exdates: list[date] = []
    overrides: list[CalendarEvent] = []
    for day in dates:
        occurrence = by_date.get(day)
        if occurrence is None or not occurrence.active:
            exdates.append(day)
            continue
        shown = (
            occurrence.day,
            occurrence.start_minute,
            occurrence.end_minute,
            occurrence.summary,
            occurrence.description,
            occurrence.location,
            master.attendees if occurrence.attendees is None else occurrence.attendees,
        )
        expected = (
            day,
            master.start_minute,
            master.end_minute,
            master.summary,
            master.description,
            master.location,
            master.attendees,
        )
        if shown != expected:
            overrides.append(
                CalendarEvent(
                    uid=master.uid,
                    sequence=occurrence.sequence,
                    summary=occurrence.summary,
                    description=occurrence.description,
                    location=occurrence.location,
                    day=occurrence.day,
                    start_minute=occurrence.start_minute,
                    end_minute=occurrence.end_minute,
                    owner=master.owner,
                    attendees=shown[6],
                    private=master.private,
                    recurrence_id=day,
                    series_start_minute=master.start_minute,
                    updated_at=occurrence.updated_at,
                )
            )
    head = CalendarEvent(
        uid=master.uid,
        sequence=master.sequence,
        summary=master.summary,
        description=master.description,
        location=master.location,
        # DTSTART is the first rule date: readers differ on a DTSTART the rule skips.
        day=dates[0],
        start_minute=master.start_minute,
        end_minute=master.end_minute,
        owner=master.owner,
        attendees=master.attendees,
        private=master.private,
        cancelled=master.cancelled,
        rrule=master.rrule,
        exdates=tuple(exdates),
        series_start_minute=master.start_minute,
        updated_at=master.updated_at,
    )
    return [head, *overrides]
