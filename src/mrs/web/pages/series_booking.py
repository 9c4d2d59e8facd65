"""Booking a repeating meeting from a room's day: its dates before it is reserved (free,
taken by which meeting, or not bookable and why), reserving it, and the words for a
series refused for its dates. The booking form itself is `rooms.py`; it reads the repeat
options with `repeat_form`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from mrs.errors import DomainError
from mrs.http.types import parse_iso_date
from mrs.i18n import format_day, translate
from mrs.reservations import delegation, rules
from mrs.reservations import reads as reservations_reads
from mrs.reservations import series as series_service
from mrs.reservations.errors import SeriesConflict
from mrs.reservations.models import ReservationStatus
from mrs.reservations.recurrence import RecurrenceRule, describe
from mrs.reservations.schemas import ReservationCreate
from mrs.reservations.series import DateState, OnConflict, SeriesFields
from mrs.wallclock import format_minute
from mrs.web.dependencies import PageContext
from mrs.web.i18n import N_


@dataclass(frozen=True)
class PreviewRow:
    """One date of the series to be: free, taken ("conflict", by what) or not bookable
    ("unbookable", why)."""

    day: date
    state: str
    reason: str


@dataclass(frozen=True)
class SeriesPreview:
    words: str
    rows: list[PreviewRow]

    @property
    def free_count(self) -> int:
        return sum(1 for row in self.rows if row.state == "free")


# What a date of the series that cannot be booked says, by the code a single booking of
# that time would get (`series.PlannedDate.reason`, the 409's `details.dates`).
UNBOOKABLE_REASONS = {
    "start_in_past": N_("Already past"),
    "time_does_not_exist": N_("This time does not exist that day (the clocks change)"),
    "room_not_reservable": N_("The room is not open that day"),
    "room_out_of_use": N_("The room is out of use"),
    "outside_bookable_hours": N_("Outside the room's bookable hours"),
}


def series_fields(room_id: int, meeting: ReservationCreate, rule: RecurrenceRule) -> SeriesFields:
    return SeriesFields(
        room_id=room_id,
        start_date=meeting.date,
        start_minute=meeting.start_time,
        end_minute=meeting.end_time,
        rule=rule.text(),
        title=meeting.title,
        description=meeting.description,
        visibility=meeting.visibility,
        attendees=meeting.attendees,
    )


async def _reason(
    page: PageContext, viewer: rules.Actor, reason: str | None, reservation_id: int | None
) -> str:
    """Why a date cannot be booked, in words: the meeting in the way (as the reader may
    see it), or what a single booking that day would be told."""
    if reservation_id is not None:
        try:
            other = await reservations_reads.get_reservation(
                page.db, reservation_id=reservation_id, viewer=viewer, locale=page.locale
            )
        except DomainError:  # cancelled and gone meanwhile
            return translate(page.locale, "Taken")
        return translate(
            page.locale,
            "“{title}” of {name}, {start}–{end}",
            title=other.title,
            name=other.owner,
            start=format_minute(other.start_time),
            end=format_minute(other.end_time),
        )
    return translate(page.locale, UNBOOKABLE_REASONS.get(reason or "", "Cannot be reserved"))


async def preview(
    page: PageContext,
    *,
    viewer: rules.Actor,
    room_id: int,
    meeting: ReservationCreate,
    rule: RecurrenceRule,
) -> SeriesPreview:
    """Every date the rule gives, as the series would find it now (nothing written),
    judged for the one it is booked for (`meeting.on_behalf_of`, a delegate's principal)."""
    owner_id, _ = await delegation.booking_owner(
        page.db, actor=viewer, on_behalf_of=meeting.on_behalf_of
    )
    planned = await series_service.preview(
        page.db,
        settings=page.settings,
        user_id=owner_id,
        fields=series_fields(room_id, meeting, rule),
        now=page.now,
    )
    return SeriesPreview(
        words=describe(rule, meeting.date, meeting.start_time, meeting.end_time, page.locale),
        rows=[
            PreviewRow(
                day=each.date,
                state=each.state.value,
                reason=""
                if each.state is DateState.FREE
                else await _reason(page, viewer, each.reason, each.reservation_id),
            )
            for each in planned
        ],
    )


async def reserve_series(
    page: PageContext,
    *,
    user_id: str,
    room_id: int,
    meeting: ReservationCreate,
    rule: RecurrenceRule,
    on_conflict: OnConflict,
    booked_by: str | None = None,
) -> str:
    """Reserve the series (for `user_id` by `booked_by`, a delegate, when given); the
    address of its page with the confirmation."""
    booked = await series_service.create(
        page.db,
        settings=page.settings,
        user_id=user_id,
        booked_by=booked_by,
        fields=series_fields(room_id, meeting, rule),
        on_conflict=on_conflict,
        now=page.now,
        locale=page.locale,
    )
    if booked.skipped:
        return f"/series/{booked.series_id}?done=series_created_skipped&n={len(booked.skipped)}"
    if any(each.status == ReservationStatus.PENDING for each in booked.occurrences):
        return f"/series/{booked.series_id}?done=series_pending"
    return f"/series/{booked.series_id}?done=series_created"


async def series_conflict_message(
    page: PageContext, viewer: rules.Actor, exc: DomainError
) -> str | None:
    """A series refused for its taken or unbookable dates: every one of them, with why."""
    if not isinstance(exc, SeriesConflict):
        return None
    details = exc.details if isinstance(exc.details, dict) else {}
    listed: list[str] = []
    for item in details.get("dates", []):
        reservation_id = item.get("reservation_id")
        reason = await _reason(
            page,
            viewer,
            item.get("reason"),
            reservation_id if isinstance(reservation_id, int) else None,
        )
        day = format_day(page.locale, parse_iso_date(item["date"]))
        listed.append(f"{day}: {reason}")
    return translate(
        page.locale,
        "Nothing was reserved: these dates are taken or cannot be reserved. {dates}",
        dates="; ".join(listed),
    )
