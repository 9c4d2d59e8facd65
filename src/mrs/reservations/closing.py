"""Closing a room on dates: refused while active reservations fall on them.

The use case lives here, not in rooms, because it reads reservations: rooms locks and
closes its date rows, reservations decides whether anything is in the way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mrs.audit import service as audit
from mrs.db.engine import Database
from mrs.reservations.errors import RoomHasReservations
from mrs.reservations.models import SLOT_HOLDING, Reservation
from mrs.rooms import opening as rooms_opening
from mrs.rooms import service as rooms_service
from mrs.rooms.models import ClosureDay
from mrs.rooms.rules import dates_in_range
from mrs.wallclock import format_minute

# The refusal lists this many reservations at most (the count is always exact).
MAX_LISTED = 100


async def close_room(
    db: Database,
    *,
    room_id: int,
    from_date: date,
    to_date: date,
    weekdays: Sequence[int] | None,
    actor_id: str | None = None,
    now: datetime | None = None,
) -> list[date]:
    """Stop reservations on the matching dates; refused while active reservations remain."""
    days = dates_in_range(from_date, to_date, weekdays)
    async with db.transaction() as session:
        # Locked first: a reservation being made now is waited for, then seen below.
        open_days = await rooms_service.lock_open_dates(session, room_id=room_id, days=days)
        if not open_days:
            return []
        _refuse_if_reserved(await _active_on(session, room_ids=[room_id], days=open_days))
        await rooms_service.mark_closed(session, room_id=room_id, days=open_days)
        await audit.record(
            session,
            action="room.close_dates",
            subject_type="room",
            subject_id=room_id,
            after={"closed": [day.isoformat() for day in sorted(open_days)]},
            actor_id=actor_id,
            at=now,
        )
    return sorted(open_days)


async def add_closure_day(
    db: Database, *, day: date, label: str, created_by: str | None, now: datetime
) -> ClosureDay:
    """Make `day` a closure day of the site: every room closes that date (and the daily
    job never opens it); refused while active reservations fall on it."""
    async with db.transaction() as session:
        closure = await rooms_opening.add_closure_day(
            session, day=day, label=label, created_by=created_by, now=now
        )
        # Locked first: a reservation being made now is waited for, then seen below.
        open_rooms = await rooms_opening.lock_open_rooms_on(session, day=day)
        if open_rooms:
            _refuse_if_reserved(await _active_on(session, room_ids=open_rooms, days=[day]))
            await rooms_opening.close_rooms_on(session, day=day, room_ids=open_rooms)
        await audit.record(
            session,
            action="closure_day.create",
            subject_type="closure_day",
            subject_id=day.isoformat(),
            after={"label": label, "closed_rooms": sorted(open_rooms)},
            actor_id=created_by,
            at=now,
        )
    return closure


async def _active_on(
    session: AsyncSession, *, room_ids: Sequence[int], days: Sequence[date]
) -> Sequence[Any]:
    """The active reservations of the rooms on the days, by date, time and room."""
    return (
        await session.execute(
            select(
                Reservation.reservation_id,
                Reservation.room_id,
                Reservation.reserved_date,
                Reservation.start_minute,
                Reservation.end_minute,
                Reservation.user_id,
            )
            .where(
                Reservation.room_id.in_(room_ids),
                Reservation.reserved_date.in_(days),
                Reservation.status.in_(SLOT_HOLDING),
            )
            .order_by(Reservation.reserved_date, Reservation.start_minute, Reservation.room_id)
        )
    ).all()


def _refuse_if_reserved(blocking: Sequence[Any]) -> None:
    """Refuse closing while reservations remain, listing them (at most MAX_LISTED)."""
    if blocking:
        raise RoomHasReservations(
            count=len(blocking),
            details=[
                {
                    "reservation_id": row.reservation_id,
                    "room_id": row.room_id,
                    "date": row.reserved_date.isoformat(),
                    "start_time": format_minute(row.start_minute),
                    "end_time": format_minute(row.end_minute),
                    "user_id": row.user_id,
                }
                for row in blocking[:MAX_LISTED]
            ],
        )
