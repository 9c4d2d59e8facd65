"""Reports' test data written straight into the tables: past dates, closed days, narrowed
hours and cancelled meetings, which booking through the API would not allow."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, update

from mrs.db.engine import Database
from mrs.reservations.models import Reservation, ReservationStatus
from mrs.rooms.models import MeetingRoom, ReservableRoom

CREATED = datetime(2029, 11, 1, tzinfo=UTC)


async def set_hours(db: Database, room_id: int, open_minute: int, close_minute: int) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(MeetingRoom)
            .where(MeetingRoom.room_id == room_id)
            .values(open_minute=open_minute, close_minute=close_minute)
        )


async def open_days(
    db: Database, room_id: int, first: date, last: date, *, closed: set[date]
) -> None:
    """A date row for every date from `first` to `last`: open, except `closed`."""
    rows = []
    day = first
    while day <= last:
        rows.append({"reserved_date": day, "room_id": room_id, "is_open": day not in closed})
        day += timedelta(days=1)
    async with db.transaction() as session:
        await session.execute(insert(ReservableRoom), rows)


async def book(
    db: Database,
    room_id: int,
    day: date,
    start: int,
    end: int,
    user_id: str,
    *,
    status: ReservationStatus = ReservationStatus.ACTIVE,
) -> None:
    async with db.transaction() as session:
        await session.execute(
            insert(Reservation).values(
                room_id=room_id,
                reserved_date=day,
                start_minute=start,
                end_minute=end,
                user_id=user_id,
                status=status.value,
                created_at=CREATED,
                cancelled_at=CREATED if status == ReservationStatus.CANCELLED else None,
            )
        )
