"""What the rooms look like over time, for the pages and API that help find a slot: the
rooms bookable on a day with the times already taken (the rooms page and `GET /api/rooms`),
a day of every room with its meetings (the day timeline), a room over days (its week).
Each is one statement; what a viewer sees of a meeting follows `rules.sees_details`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import (
    Date,
    Select,
    String,
    Table,
    and_,
    bindparam,
    exists,
    func,
    literal_column,
    select,
)

from mrs.accounts.models import User
from mrs.db.engine import Database
from mrs.i18n import display_name
from mrs.reservations import rules, statements
from mrs.reservations.models import Reservation, ReservationAttendee
from mrs.rooms import availability
from mrs.rooms.errors import RoomNotFound
from mrs.rooms.models import RoomEquipment
from mrs.wallclock import MINUTES_PER_DAY, elapsed_minutes


@dataclass(frozen=True)
class RoomOfDay:
    room_id: int
    room_name: str
    capacity: int | None
    location: str | None
    reserved_minutes: int
    reservation_count: int


@dataclass(frozen=True)
class TakenTime:
    start_time: int
    end_time: int


@dataclass(frozen=True)
class RoomTimeline:
    """A room bookable on a day and the times already taken, in order (the rooms page)."""

    room_id: int
    room_name: str
    capacity: int | None
    location: str | None
    taken: list[TakenTime]


def _unpacked(ranges: str | None) -> list[TakenTime]:
    if not ranges:
        return []
    taken = []
    for item in ranges.split(","):
        start, _, end = item.partition("-")
        taken.append(TakenTime(int(start), int(end)))
    taken.sort(key=lambda t: t.start_time)
    return taken


async def room_timelines(db: Database, *, day: date) -> list[RoomTimeline]:
    """Rooms bookable on `day` with their taken times, by name: one statement."""
    return [
        RoomTimeline(row.room_id, row.room_name, row.capacity, row.location, _unpacked(row.ranges))
        for row in await db.read(statements.timelines_of_day(db.dialect), {"day": day})
    ]


async def rooms_reservable_on(db: Database, *, day: date) -> list[RoomOfDay]:
    """Rooms bookable on `day`, with how much of the day is already reserved."""
    return [
        RoomOfDay(
            room_id=timeline.room_id,
            room_name=timeline.room_name,
            capacity=timeline.capacity,
            location=timeline.location,
            # Real elapsed time: on a day the clocks change, not end minus start.
            reserved_minutes=sum(
                elapsed_minutes(day, t.start_time, t.end_time, db.settings.tz)
                for t in timeline.taken
            ),
            reservation_count=len(timeline.taken),
        )
        for timeline in await room_timelines(db, day=day)
    ]


# --- the views to find a slot: a room's reservations over days, a day of every room ---

_reservation: Table = Reservation.__table__  # type: ignore[assignment]
_attendee: Table = ReservationAttendee.__table__  # type: ignore[assignment]
_usr: Table = User.__table__  # type: ignore[assignment]
_room_equipment: Table = RoomEquipment.__table__  # type: ignore[assignment]
_meeting_room = availability.meeting_room
_reservable_room = availability.reservable_room
_DAY = bindparam("day", type_=Date())
_FROM = bindparam("from_day", type_=Date())
_TO = bindparam("to_day", type_=Date())
_VIEWER = bindparam("viewer_id", type_=String())


class Booking(NamedTuple):
    """A reservation as one viewer may see it on a timeline or a week.

    `title` is None when the viewer may not see the meeting's details (a private meeting
    of someone else: show "Reserved" and the owner), and also when no title was given
    (show the owner's name): `details_visible` tells the two apart. A tuple, not a
    dataclass: the day timeline makes one per meeting of every room (800 for 200 rooms),
    and a frozen dataclass took five times as long to build.
    """

    reservation_id: int
    day: date
    start_time: int
    end_time: int
    title: str | None
    visibility: str
    details_visible: bool
    owner_id: str
    first_name: str
    last_name: str
    # The series it is an occurrence of (None for a single booking), and whether it was
    # changed on its own: pages show a series marker.
    series_id: int | None = None
    is_exception: bool = False


def shown_title(locale: str, booking: Booking) -> str:
    """The text a booking carries for this reader (`rules.shown_title`)."""
    # The owner's name is shown only when there is no title to show: most meetings have
    # one, so it is not put together for them (it was a sixth of the timeline's time).
    titled = booking.details_visible and booking.title
    return rules.shown_title(
        locale,
        visible=booking.details_visible,
        title=booking.title,
        owner_name="" if titled else owner_name(locale, booking),
    )


def owner_name(locale: str, booking: Booking) -> str:
    return display_name(locale, booking.first_name, booking.last_name) or booking.owner_id


def _booking(row: Any, day: date, viewer: rules.Actor) -> Booking:
    visible = rules.sees_details(
        viewer_id=viewer.user_id,
        viewer_is_admin=viewer.is_admin,
        owner_id=row.user_id,
        visibility=row.visibility,
        attendee_ids=(viewer.user_id,) if row.viewer_attends else (),
    )
    return Booking(
        reservation_id=row.reservation_id,
        day=day,
        start_time=row.start_minute,
        end_time=row.end_minute,
        title=row.title if visible else None,
        visibility=row.visibility,
        details_visible=visible,
        owner_id=row.user_id,
        first_name=row.first_name,
        last_name=row.last_name,
        series_id=row.series_id,
        is_exception=bool(row.is_exception),
    )


def _viewer_attends() -> Any:
    return (
        exists()
        .where(
            _attendee.c.reservation_id == _reservation.c.reservation_id,
            _attendee.c.user_id == _VIEWER,
        )
        .label("viewer_attends")
    )


def _booking_columns() -> list[Any]:
    return [
        _reservation.c.reservation_id,
        _reservation.c.start_minute,
        _reservation.c.end_minute,
        _reservation.c.title,
        _reservation.c.visibility,
        _reservation.c.user_id,
        _usr.c.first_name,
        _usr.c.last_name,
        _reservation.c.series_id,
        _reservation.c.is_exception,
        _viewer_attends(),
    ]


def _with_bookings(rooms: Any, day: Any) -> Any:
    """`rooms` (a FROM with meeting_room) left-joined to the active reservations of `day`
    and their owners."""
    return rooms.outerjoin(
        _reservation,
        and_(
            _reservation.c.room_id == _meeting_room.c.room_id,
            _reservation.c.reserved_date == day,
            statements.holds_slot(_reservation),
        ),
    ).outerjoin(_usr, _usr.c.user_id == _reservation.c.user_id)


def packed_equipment(dialect: str) -> Any:
    """The equipment codes of the statement's `meeting_room` row, packed as "a,b" in no
    particular order (None when it has none), labelled `equipment`."""
    aggregate = func.string_agg if dialect == "postgresql" else func.group_concat
    return (
        select(aggregate(_room_equipment.c.equipment_code, literal_column("','")))
        .where(_room_equipment.c.room_id == _meeting_room.c.room_id)
        .scalar_subquery()
        .label("equipment")
    )


@cache
def _day_timeline(dialect: str) -> Select[Any]:
    return (
        select(
            _meeting_room.c.room_id,
            _meeting_room.c.room_name,
            _meeting_room.c.capacity,
            _meeting_room.c.location,
            _meeting_room.c.open_minute,
            _meeting_room.c.close_minute,
            packed_equipment(dialect),
            *_booking_columns(),
        )
        .select_from(_with_bookings(availability.room_days(), _reservable_room.c.reserved_date))
        .where(_reservable_room.c.reserved_date == _DAY, availability.is_bookable())
        .order_by(_meeting_room.c.room_name, _meeting_room.c.room_id, _reservation.c.start_minute)
    )


@dataclass(frozen=True)
class RoomBookings:
    """A room bookable on a day, what it offers, and its bookings as the viewer sees them."""

    room_id: int
    room_name: str
    capacity: int | None
    location: str | None
    equipment: list[str]
    # The room's bookable hours (minutes of the day): the timeline offers nothing outside.
    open_minute: int = 0
    close_minute: int = MINUTES_PER_DAY
    bookings: list[Booking] = field(default_factory=list)


async def day_timeline(db: Database, *, day: date, viewer: rules.Actor) -> list[RoomBookings]:
    """Every room bookable on `day` (by name) with its equipment and its reservations as
    `viewer` may see them: one statement."""
    rows = await db.read(_day_timeline(db.dialect), {"day": day, "viewer_id": viewer.user_id})
    rooms: list[RoomBookings] = []
    for row in rows:
        if not rooms or rooms[-1].room_id != row.room_id:
            rooms.append(
                RoomBookings(
                    room_id=row.room_id,
                    room_name=row.room_name,
                    capacity=row.capacity,
                    location=row.location,
                    equipment=sorted(row.equipment.split(",")) if row.equipment else [],
                    open_minute=row.open_minute,
                    close_minute=row.close_minute,
                )
            )
        if row.reservation_id is not None:
            rooms[-1].bookings.append(_booking(row, day, viewer))
    return rooms


@cache
def _room_days() -> Select[Any]:
    # The room LEFT JOIN its dates in the range: a room with none still gives one row
    # (its name), and no row at all means no such room.
    days = _meeting_room.outerjoin(
        _reservable_room,
        and_(
            _reservable_room.c.room_id == _meeting_room.c.room_id,
            _reservable_room.c.reserved_date >= _FROM,
            _reservable_room.c.reserved_date <= _TO,
        ),
    )
    return (
        select(
            _meeting_room.c.room_name,
            _meeting_room.c.open_minute,
            _meeting_room.c.close_minute,
            _reservable_room.c.reserved_date,
            availability.is_bookable().label("bookable"),
            *_booking_columns(),
        )
        .select_from(_with_bookings(days, _reservable_room.c.reserved_date))
        .where(_meeting_room.c.room_id == statements.ROOM_ID)
        .order_by(_reservable_room.c.reserved_date, _reservation.c.start_minute)
    )


@dataclass(frozen=True)
class RoomDays:
    """A room over a few days: its name, the days it is bookable and its bookings on
    each day."""

    room_id: int
    room_name: str
    bookable: set[date]
    bookings: dict[date, list[Booking]]
    open_minute: int = 0
    close_minute: int = MINUTES_PER_DAY


async def room_days(
    db: Database, *, room_id: int, from_day: date, to_day: date, viewer: rules.Actor
) -> RoomDays:
    """The room's name, which days from `from_day` to `to_day` it is bookable and its
    reservations on them as `viewer` may see them (a room's week): one statement, on the
    hot path's connections (the page read the room through the ORM first, two more
    statements at about 1 ms of CPU each). RoomNotFound for an unknown room."""
    rules.check_date_range(from_day, to_day)
    rows = await db.read(
        _room_days(),
        {"room_id": room_id, "from_day": from_day, "to_day": to_day, "viewer_id": viewer.user_id},
    )
    if not rows:
        raise RoomNotFound(room_id=room_id)
    bookable: set[date] = set()
    bookings: dict[date, list[Booking]] = {}
    for row in rows:
        if row.bookable:
            bookable.add(row.reserved_date)
        if row.reservation_id is not None:
            bookings.setdefault(row.reserved_date, []).append(
                _booking(row, row.reserved_date, viewer)
            )
    return RoomDays(
        room_id=room_id,
        room_name=rows[0].room_name,
        bookable=bookable,
        bookings=bookings,
        open_minute=rows[0].open_minute,
        close_minute=rows[0].close_minute,
    )
