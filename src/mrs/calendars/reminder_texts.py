"""The reminder mail, in the recipient's language: plain text and an HTML alternative."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from markupsafe import Markup

from mrs.i18n import format_day, supported_locale, translate
from mrs.wallclock import format_minute

# Every msgid here, for the test that checks each has a Japanese translation.
SUBJECT = "Reminder: {title} at {start}"
INTRO = "Your meeting {title} starts at {start}."
DATE = "Date"
TIME = "Time"
ROOM = "Room"
LOCATION = "Location"
OPEN = "Open the meeting"
WHY = (
    "You asked for a reminder {minutes} minutes before your meetings. "
    "Change it under Mail and reminders:"
)
MSGIDS = (SUBJECT, INTRO, DATE, TIME, ROOM, LOCATION, OPEN, WHY)


@dataclass(frozen=True)
class ReminderMail:
    subject: str
    body: str
    html_body: str


@dataclass(frozen=True)
class Meeting:
    """A meeting as the reminder names it (the title already in the reader's words)."""

    title: str
    room: str
    location: str | None
    day: date
    start_minute: int
    end_minute: int
    link: str


def reminder_mail(
    locale: str | None, meeting: Meeting, *, minutes: int, settings_link: str
) -> ReminderMail:
    """The reminder of `meeting` for someone who chose it `minutes` ahead."""
    loc = supported_locale(locale)
    start = format_minute(meeting.start_minute)
    facts = [
        (translate(loc, DATE), format_day(loc, meeting.day)),
        (translate(loc, TIME), f"{start}–{format_minute(meeting.end_minute)}"),
        (translate(loc, ROOM), meeting.room),
    ]
    if meeting.location:
        facts.append((translate(loc, LOCATION), meeting.location))
    intro = translate(loc, INTRO, title=meeting.title, start=start)
    why = translate(loc, WHY, minutes=minutes)
    open_label = translate(loc, OPEN)
    text = "\n".join(
        [
            intro,
            "",
            *(f"{label}: {value}" for label, value in facts),
            "",
            f"{open_label}: {meeting.link}",
            "",
            why,
            settings_link,
            "",
            "— MRS",
        ]
    )
    # Markup.format escapes every argument: titles and room names are typed by people.
    rows = Markup("").join(
        Markup('<tr><th scope="row">{}</th><td>{}</td></tr>').format(label, value)
        for label, value in facts
    )
    html = Markup(
        '<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{subject}</title>'
        "</head><body><p>{intro}</p><table>{rows}</table>"
        '<p><a href="{link}">{open}</a></p>'
        '<p>{why} <a href="{settings}">{settings}</a></p><p>— MRS</p></body></html>'
    ).format(
        lang=loc,
        subject=translate(loc, SUBJECT, title=meeting.title, start=start),
        intro=intro,
        rows=rows,
        link=meeting.link,
        open=open_label,
        why=why,
        settings=settings_link,
    )
    return ReminderMail(
        subject=translate(loc, SUBJECT, title=meeting.title, start=start),
        body=text,
        html_body=str(html),
    )
