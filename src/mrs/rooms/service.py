"""Room use cases: managing rooms and the dates they can be reserved."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache

from sqlalchemy import Date, TextClause, bindparam, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from mrs.db.engine import Database
from mrs.reservations.models import Reservation, ReservationStatus
from mrs.rooms.errors import RoomHasReservations, RoomNameTaken, RoomNotFound
from mrs.rooms.models import MeetingRoom, ReservableRoom
from mrs.rooms.rules import dates_in_range
from mrs.wallclock import elapsed_minutes, format_minute


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
    """A room open on a day and the times already taken, in order (the rooms page)."""

    room_id: int
    room_name: str
    capacity: int | None
    location: str | None
    taken: list[TakenTime]


# One row per room with its taken times packed as "540-600,600-660": a row per
# reservation (500 for 50 busy rooms) cost the page more to fetch than the packing does.
_TIMELINES_OF_DAY = """
    SELECT meeting_room.room_id, meeting_room.room_name, meeting_room.capacity,
           meeting_room.location, taken.ranges
    FROM meeting_room
    JOIN reservable_room ON reservable_room.room_id = meeting_room.room_id
         AND reservable_room.reserved_date = :day AND reservable_room.is_open
    LEFT JOIN (
        SELECT room_id, {aggregate}(start_minute || '-' || end_minute, ',') AS ranges
        FROM reservation
        WHERE reserved_date = :day AND status = 'ACTIVE'
        GROUP BY room_id
    ) AS taken ON taken.room_id = meeting_room.room_id
    WHERE meeting_room.active
    ORDER BY meeting_room.room_name, meeting_room.room_id
