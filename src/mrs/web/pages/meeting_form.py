"""What the booking form and the edit form share: the meeting's fields as typed (title,
description, visibility, attendees), and the words for a time that is taken."""

from __future__ import annotations

import re
from typing import Any

from starlette.datastructures import FormData

from mrs.db.engine import Database
from mrs.errors import DomainError
from mrs.i18n import translate
from mrs.reservations import reads as reservations_reads
from mrs.reservations import rules
from mrs.reservations.errors import ReservationConflict
from mrs.reservations.models import Visibility
from mrs.wallclock import format_minute
from mrs.web.forms import FormState, text_values

MEETING_FIELDS = ("title", "visibility", "attendees")
# Attendees without the script: user ids separated by commas (a Japanese 、 too).
_ATTENDEE_SEPARATORS = re.compile(r"[,、，]")


def attendee_list(typed: str) -> list[str]:
    """The user ids of the attendees field: comma-separated, blanks left out."""
    return [part.strip() for part in _ATTENDEE_SEPARATORS.split(typed) if part.strip()]


def meeting_values(form: FormData) -> dict[str, str]:
    """The meeting fields as typed. The description is kept whole (not cut to the form's
    usual bound) so that one too long is refused with a message, never shortened."""
    values = text_values(form, MEETING_FIELDS)
    raw = form.get("description")
    values["description"] = raw.replace("\x00", "").strip() if isinstance(raw, str) else ""
    return values


def meeting_data(values: dict[str, str]) -> dict[str, Any]:
    """The meeting fields as the domain schemas take them."""
    return {
        "title": values["title"],
        "description": values["description"],
        "visibility": values["visibility"] or Visibility.PUBLIC.value,
        "attendees": attendee_list(values["attendees"]),
    }


def attendee_messages_on_the_field(state: FormState) -> None:
    """A refused attendee ("attendees.2") is said next to the one attendees field."""
    for name in [name for name in state.errors.fields if name.startswith("attendees.")]:
        message = state.errors.fields.pop(name)
        state.errors.add("attendees", message)


async def conflict_message(
    db: Database, locale: str, viewer: rules.Actor, exc: ReservationConflict
) -> str:
    """Say which reservation is in the way: its times, whose it is (or that it is the
    reader's own), and its title when the reader may see one."""
    details = exc.details if isinstance(exc.details, dict) else {}
    reservation_id = details.get("reservation_id")
    if not isinstance(reservation_id, int):
        return translate(locale, exc.msgid, **exc.params)
    try:
        other = await reservations_reads.get_reservation(
            db, reservation_id=reservation_id, viewer=viewer, locale=locale
        )
    except DomainError:  # cancelled and gone meanwhile: the service's own words
        return translate(locale, exc.msgid, **exc.params)
    times = {"start": format_minute(other.start_time), "end": format_minute(other.end_time)}
    if other.user_id == viewer.user_id:
        if other.title_given:
            return translate(
                locale,
                "This time overlaps your own reservation “{title}” from {start} to {end}. "
                "Choose another time.",
                title=other.title,
                **times,
            )
        return translate(
            locale,
            "This time overlaps your own reservation from {start} to {end}. Choose another time.",
            **times,
        )
    if other.title_given:
        return translate(
            locale,
            "This time overlaps “{title}” of {name} from {start} to {end}. Choose another time.",
            title=other.title,
            name=other.owner,
            **times,
        )
    return translate(
        locale,
        "This time overlaps the reservation of {name} from {start} to {end}. Choose another time.",
        name=other.owner,
        **times,
    )
