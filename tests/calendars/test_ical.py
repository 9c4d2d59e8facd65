"""The iCalendar writer, read back by independent readers (recurring-ical-events over
icalendar, and vobject): what they expand is what MRS holds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject

from mrs.calendars.ical import (
    CalendarEvent,
    Method,
    OccurrenceState,
    Person,
    feed,
    invitation,
    series_events,
    uid_of,
)
from tests.calendars.readers import expanded, vobject_starts

NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
SITE = Person("MRS", "mrs@example.com")
OWNER = Person("Taro Yamada", "taro@example.com")
GUEST = Person("Hanako Sato", "hanako@example.com")
STAMP = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


def _meeting(**fields: object) -> CalendarEvent:
    values: dict[str, object] = {
        "uid": uid_of("0123456789abcdef0123456789abcdef"),
        "sequence": 0,
        "summary": "Planning",
        "description": "Quarterly plan",
        "location": "Room A, 3F",
        "day": date(2026, 10, 20),
        "start_minute": 600,
        "end_minute": 660,
        "owner": OWNER,
        "attendees": (GUEST,),
    }
    values.update(fields)
    return CalendarEvent(**values)  # type: ignore[arg-type]


def _at(day: date, hour: int, minute: int, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)


def test_a_meeting_invitation_reads_back_as_the_meeting() -> None:
    text = invitation([_meeting()], method=Method.REQUEST, organizer=SITE, tz=TOKYO, stamp=STAMP)
    calendar = icalendar.Calendar.from_ical(text)
    assert calendar["METHOD"] == "REQUEST"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Asia/Tokyo"]
    (event,) = calendar.walk("VEVENT")
    assert event["UID"] == "0123456789abcdef0123456789abcdef@mrs"
    assert event["SEQUENCE"] == 0
    assert event["ORGANIZER"] == "mailto:mrs@example.com"
    attendees = {str(address): address.params for address in event["ATTENDEE"]}
    assert attendees["mailto:taro@example.com"]["ROLE"] == "CHAIR"
    assert attendees["mailto:taro@example.com"]["PARTSTAT"] == "ACCEPTED"
    assert attendees["mailto:hanako@example.com"]["PARTSTAT"] == "NEEDS-ACTION"
    assert str(event["LOCATION"]) == "Room A, 3F"
    assert event["DTSTAMP"].dt == STAMP
    day = date(2026, 10, 20)
    assert expanded(text, TOKYO) == [(_at(day, 10, 0, TOKYO), _at(day, 11, 0, TOKYO))]
    assert vobject_starts(text, TOKYO) == [_at(day, 10, 0, TOKYO)]


def test_a_cancellation_keeps_the_uid_and_says_cancelled() -> None:
    text = invitation(
        [_meeting(sequence=3)], method=Method.CANCEL, organizer=SITE, tz=TOKYO, stamp=STAMP
    )
    calendar = icalendar.Calendar.from_ical(text)
    (event,) = calendar.walk("VEVENT")
    assert calendar["METHOD"] == "CANCEL"
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 3
    assert event["UID"] == uid_of("0123456789abcdef0123456789abcdef")


def test_a_meeting_ending_at_midnight_ends_the_next_day() -> None:
    text = invitation(
        [_meeting(start_minute=1380, end_minute=1440)],
        method=Method.REQUEST,
        organizer=SITE,
        tz=TOKYO,
        stamp=STAMP,
    )
    ((start, end),) = expanded(text, TOKYO)
    assert end - start == timedelta(hours=1)
    assert end == _at(date(2026, 10, 21), 0, 0, TOKYO)


def _weekly_across_the_clock_change() -> tuple[list[CalendarEvent], list[date]]:
    """Tuesdays 10:00–11:00 from 20 Oct to 17 Nov 2026 in New York (clocks go back on
    1 Nov): 3 Nov cancelled, 10 Nov moved to Wednesday 11 Nov 14:00–15:00."""
    days = [date(2026, 10, 20) + timedelta(weeks=week) for week in range(5)]
    master = _meeting(rrule="FREQ=WEEKLY;BYDAY=TU;UNTIL=20261117", sequence=1)
    states = [
        OccurrenceState(day, day, 600, 660, True, "Planning", "Quarterly plan", "Room A, 3F", 1)
        for day in days
    ]
    states[2] = OccurrenceState(
        days[2], days[2], 600, 660, False, "Planning", "Quarterly plan", "Room A, 3F", 2
    )
    states[3] = OccurrenceState(
        days[3], date(2026, 11, 11), 840, 900, True, "Planning", "Quarterly plan", "Room A, 3F", 2
    )
    return series_events(master, states), days


def test_a_series_reads_back_as_its_occurrences_across_the_clock_change() -> None:
    events, days = _weekly_across_the_clock_change()
    text = invitation(events, method=Method.REQUEST, organizer=SITE, tz=NEW_YORK, stamp=STAMP)
    expected = [
        (_at(days[0], 10, 0, NEW_YORK), _at(days[0], 11, 0, NEW_YORK)),
        (_at(days[1], 10, 0, NEW_YORK), _at(days[1], 11, 0, NEW_YORK)),
        (_at(date(2026, 11, 11), 14, 0, NEW_YORK), _at(date(2026, 11, 11), 15, 0, NEW_YORK)),
        (_at(days[4], 10, 0, NEW_YORK), _at(days[4], 11, 0, NEW_YORK)),
    ]
    assert expanded(text, NEW_YORK) == expected
    # Wall time stays 10:00 while the offset changes from -4 to -5.
    assert expected[0][0].utcoffset() == timedelta(hours=-4)
    assert expected[3][0].utcoffset() == timedelta(hours=-5)
    assert vobject_starts(text, NEW_YORK) == [start for start, _ in expected]
    component = vobject.readOne(text)
    override = next(e for e in component.vevent_list if hasattr(e, "recurrence_id"))
    assert override.recurrence_id.value.astimezone(NEW_YORK) == _at(days[3], 10, 0, NEW_YORK)
    assert override.dtstart.value.astimezone(NEW_YORK) == expected[2][0]


def test_the_series_until_is_utc_and_inclusive() -> None:
    events, _ = _weekly_across_the_clock_change()
    calendar = icalendar.Calendar.from_ical(
        invitation(events, method=Method.REQUEST, organizer=SITE, tz=NEW_YORK, stamp=STAMP)
    )
    master = next(e for e in calendar.walk("VEVENT") if "RRULE" in e)
    (until,) = master["RRULE"]["UNTIL"]
    assert until == datetime(2026, 11, 17, 15, 0, tzinfo=UTC)  # 10:00 EST


def test_a_series_whose_first_date_does_not_fit_the_rule_starts_on_its_first_rule_date() -> None:
    master = _meeting(day=date(2026, 10, 19), rrule="FREQ=WEEKLY;BYDAY=TU;COUNT=2")
    states = [
        OccurrenceState(day, day, 600, 660, True, "Planning", "Quarterly plan", "Room A, 3F", 0)
        for day in (date(2026, 10, 20), date(2026, 10, 27))
    ]
    events = series_events(master, states)
    assert [event.day for event in events] == [date(2026, 10, 20)]
    text = feed(events, name="Mine", tz=TOKYO, stamp=STAMP)
    assert [start.date() for start, _ in expanded(text, TOKYO)] == [
        date(2026, 10, 20),
        date(2026, 10, 27),
    ]


def test_a_rule_date_never_booked_is_an_exdate() -> None:
    master = _meeting(rrule="FREQ=DAILY;COUNT=3")
    only_first = [
        OccurrenceState(
            date(2026, 10, 20),
            date(2026, 10, 20),
            600,
            660,
            True,
            "Planning",
            "Quarterly plan",
            "Room A, 3F",
            0,
        )
    ]
    (head,) = series_events(master, only_first)
    assert head.exdates == (date(2026, 10, 21), date(2026, 10, 22))
    text = feed([head], name="Mine", tz=TOKYO, stamp=STAMP)
    assert [start.date() for start, _ in expanded(text, TOKYO)] == [date(2026, 10, 20)]


def test_a_feed_is_published_with_its_name_and_zone() -> None:
    text = feed([_meeting()], name="Room A", tz=TOKYO, stamp=STAMP)
    calendar = icalendar.Calendar.from_ical(text)
    assert calendar["METHOD"] == "PUBLISH"
    assert calendar["X-WR-CALNAME"] == "Room A"
    assert calendar["X-WR-TIMEZONE"] == "Asia/Tokyo"
    assert "ORGANIZER" not in calendar.walk("VEVENT")[0]


def test_a_hidden_owner_leaves_no_attendee() -> None:
    text = feed(
        [_meeting(owner=None, attendees=(), summary="Reserved", description="", private=True)],
        name="Room A",
        tz=TOKYO,
        stamp=STAMP,
    )
    (event,) = icalendar.Calendar.from_ical(text).walk("VEVENT")
    assert "ATTENDEE" not in event
    assert "DESCRIPTION" not in event
    assert event["CLASS"] == "PRIVATE"


def test_text_with_line_breaks_and_commas_survives() -> None:
    summary = "Budget, Q3; review\nand 日本語の会議"
    text = invitation(
        [_meeting(summary=summary)], method=Method.REQUEST, organizer=SITE, tz=TOKYO, stamp=STAMP
    )
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    (event,) = icalendar.Calendar.from_ical(text).walk("VEVENT")
    assert str(event["SUMMARY"]) == summary
    assert vobject.readOne(text).vevent.summary.value == summary


@pytest.mark.parametrize("method", [Method.REQUEST, Method.CANCEL])
def test_every_line_ends_with_crlf(method: Method) -> None:
    text = invitation([_meeting()], method=method, organizer=SITE, tz=TOKYO, stamp=STAMP)
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
