"""Calendars read back by independent readers: recurring-ical-events over icalendar, and
vobject. Both must expand a calendar to the same occurrences, which tests compare with
the database."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
import vobject

Occurrence = tuple[datetime, datetime]


def expanded(text: str, tz: ZoneInfo) -> list[Occurrence]:
    """The occurrences (local start, end) recurring-ical-events finds; a cancelled event
    has none."""
    calendar = icalendar.Calendar.from_ical(text)
    found = recurring_ical_events.of(calendar).between(date(2020, 1, 1), date(2040, 1, 1))
    return sorted(
        (event["DTSTART"].dt.astimezone(tz), event["DTEND"].dt.astimezone(tz))
        for event in found
        if str(event.get("STATUS", "")) != "CANCELLED"
    )


def vobject_starts(text: str, tz: ZoneInfo) -> list[datetime]:
    """Occurrence starts as vobject expands them: each master's rule set (EXDATEs out),
    with the instance an override's RECURRENCE-ID names replaced by the override's start."""
    # vobject keeps the first VTIMEZONE it read under a TZID for the whole process, and
    # each calendar's VTIMEZONE covers only its own dates: read this one's afresh.
    registry = vars(vobject.icalendar)["__tzidMap"]
    for timezone in icalendar.Calendar.from_ical(text).walk("VTIMEZONE"):
        registry.pop(str(timezone["TZID"]), None)
    component = vobject.readOne(text)
    starts: set[datetime] = set()
    replaced: set[datetime] = set()
    moved_to: set[datetime] = set()
    for event in component.vevent_list:
        if hasattr(event, "status") and event.status.value == "CANCELLED":
            continue
        if hasattr(event, "recurrence_id"):
            replaced.add(event.recurrence_id.value.astimezone(tz))
            moved_to.add(event.dtstart.value.astimezone(tz))
        elif hasattr(event, "rrule"):
            starts.update(moment.astimezone(tz) for moment in event.getrruleset(addRDate=True))
        else:
            starts.add(event.dtstart.value.astimezone(tz))
    return sorted((starts - replaced) | moved_to)


def header(text: str) -> dict[str, str]:
    """METHOD, and UID and SEQUENCE of the first event, as icalendar reads them."""
    calendar = icalendar.Calendar.from_ical(text)
    first = next(iter(calendar.walk("VEVENT")))
    return {
        "method": str(calendar["METHOD"]),
        "uid": str(first["UID"]),
        "sequence": str(first.get("SEQUENCE", 0)),
        "status": str(first.get("STATUS", "")),
        "recurrence_id": first["RECURRENCE-ID"].dt.isoformat() if "RECURRENCE-ID" in first else "",
    }
