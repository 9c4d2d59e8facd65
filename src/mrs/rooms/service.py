"""Room use cases: managing rooms and the dates they can be reserved."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mrs.db.engine import Database
from mrs.rooms.errors import RoomNameTaken, RoomNotFound
from mrs.rooms.models import MeetingRoom, ReservableRoom
from mrs.rooms.rules import dates_in_range


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


async def lock_open_dates(
    session: AsyncSession, *, room_id: int, days: Sequence[date]
) -> list[date]:
    """Within the caller's transaction: which of `days` the room is open on, those date
    rows locked until it ends (a reservation being made for one of them holds a share
    lock on its date row, so this waits for it and the caller then sees it)."""
    if await session.get(MeetingRoom, room_id) is None:
        raise RoomNotFound(room_id=room_id)
    return list(
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


async def mark_closed(session: AsyncSession, *, room_id: int, days: Sequence[date]) -> None:
    """Within the caller's transaction: stop reservations of the room on `days`."""
    await session.execute(
        update(ReservableRoom)
        .where(ReservableRoom.room_id == room_id, ReservableRoom.reserved_date.in_(days))
        .values(is_open=False)
    )
