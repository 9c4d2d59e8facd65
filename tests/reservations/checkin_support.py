"""Shared set-up for the check-in and release tests: a room whose policy asks for
check-in, a booking in it, and moving the pinned clock to a wall time of the site."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import insert

from mrs.clock import FixedClock
from mrs.policies import service as policies_service
from mrs.policies.service import PolicyValues
from mrs.reservations import service as reservations_service
from mrs.reservations.models import ReservationAttendee, ReservationDelegate
from mrs.wallclock import wall_instant

GRACE = 15


async def require_checkin(app: Any, room_id: int, *, grace: int | None = GRACE) -> None:
    """Give the room a policy that asks for check-in (grace None: the site default)."""
    db = app.state.db
    await policies_service.set_policy(
        db,
        settings=db.settings,
        room_id=room_id,
        values=PolicyValues(checkin_required=True, checkin_grace_minutes=grace),
        actor_id="system-test",
        now=wall_instant(date(2030, 1, 1), 0, db.settings.tz),
    )


async def book(
    app: Any,
    clock: FixedClock,
    owner: str,
    room_id: int,
    day: date,
    start: int,
    end: int,
    *,
    attendees: tuple[str, ...] = (),
) -> int:
    """Book through the service at the pinned now; returns the reservation id."""
    db = app.state.db
    answer = await reservations_service.reserve(
        db,
        settings=db.settings,
        user_id=owner,
        room_id=room_id,
        day=day,
        start_minute=start,
        end_minute=end,
        now=clock(),
    )
    if attendees:
        async with db.transaction() as session:
            await session.execute(
                insert(ReservationAttendee),
                [{"reservation_id": answer.reservation_id, "user_id": each} for each in attendees],
            )
    return answer.reservation_id


async def name_delegate(app: Any, clock: FixedClock, principal: str, delegate: str) -> None:
    async with app.state.db.transaction() as session:
        await session.execute(
            insert(ReservationDelegate).values(
                principal_id=principal, delegate_id=delegate, created_at=clock()
            )
        )


def set_wall(app: Any, clock: FixedClock, day: date, minute: int, seconds: int = 0) -> None:
    """Pin "now" to `minute` past local midnight on `day` (plus `seconds`)."""
    from datetime import timedelta

    clock.now = wall_instant(day, minute, app.state.db.settings.tz) + timedelta(seconds=seconds)
