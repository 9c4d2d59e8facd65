"""The words of reservation mail (invitations, changes, cancellations) in the reader's
language: a subject, a plain text body and the same as HTML (every value escaped).

Pure: the invitation job gives what happened and the meeting as the reader may see it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from html import escape

from mrs.i18n import format_day, translate
from mrs.wallclock import format_minute


class Happening(enum.StrEnum):
    """What a mail tells its reader."""

    CREATED = "created"
    CHANGED = "changed"
    CANCELLED = "cancelled"
    # The reader was taken off the meeting's attendees: it is cancelled for them.
    REMOVED = "removed"
    # Nobody checked in by start + grace: the booking was released (`mrs.reservations.release`).
    RELEASED = "released"
    # A room manager decided on a booking waiting for approval.
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Meeting:
    """The meeting as the reader may see it (a private one someone else owns: "Busy")."""

    title: str
    place: str  # the room's name and location
    day: date
    start_minute: int
    end_minute: int
    # A series in words ("Every Tuesday, 10:00–11:00, until …"); None for one meeting.
    repeats: str | None = None


@dataclass(frozen=True)
class Telling:
    """Who reads the mail and how they stand to the change."""

    locale: str
    reader_name: str
    as_owner: bool
    actor_name: str | None  # who made the change (None: the system)
    by_admin: bool = False  # an administrator changed someone else's meeting
    by_delegate: bool = False  # a delegate of the owner (the actor) acted for them
    # The reader booked it for this owner as their delegate (told as an owner is).
    booked_for: str | None = None
    reason: str | None = None
    # One occurrence of a series, changed or cancelled on its own (its date).
    occurrence: date | None = None
    # A series cancelled from a date: how many occurrences and from when.
    cancelled_count: int = 0
    cancelled_from: date | None = None
    # The booking waits for a room manager's approval (PENDING): said, so nobody takes a
    # booked mail for a confirmed room.
    waiting: bool = False


@dataclass(frozen=True)
class MailText:
    subject: str
    text: str
    html: str


_SUBJECTS = {
    Happening.CREATED: "Invitation: {title} ({when}, {place})",
    Happening.CHANGED: "Changed: {title} ({when}, {place})",
    Happening.CANCELLED: "Cancelled: {title} ({when}, {place})",
    Happening.REMOVED: "Cancelled: {title} ({when}, {place})",
    Happening.RELEASED: "Released: {title} ({when}, {place})",
    Happening.APPROVED: "Confirmed: {title} ({when}, {place})",
    Happening.REJECTED: "Cancelled: {title} ({when}, {place})",
}
_OWNER_SUBJECTS = {
    Happening.CREATED: "Booked: {title} ({when}, {place})",
    Happening.CHANGED: "Your reservation of {place} was changed",
    Happening.CANCELLED: "Your reservation of {place} was cancelled",
    Happening.REMOVED: "Your reservation of {place} was cancelled",
    Happening.RELEASED: "Your reservation of {place} was released: nobody checked in",
    Happening.APPROVED: "Approved: your reservation of {place} ({when})",
    Happening.REJECTED: "Not approved: your reservation of {place} ({when})",
}


def _lead(happening: Happening, telling: Telling) -> str:
    """The first sentence: what happened, told to this reader."""
    actor = telling.actor_name or "MRS"
    loc = telling.locale
    if happening is Happening.RELEASED:
        return translate(
            loc,
            "Nobody checked in by the end of the grace period, so the reservation was "
            "released and the room is free for others.",
        )
    if happening is Happening.APPROVED:
        if telling.as_owner:
            return translate(loc, "{actor} approved your reservation.", actor=actor)
        return translate(loc, "A meeting you are invited to is approved and confirmed.")
    if happening is Happening.REJECTED:
        if telling.as_owner:
            return translate(
                loc,
                "{actor} did not approve your reservation: it is cancelled and the time is "
                "free again.",
                actor=actor,
            )
        return translate(loc, "A meeting you were invited to was not approved: it is cancelled.")
    if telling.booked_for is not None:
        owner = telling.booked_for
        return {
            Happening.CREATED: translate(loc, "You booked this for {owner}.", owner=owner),
            Happening.CHANGED: translate(
                loc, "The reservation you made for {owner} was changed.", owner=owner
            ),
            Happening.CANCELLED: translate(
                loc, "The reservation you made for {owner} was cancelled.", owner=owner
            ),
            Happening.REMOVED: translate(
                loc, "The reservation you made for {owner} was cancelled.", owner=owner
            ),
        }[happening]
    if telling.as_owner and telling.by_delegate:
        return {
            Happening.CREATED: translate(
                loc, "{actor} booked this for you as your delegate.", actor=actor
            ),
            Happening.CHANGED: translate(
                loc, "{actor} changed your reservation as your delegate.", actor=actor
            ),
            Happening.CANCELLED: translate(
                loc, "{actor} cancelled your reservation as your delegate.", actor=actor
            ),
            Happening.REMOVED: translate(
                loc, "{actor} cancelled your reservation as your delegate.", actor=actor
            ),
        }[happening]
    if telling.as_owner:
        if telling.by_admin:
            if happening is Happening.CHANGED:
                return translate(
                    loc, "An administrator ({actor}) changed your reservation.", actor=actor
                )
            return translate(
                loc, "An administrator ({actor}) cancelled your reservation.", actor=actor
            )
        return {
            Happening.CREATED: translate(loc, "Your reservation is booked."),
            Happening.CHANGED: translate(loc, "Your reservation was changed."),
            Happening.CANCELLED: translate(loc, "Your reservation was cancelled."),
            Happening.REMOVED: translate(loc, "Your reservation was cancelled."),
        }[happening]
    return {
        Happening.CREATED: translate(loc, "{actor} invited you to a meeting.", actor=actor),
        Happening.CHANGED: translate(
            loc, "{actor} changed a meeting you are invited to.", actor=actor
        ),
        Happening.CANCELLED: translate(
            loc, "{actor} cancelled a meeting you were invited to.", actor=actor
        ),
        Happening.REMOVED: translate(
            loc, "{actor} took you off a meeting's attendees: it is cancelled for you.", actor=actor
        ),
    }[happening]


def _notes(telling: Telling) -> list[str]:
    """Sentences after the lead: which occurrences, and an administrator's reason."""
    loc = telling.locale
    notes = []
    if telling.occurrence is not None:
        notes.append(
            translate(
                loc,
                "This is about the occurrence on {date} only.",
                date=format_day(loc, telling.occurrence),
            )
        )
    if telling.cancelled_count and telling.cancelled_from is not None:
        notes.append(
            translate(
                loc,
                "{count} occurrence(s) from {date} on are cancelled.",
                count=telling.cancelled_count,
                date=format_day(loc, telling.cancelled_from),
            )
        )
    if telling.reason:
        notes.append(translate(loc, "Reason given: {reason}", reason=telling.reason))
    if telling.waiting:
        notes.append(
            translate(
                loc,
                "This booking waits for a room manager's approval; you will be told when "
                "it is decided.",
            )
        )
    return notes


