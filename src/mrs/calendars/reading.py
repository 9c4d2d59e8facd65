"""Meetings read from the database as calendar events, as one reader may see them.

Invitations and feeds both start here, so a meeting reads the same in a mail and in a
subscribed calendar: a single reservation is one event under its own UID; a series is
one event with its rule (under the series' UID) plus an override per occurrence that
differs from the rule. A private meeting that the reader neither owns nor attends reads
"Reserved" with nothing else about it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mrs.accounts.models import User, UserStatus
from mrs.calendars.ical import CalendarEvent, OccurrenceState, Person, series_events, uid_of
from mrs.i18n import display_name, supported_locale, translate
from mrs.reservations.models import (
    SLOT_HOLDING,
    Reservation,
    ReservationAttendee,
    ReservationSeries,
    ReservationStatus,
    SeriesAttendee,
    SeriesStatus,
    Visibility,
)
from mrs.rooms.models import MeetingRoom


@dataclass(frozen=True)
class Recipient:
    """Someone a mail about a meeting goes to."""

    user_id: str
    email: str
    first_name: str
    last_name: str
    locale: str
    is_owner: bool

    def name(self, locale: str) -> str:
        return display_name(locale, self.first_name, self.last_name) or self.user_id


def location_of(room_name: str, location: str | None) -> str:
    """Where a meeting is, as a calendar shows it: the room, and where the room is."""
    return f"{room_name}, {location}" if location else room_name


@dataclass(frozen=True)
class _Person:
    user_id: str
    first_name: str
    last_name: str
    email: str

    def as_person(self, locale: str) -> Person:
        return Person(display_name(locale, self.first_name, self.last_name), self.email)


async def _people(session: AsyncSession, user_ids: Iterable[str]) -> dict[str, _Person]:
    wanted = sorted(set(user_ids))
    if not wanted:
        return {}
    rows = await session.execute(
        select(User.user_id, User.first_name, User.last_name, User.email).where(
            User.user_id.in_(wanted)
        )
    )
    return {row.user_id: _Person(*row) for row in rows}


@dataclass(frozen=True)
class _Shown:
    """What the reader may see of a meeting: all of it, or only that the room is taken."""

    summary: str
    description: str
    owner: Person | None
    attendees: tuple[Person, ...]


def _shown(
    *,
    title: str | None,
    description: str,
    visibility: str,
    owner: _Person,
    attendees: list[_Person],
    locale: str,
    viewer_id: str | None,
) -> _Shown:
    sees_all = (
        visibility != Visibility.PRIVATE
        or viewer_id == owner.user_id
        or any(person.user_id == viewer_id for person in attendees)
    )
    if not sees_all:
        return _Shown(translate(locale, "Reserved"), "", None, ())
    summary = title or display_name(locale, owner.first_name, owner.last_name) or owner.user_id
    return _Shown(
        summary,
        description,
        owner.as_person(locale),
        tuple(person.as_person(locale) for person in attendees),
    )


async def events_of(
    session: AsyncSession,
    *,
    reservation_ids: Collection[int] = (),
    series_ids: Collection[int] = (),
    tz: ZoneInfo,
    locale: str,
    viewer_id: str | None,
) -> list[CalendarEvent]:
    """The events of these meetings: each single reservation as one event (a cancelled
    one marked so), and each series (asked for, or the series of an occurrence asked
    for) as its master and overrides. SEQUENCE is the row's version - 1 (an override
    adds its occurrence's changes to its series')."""
    locale = supported_locale(locale)
    singles: list[Any] = []
    wanted_series = set(series_ids)
    if reservation_ids:
        rows = await session.execute(
            select(
                Reservation.reservation_id,
                Reservation.series_id,
                Reservation.ical_uid,
                Reservation.version,
                Reservation.title,
                Reservation.description,
                Reservation.visibility,
                Reservation.reserved_date,
                Reservation.start_minute,
                Reservation.end_minute,
                Reservation.status,
                Reservation.user_id,
                Reservation.created_at,
                Reservation.updated_at,
                Reservation.cancelled_at,
                MeetingRoom.room_name,
                MeetingRoom.location,
            )
            .join(MeetingRoom, MeetingRoom.room_id == Reservation.room_id)
            .where(Reservation.reservation_id.in_(sorted(set(reservation_ids))))
            .order_by(Reservation.reserved_date, Reservation.start_minute)
        )
        for row in rows:
            if row.series_id is not None:
                wanted_series.add(row.series_id)
            else:
                singles.append(row)
    attendees = await _attendees_of(session, [row.reservation_id for row in singles])
    people = await _people(
        session,
        [row.user_id for row in singles] + [uid for ids in attendees.values() for uid in ids],
    )
    events = [
        _single_event(row, people, attendees.get(row.reservation_id, []), locale, viewer_id)
        for row in singles
    ]
    events.extend(await _series_events(session, wanted_series, locale, viewer_id))
    return events


async def _attendees_of(session: AsyncSession, reservation_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    if not reservation_ids:
        return found
    rows = await session.execute(
        select(ReservationAttendee.reservation_id, ReservationAttendee.user_id)
        .where(ReservationAttendee.reservation_id.in_(reservation_ids))
        .order_by(ReservationAttendee.reservation_id, ReservationAttendee.user_id)
    )
    for reservation_id, user_id in rows:
        found[reservation_id].append(user_id)
    return found


def _single_event(
    row: Any,
    people: dict[str, _Person],
    attendee_ids: list[str],
    locale: str,
    viewer_id: str | None,
) -> CalendarEvent:
    owner = people.get(row.user_id) or _Person(row.user_id, "", "", "")
    shown = _shown(
        title=row.title,
        description=row.description,
        visibility=row.visibility,
        owner=owner,
        attendees=[people[uid] for uid in attendee_ids if uid in people],
        locale=locale,
        viewer_id=viewer_id,
    )
    return CalendarEvent(
        uid=uid_of(row.ical_uid),
        sequence=row.version - 1,
        summary=shown.summary,
        description=shown.description,
        location=location_of(row.room_name, row.location),
        day=row.reserved_date,
        start_minute=row.start_minute,
        end_minute=row.end_minute,
        owner=shown.owner,
        attendees=shown.attendees,
        private=row.visibility == Visibility.PRIVATE,
        # Cancelled, rejected or released: over, gone from the calendar.
        cancelled=row.status not in SLOT_HOLDING,
        tentative=row.status == ReservationStatus.PENDING,
        updated_at=_latest(row.created_at, row.updated_at, row.cancelled_at),
    )


def _latest(*moments: datetime | None) -> datetime | None:
    known = [moment for moment in moments if moment is not None]
    return max(known) if known else None


async def _series_events(
    session: AsyncSession, series_ids: set[int], locale: str, viewer_id: str | None
) -> list[CalendarEvent]:
    if not series_ids:
        return []
    wanted = sorted(series_ids)
    series_rows = (
        await session.execute(
            select(
                ReservationSeries.series_id,
                ReservationSeries.ical_uid,
                ReservationSeries.version,
                ReservationSeries.title,
                ReservationSeries.description,
                ReservationSeries.visibility,
                ReservationSeries.start_date,
                ReservationSeries.start_minute,
                ReservationSeries.end_minute,
                ReservationSeries.rule,
                ReservationSeries.status,
                ReservationSeries.user_id,
                ReservationSeries.created_at,
                ReservationSeries.updated_at,
                MeetingRoom.room_name,
                MeetingRoom.location,
            )
            .join(MeetingRoom, MeetingRoom.room_id == ReservationSeries.room_id)
            .where(ReservationSeries.series_id.in_(wanted))
            .order_by(ReservationSeries.start_date, ReservationSeries.series_id)
        )
    ).all()
    invited: dict[int, list[str]] = defaultdict(list)
    for series_id, user_id in await session.execute(
        select(SeriesAttendee.series_id, SeriesAttendee.user_id)
        .where(SeriesAttendee.series_id.in_(wanted))
        .order_by(SeriesAttendee.series_id, SeriesAttendee.user_id)
    ):
        invited[series_id].append(user_id)
    occurrence_rows = (
        await session.execute(
            select(
                Reservation.reservation_id,
                Reservation.series_id,
                Reservation.occurrence_date,
                Reservation.reserved_date,
                Reservation.start_minute,
                Reservation.end_minute,
                Reservation.status,
                Reservation.is_exception,
                Reservation.title,
                Reservation.description,
                Reservation.version,
                Reservation.user_id,
                Reservation.created_at,
                Reservation.updated_at,
                MeetingRoom.room_name,
                MeetingRoom.location,
            )
            .join(MeetingRoom, MeetingRoom.room_id == Reservation.room_id)
            .where(Reservation.series_id.in_(wanted))
        )
    ).all()
    # An occurrence changed on its own may have its own attendees.
    own_attendees = await _attendees_of(
        session, [row.reservation_id for row in occurrence_rows if row.is_exception]
    )
    people = await _people(
        session,
        [row.user_id for row in series_rows]
        + [uid for ids in invited.values() for uid in ids]
        + [uid for ids in own_attendees.values() for uid in ids],
    )
    occurrences_by_series: dict[int, list[Any]] = defaultdict(list)
    for row in occurrence_rows:
        occurrences_by_series[row.series_id].append(row)

    events: list[CalendarEvent] = []
    for series in series_rows:
        owner = people.get(series.user_id) or _Person(series.user_id, "", "", "")
        series_people = [people[uid] for uid in invited[series.series_id] if uid in people]
        shown = _shown(
            title=series.title,
            description=series.description,
            visibility=series.visibility,
            owner=owner,
            attendees=series_people,
            locale=locale,
            viewer_id=viewer_id,
        )
        master = CalendarEvent(
            uid=uid_of(series.ical_uid),
            sequence=series.version - 1,
            summary=shown.summary,
            description=shown.description,
            location=location_of(series.room_name, series.location),
            day=series.start_date,
            start_minute=series.start_minute,
            end_minute=series.end_minute,
            owner=shown.owner,
            attendees=shown.attendees,
            private=series.visibility == Visibility.PRIVATE,
            cancelled=series.status == SeriesStatus.CANCELLED,
            rrule=series.rule,
            updated_at=_latest(series.created_at, series.updated_at),
        )
        states = []
        for row in occurrences_by_series[series.series_id]:
            own = own_attendees.get(row.reservation_id)
            seen = _shown(
                title=row.title,
                description=row.description,
                visibility=series.visibility,
                owner=owner,
                attendees=series_people
                if own is None
                else [people[uid] for uid in own if uid in people],
                locale=locale,
                viewer_id=viewer_id,
            )
            states.append(
                OccurrenceState(
                    occurrence_date=row.occurrence_date,
                    day=row.reserved_date,
                    start_minute=row.start_minute,
                    end_minute=row.end_minute,
                    active=row.status in SLOT_HOLDING,
                    summary=seen.summary,
                    description=seen.description,
                    location=location_of(row.room_name, row.location),
                    sequence=series.version - 1 + row.version - 1,
                    attendees=None if own is None else seen.attendees,
                    updated_at=_latest(row.created_at, row.updated_at),
                )
            )
        events.extend(series_events(master, states))
    return events


async def recipients_of(
    session: AsyncSession, *, reservation_id: int | None = None, series_id: int | None = None
) -> list[Recipient]:
    """The owner and the attendees of a reservation (its own attendees) or of a series
    (the series' attendees), owner first; only active accounts."""
    if (reservation_id is None) == (series_id is None):
        raise ValueError("recipients of a reservation or of a series")
    if reservation_id is not None:
        owner_id = await session.scalar(
            select(Reservation.user_id).where(Reservation.reservation_id == reservation_id)
        )
        invited = select(ReservationAttendee.user_id).where(
            ReservationAttendee.reservation_id == reservation_id
        )
    else:
        owner_id = await session.scalar(
            select(ReservationSeries.user_id).where(ReservationSeries.series_id == series_id)
        )
        invited = select(SeriesAttendee.user_id).where(SeriesAttendee.series_id == series_id)
    if owner_id is None:
        return []
    attendee_ids = [uid for uid in (await session.scalars(invited)).all() if uid != owner_id]
    rows = await session.execute(
        select(User.user_id, User.email, User.first_name, User.last_name, User.locale).where(
            User.user_id.in_([owner_id, *attendee_ids]),
            # A disabled or deleted account gets no mail.
            User.status == UserStatus.ACTIVE.value,
        )
    )
    found = {
        row.user_id: Recipient(
            row.user_id,
            row.email,
            row.first_name,
            row.last_name,
            supported_locale(row.locale),
            row.user_id == owner_id,
        )
        for row in rows
    }
    return [found[uid] for uid in [owner_id, *sorted(attendee_ids)] if uid in found]
