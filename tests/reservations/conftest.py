"""Fixtures for the views that help find a slot: every test runs on PostgreSQL and on the
embedded SQLite default, and can give rooms equipment and meetings their details."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import insert, update

from mrs.clock import FixedClock
from mrs.http.types import parse_hour_minute
from mrs.reservations import service as reservations_service
from mrs.reservations.models import Reservation, ReservationAttendee
from mrs.rooms.models import Equipment, RoomEquipment

EquipmentFactory = Callable[..., Awaitable[None]]


@pytest.fixture
def equip(app: Any, clock: FixedClock) -> EquipmentFactory:
    """Give a room equipment codes (adding them to the equipment list when new)."""
    known: set[str] = set()

    async def factory(room_id: int, *codes: str) -> None:
        async with app.state.db.transaction() as session:
            for code in codes:
                if code not in known:
                    await session.execute(
                        insert(Equipment).values(
                            equipment_code=code,
                            name_en=code.replace("_", " ").capitalize(),
                            name_ja=f"{code}（日本語）",
                            created_at=clock(),
                        )
                    )
                    known.add(code)
                await session.execute(
                    insert(RoomEquipment).values(room_id=room_id, equipment_code=code)
                )

    return factory


MeetingFactory = Callable[..., Awaitable[int]]


@pytest.fixture
def meeting(app: Any, clock: FixedClock) -> MeetingFactory:
    """Reserve through the service, then give the meeting its title, visibility and
    attendees as the meeting fields store them; returns the reservation id."""

    async def factory(
        user_id: str,
        room_id: int,
        day: date,
        start: str,
        end: str,
        *,
        title: str | None = None,
        visibility: str = "PUBLIC",
        attendees: tuple[str, ...] = (),
        now: datetime | None = None,
    ) -> int:
        db = app.state.db
        answer = await reservations_service.reserve(
            db,
            settings=db.settings,
            user_id=user_id,
            room_id=room_id,
            day=day,
            start_minute=parse_hour_minute(start),
            end_minute=parse_hour_minute(end),
            now=now or clock(),
        )
        async with db.transaction() as session:
            await session.execute(
                update(Reservation)
                .where(Reservation.reservation_id == answer.reservation_id)
                .values(title=title, visibility=visibility)
            )
            for attendee in attendees:
                await session.execute(
                    insert(ReservationAttendee).values(
                        reservation_id=answer.reservation_id, user_id=attendee
                    )
                )
        return answer.reservation_id

    return factory
