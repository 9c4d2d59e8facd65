"""Reservation use cases: reserve, cancel, list.

Double booking is prevented in one statement: the insert happens only when the room is
open that day and no active reservation overlaps. On PostgreSQL the exclusion constraint
is the real guarantee (two racing inserts both see "free"; the second then fails with
23P01, or 40P01 when they deadlock), and both become ReservationConflict. On SQLite,
write transactions are serialised (BEGIN IMMEDIATE), so the check cannot race.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Row, Select, TextClause, bindparam, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from mrs.accounts.models import User
from mrs.db.engine import Database
from mrs.db.errors import DEADLOCK_DETECTED, EXCLUSION_VIOLATION, FOREIGN_KEY_VIOLATION, sqlstate
from mrs.db.types import UTCDateTime
from mrs.reservations import rules
from mrs.reservations.errors import (
    AlreadyCancelled,
    ReservationConflict,
    ReservationNotFound,
    RoomNotReservable,
)
from mrs.reservations.models import Reservation, ReservationStatus
from mrs.rooms.models import MeetingRoom, ReservableRoom
from mrs.settings import Settings
from mrs.wallclock import format_minute

_INSERT_IF_FREE = """
WITH slot AS (
    SELECT 1 AS ok FROM reservable_room
    WHERE room_id = :room_id AND reserved_date = :day AND is_open {lock}
)
INSERT INTO reservation
    (room_id, reserved_date, start_minute, end_minute, user_id, status, created_at)
