"""No-shows: bookings in check-in rooms that nobody checked in to, per room and overall.

The rate is released ÷ bookings that started: bookings dated in the period, in rooms
whose policy asks for check-in, that held their slot up to their start (ACTIVE, checked
in or not yet released, or RELEASED), and whose start (site wall time) is not after now.
A booking cancelled beforehand never started; one to come has not started yet. Read from
the reservations themselves (the summary tables do not know check-ins): the partial index
on slot-holding rows does not cover RELEASED, but the room-day index does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, literal, or_, select

from mrs.db.engine import Database
from mrs.policies.models import RoomPolicy
from mrs.reports.periods import Period, share
from mrs.reservations.models import Reservation, ReservationStatus
from mrs.wallclock import minutes_gone


@dataclass(frozen=True)
class NoShows:
    """Bookings that started in a check-in room, and how many of them were released."""

    started: int = 0
    released: int = 0

    @property
    def rate(self) -> float:
        """Released ÷ started (0 when none started)."""
        return share(self.released, self.started)


def total(rows: dict[int, NoShows]) -> NoShows:
    """The rooms' no-shows together."""
    return NoShows(
        started=sum(each.started for each in rows.values()),
        released=sum(each.released for each in rows.values()),
    )


async def no_shows(
    db: Database, *, period: Period, now: datetime, tz: ZoneInfo, room_id: int | None = None
) -> dict[int, NoShows]:
    """Per room that asks for check-in (and had a booking start in the period)."""
    today = now.astimezone(tz).date()
    # Today's bookings have started when their start minute is gone (`minutes_gone`).
    gone = minutes_gone(today, now, tz)
    started = or_(
        Reservation.reserved_date < literal(today),
        and_(Reservation.reserved_date == literal(today), Reservation.start_minute < gone),
    )
    released = Reservation.status == ReservationStatus.RELEASED.value
    query = (
        select(
            Reservation.room_id,
            func.count().label("started"),
            func.coalesce(func.sum(case((released, 1), else_=0)), 0).label("released"),
        )
        .join(RoomPolicy, RoomPolicy.room_id == Reservation.room_id)
        .where(
            RoomPolicy.checkin_required.is_(True),
            Reservation.reserved_date.between(literal(period.first), literal(period.last)),
            Reservation.status.in_(
                [ReservationStatus.ACTIVE.value, ReservationStatus.RELEASED.value]
            ),
            started,
        )
        .group_by(Reservation.room_id)
    )
    if room_id is not None:
        query = query.where(Reservation.room_id == room_id)
    async with db.snapshot() as session:
        rows = (await session.execute(query)).all()
    return {
        int(row.room_id): NoShows(started=int(row.started), released=int(row.released))
        for row in rows
    }