"""


@cache
def _timelines_statement(dialect: str) -> TextClause:
    aggregate = "string_agg" if dialect == "postgresql" else "group_concat"
    return text(_TIMELINES_OF_DAY.format(aggregate=aggregate)).bindparams(
        bindparam("day", type_=Date())
    )


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
    """Active rooms open on `day` with their taken times, by name: one statement."""
    return [
        RoomTimeline(row.room_id, row.room_name, row.capacity, row.location, _unpacked(row.ranges))
        for row in await db.read(_timelines_statement(db.dialect), {"day": day})
    ]


async def rooms_reservable_on(db: Database, *, day: date) -> list[RoomOfDay]:
    """Active rooms open on `day`, with how much of the day is already reserved."""
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


async def list_rooms(db: Database) -> list[MeetingRoom]:
    async with db.snapshot() as session:
        return list(
            (await session.scalars(select(MeetingRoom).order_by(MeetingRoom.room_name))).all()
        )


async def get_room(db: Database, *, room_id: int) -> MeetingRoom:
    async with db.snapshot() as session:
        room = await session.get(MeetingRoom, room_id)
    if room is None:
        raise RoomNotFound(room_id=room_id)
    return room


async def open_dates(db: Database, *, room_id: int, from_date: date, to_date: date) -> list[date]:
    """The dates in the range (inclusive) on which the room is open for reservation."""
    async with db.snapshot() as session:
        return list(
            (
                await session.scalars(
                    select(ReservableRoom.reserved_date)
                    .where(
                        ReservableRoom.room_id == room_id,
                        ReservableRoom.reserved_date >= from_date,
                        ReservableRoom.reserved_date <= to_date,
                        ReservableRoom.is_open.is_(True),
                    )
                    .order_by(ReservableRoom.reserved_date)
                )
            ).all()
        )


async def create_room(
    db: Database, *, room_name: str, capacity: int | None, location: str | None
) -> MeetingRoom:
    room = MeetingRoom(room_name=room_name, capacity=capacity, location=location, active=True)
    try:
        async with db.transaction() as session:
            if await session.scalar(
                select(MeetingRoom.room_id).where(MeetingRoom.room_name == room_name)
            ):
                raise RoomNameTaken(room_name=room_name)
            session.add(room)
    except IntegrityError as exc:
        raise RoomNameTaken(room_name=room_name) from exc
    return room


async def update_room(db: Database, *, room_id: int, changes: dict[str, object]) -> MeetingRoom:
    """Apply the given field changes (only keys present are changed)."""
    try:
        async with db.transaction() as session:
            room = await session.get(MeetingRoom, room_id)
            if room is None:
                raise RoomNotFound(room_id=room_id)
            new_name = changes.get("room_name")
            if new_name is not None and new_name != room.room_name:
                clash = await session.scalar(
                    select(MeetingRoom.room_id).where(MeetingRoom.room_name == new_name)
                )
                if clash is not None:
                    raise RoomNameTaken(room_name=new_name)
            for field, value in changes.items():
                setattr(room, field, value)
    except IntegrityError as exc:
        raise RoomNameTaken(room_name=changes.get("room_name")) from exc
    return room


async def open_room(
    db: Database, *, room_id: int, from_date: date, to_date: date, weekdays: Sequence[int] | None
) -> list[date]:
    """Make the room reservable on every matching date; returns the dates newly opened."""
    days = dates_in_range(from_date, to_date, weekdays)
    async with db.transaction() as session:
        if await session.get(MeetingRoom, room_id) is None:
            raise RoomNotFound(room_id=room_id)
        rows = await session.execute(
            select(ReservableRoom.reserved_date, ReservableRoom.is_open).where(
                ReservableRoom.room_id == room_id, ReservableRoom.reserved_date.in_(days)
            )
        )
        known = {row.reserved_date: row.is_open for row in rows}
        new_days = [day for day in days if day not in known]
        reopened = [day for day, is_open in known.items() if not is_open]
        if new_days:
            await session.execute(
                insert(ReservableRoom),
                [{"reserved_date": day, "room_id": room_id, "is_open": True} for day in new_days],
            )
        if reopened:
            await session.execute(
                update(ReservableRoom)
                .where(
                    ReservableRoom.room_id == room_id, ReservableRoom.reserved_date.in_(reopened)
                )
                .values(is_open=True)
            )
    return sorted(new_days + reopened)


async def close_room(
    db: Database, *, room_id: int, from_date: date, to_date: date, weekdays: Sequence[int] | None
) -> list[date]:
    """Stop reservations on the matching dates; refused while active reservations remain."""
    days = dates_in_range(from_date, to_date, weekdays)
    async with db.transaction() as session:
        if await session.get(MeetingRoom, room_id) is None:
            raise RoomNotFound(room_id=room_id)
        # Lock the dates first: a reservation being made for one of them holds a share
        # lock on its date row, so we wait for it and then see it below.
        open_days = list(
            (
                await session.scalars(
                    select(ReservableRoom.reserved_date)
                    .where(
                        ReservableRoom.room_id == room_id,
                        ReservableRoom.reserved_date.in_(days),
                        ReservableRoom.is_open.is_(True),
                    )
                    .with_for_update()
                )
            ).all()
        )
        if not open_days:
            return []
        blocking = (
            await session.execute(
                select(
                    Reservation.reservation_id,
                    Reservation.reserved_date,
                    Reservation.start_minute,
                    Reservation.end_minute,
                    Reservation.user_id,
                )
                .where(
                    Reservation.room_id == room_id,
                    Reservation.reserved_date.in_(open_days),
                    Reservation.status == ReservationStatus.ACTIVE,
                )
                .order_by(Reservation.reserved_date, Reservation.start_minute)
            )
        ).all()
        if blocking:
            raise RoomHasReservations(
                count=len(blocking),
                details=[
                    {
                        "reservation_id": row.reservation_id,
                        "date": row.reserved_date.isoformat(),
                        "start_time": format_minute(row.start_minute),
                        "end_time": format_minute(row.end_minute),
                        "user_id": row.user_id,
                    }
                    for row in blocking[:100]
                ],
            )
        await session.execute(
            update(ReservableRoom)
            .where(ReservableRoom.room_id == room_id, ReservableRoom.reserved_date.in_(open_days))
            .values(is_open=False)
        )
    return sorted(open_days)