SELECT :room_id, :day, :start_minute, :end_minute, :user_id, 'ACTIVE', :now FROM slot
WHERE NOT EXISTS (
    SELECT 1 FROM reservation AS other
    WHERE other.room_id = :room_id AND other.reserved_date = :day
      AND other.status = 'ACTIVE'
      AND other.start_minute < :end_minute AND other.end_minute > :start_minute
)
RETURNING reservation_id
"""


def _insert_statement(dialect: str) -> TextClause:
    # FOR SHARE makes an admin closing this date wait for us (and us for them).
    lock = "FOR SHARE" if dialect == "postgresql" else ""
    return text(_INSERT_IF_FREE.format(lock=lock)).bindparams(
        bindparam("day", type_=Date()), bindparam("now", type_=UTCDateTime())
    )


@dataclass(frozen=True)
class ReservationView:
    reservation_id: int
    room_id: int
    room_name: str
    date: date
    start_time: int
    end_time: int
    user_id: str
    user_name: str
    status: str
    created_at: datetime
    cancelled_at: datetime | None
    cancelled_by: str | None


def _view_query() -> Select[*tuple[Any, ...]]:
    return (
        select(
            Reservation.reservation_id,
            Reservation.room_id,
            MeetingRoom.room_name,
            Reservation.reserved_date,
            Reservation.start_minute,
            Reservation.end_minute,
            Reservation.user_id,
            User.first_name,
            User.last_name,
            Reservation.status,
            Reservation.created_at,
            Reservation.cancelled_at,
            Reservation.cancelled_by,
        )
        .join(MeetingRoom, MeetingRoom.room_id == Reservation.room_id)
        .join(User, User.user_id == Reservation.user_id)
    )


def _to_view(row: Row[*tuple[Any, ...]]) -> ReservationView:
    m = row._mapping
    return ReservationView(
        reservation_id=m["reservation_id"],
        room_id=m["room_id"],
        room_name=m["room_name"],
        date=m["reserved_date"],
        start_time=m["start_minute"],
        end_time=m["end_minute"],
        user_id=m["user_id"],
        user_name=f"{m['first_name']} {m['last_name']}".strip(),
        status=m["status"],
        created_at=m["created_at"],
        cancelled_at=m["cancelled_at"],
        cancelled_by=m["cancelled_by"],
    )


async def _why_not_inserted(
    session: AsyncSession, *, room_id: int, day: date, start_minute: int, end_minute: int
) -> ReservationConflict | RoomNotReservable:
    is_open = await session.scalar(
        select(ReservableRoom.is_open).where(
            ReservableRoom.room_id == room_id, ReservableRoom.reserved_date == day
        )
    )
    if not is_open:
        return RoomNotReservable(room_id=room_id, date=day.isoformat())
    other = (
        await session.execute(
            select(Reservation.reservation_id, Reservation.start_minute, Reservation.end_minute)
            .where(
                Reservation.room_id == room_id,
                Reservation.reserved_date == day,
                Reservation.status == ReservationStatus.ACTIVE,
                Reservation.start_minute < end_minute,
                Reservation.end_minute > start_minute,
            )
            .order_by(Reservation.start_minute)
            .limit(1)
        )
    ).first()
    if other is None:
        # The blocking reservation was cancelled meanwhile; still a conflict for this try.
        return ReservationConflict(start=format_minute(start_minute), end=format_minute(end_minute))
    return ReservationConflict(
        start=format_minute(other.start_minute),
        end=format_minute(other.end_minute),
        details={"reservation_id": other.reservation_id},
    )


async def reserve(
    db: Database,
    *,
    settings: Settings,
    user_id: str,
    room_id: int,
    day: date,
    start_minute: int,
    end_minute: int,
    now: datetime,
) -> ReservationView:
    """Reserve a room for a time range on a day, or raise why not."""
    rules.check_time_range(start_minute, end_minute, settings.slot_minutes)
    rules.check_not_in_past(day, start_minute, now, settings.tz)
    params = {
        "room_id": room_id,
        "day": day,
        "start_minute": start_minute,
        "end_minute": end_minute,
        "user_id": user_id,
        "now": now,
    }
    try:
        async with db.transaction() as session:
            new_id = await session.scalar(_insert_statement(db.dialect), params)
            if new_id is None:
                raise await _why_not_inserted(
                    session,
                    room_id=room_id,
                    day=day,
                    start_minute=start_minute,
                    end_minute=end_minute,
                )
    except DBAPIError as exc:
        state = sqlstate(exc)
        if state not in (EXCLUSION_VIOLATION, DEADLOCK_DETECTED, FOREIGN_KEY_VIOLATION):
            raise
        async with db.snapshot() as session:
            raise await _why_not_inserted(
                session, room_id=room_id, day=day, start_minute=start_minute, end_minute=end_minute
            ) from exc
    return await get_reservation(db, reservation_id=new_id)


async def get_reservation(db: Database, *, reservation_id: int) -> ReservationView:
    async with db.snapshot() as session:
        row = (
            await session.execute(_view_query().where(Reservation.reservation_id == reservation_id))
        ).first()
    if row is None:
        raise ReservationNotFound(reservation_id=reservation_id)
    return _to_view(row)


async def reservations_of_room_day(
    db: Database, *, room_id: int, day: date
) -> list[ReservationView]:
    """The active reservations of a room on a day, in time order."""
    query = (
        _view_query()
        .where(
            Reservation.room_id == room_id,
            Reservation.reserved_date == day,
            Reservation.status == ReservationStatus.ACTIVE,
        )
        .order_by(Reservation.start_minute)
    )
    async with db.snapshot() as session:
        return [_to_view(row) for row in (await session.execute(query)).all()]


async def reservations_of_day(db: Database, *, day: date) -> list[ReservationView]:
    """Every active reservation on a day, by room and time (one query for a day overview)."""
    query = (
        _view_query()
        .where(
            Reservation.reserved_date == day,
            Reservation.status == ReservationStatus.ACTIVE,
        )
        .order_by(Reservation.room_id, Reservation.start_minute)
    )
    async with db.snapshot() as session:
        return [_to_view(row) for row in (await session.execute(query)).all()]


async def reservations_of_user(
    db: Database, *, user_id: str, now: datetime, settings: Settings, limit: int = 500
) -> list[ReservationView]:
    """A user's reservations: upcoming ones first (soonest first), then past ones (latest first)."""
    query = (
        _view_query()
        .where(Reservation.user_id == user_id)
        .order_by(Reservation.reserved_date.desc(), Reservation.start_minute.desc())
        .limit(limit)
    )
    async with db.snapshot() as session:
        views = [_to_view(row) for row in (await session.execute(query)).all()]
    upcoming: list[ReservationView] = []
    past: list[ReservationView] = []
    for view in views:
        ended = rules.local_datetime(view.date, view.end_time, settings.tz) <= now
        (past if ended else upcoming).append(view)
    return upcoming[::-1] + past


async def cancel(
    db: Database,
    *,
    settings: Settings,
    actor: rules.Actor,
    reservation_id: int,
    now: datetime,
) -> None:
    """Cancel a reservation (kept with status CANCELLED, never deleted)."""
    async with db.transaction() as session:
        row = (
            await session.execute(
                select(
                    Reservation.user_id,
                    Reservation.reserved_date,
                    Reservation.end_minute,
                    Reservation.status,
                )
                .where(Reservation.reservation_id == reservation_id)
                .with_for_update()
            )
        ).first()
        if row is None:
            raise ReservationNotFound(reservation_id=reservation_id)
        rules.check_can_cancel(
            actor,
            owner_id=row.user_id,
            day=row.reserved_date,
            end_minute=row.end_minute,
            now=now,
            tz=settings.tz,
        )
        if row.status == ReservationStatus.CANCELLED:
            raise AlreadyCancelled()
        await session.execute(
            update(Reservation)
            .where(Reservation.reservation_id == reservation_id)
            .values(
                status=ReservationStatus.CANCELLED.value,
                cancelled_at=now,
                cancelled_by=actor.user_id,
            )
        )
