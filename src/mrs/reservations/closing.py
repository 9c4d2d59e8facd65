"""Closing a room on dates: refused while active reservations fall on them.

The use case lives here, not in rooms, because it reads reservations: rooms locks and
closes its date rows, reservations decides whether anything is in the way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select

from mrs.db.engine import Database
from mrs.reservations.errors import RoomHasReservations
from mrs.reservations.models import Reservation, ReservationStatus
from mrs.rooms import service as rooms_service
from mrs.rooms.rules import dates_in_range
from mrs.wallclock import format_minute

# The refusal lists this many reservations at most (the count is always exact).
MAX_LISTED = 100


async def close_room(
    db: Database, *, room_id: int, from_date: date, to_date: date, weekdays: Sequence[int] | None
) -> list[date]:
    """Stop reservations on the matching dates; refused while active reservations remain."""
    days = dates_in_range(from_date, to_date, weekdays)
    async with db.transaction() as session:
        # Locked first: a reservation being made now is waited for, then seen below.
        open_days = await rooms_service.lock_open_dates(session, room_id=room_id, days=days)
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
                    for row in blocking[:MAX_LISTED]
                ],
            )
        await rooms_service.mark_closed(session, room_id=room_id, days=open_days)
    return sorted(open_days)