def _facts(meeting: Meeting, telling: Telling) -> list[tuple[str, str]]:
    """The meeting as labelled lines: what, where, when, who changed it."""
    loc = telling.locale
    times = f"{format_minute(meeting.start_minute)}–{format_minute(meeting.end_minute)}"
    when = meeting.repeats or f"{format_day(loc, meeting.day)} {times}"
    facts = [
        (translate(loc, "Meeting"), meeting.title),
        (translate(loc, "Room"), meeting.place),
        (translate(loc, "When"), when),
    ]
    if telling.actor_name:
        facts.append((translate(loc, "Changed by"), telling.actor_name))
    return facts


def compose(happening: Happening, meeting: Meeting, telling: Telling) -> MailText:
    """The subject, plain text and HTML of one reservation mail."""
    loc = telling.locale
    times = f"{format_minute(meeting.start_minute)}–{format_minute(meeting.end_minute)}"
    subjects = _OWNER_SUBJECTS if telling.as_owner else _SUBJECTS
    subject = translate(
        loc,
        subjects[happening],
        title=meeting.title,
        place=meeting.place,
        when=f"{format_day(loc, meeting.day)} {times}",
    )
    greeting = translate(loc, "Hello {name},", name=telling.reader_name)
    lead = _lead(happening, telling)
    notes = _notes(telling)
    facts = _facts(meeting, telling)
    closing = translate(loc, "Your calendar program can add this to your calendar.")
    text_lines = [greeting, "", lead, *notes, ""]
    text_lines += [f"{label}: {value}" for label, value in facts]
    text_lines += ["", closing, "", "— MRS"]
    rows = "".join(
        f'<tr><th scope="row">{escape(label)}</th><td>{escape(value)}</td></tr>'
        for label, value in facts
    )
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in (lead, *notes))
    html = (
        f'<!DOCTYPE html><html lang="{escape(loc)}"><head><meta charset="utf-8">'
        f"<title>{escape(subject)}</title></head><body>"
        f"<p>{escape(greeting)}</p>{paragraphs}<table>{rows}</table>"
        f"<p>{escape(closing)}</p><p>— MRS</p></body></html>"
    )
    return MailText(subject=subject, text="\n".join(text_lines), html=html)
