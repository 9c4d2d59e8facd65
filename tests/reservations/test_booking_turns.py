"""On PostgreSQL, bookings of one room on one day take turns, so racing overlapping bookings
never deadlock.

Without turns, two overlapping inserts each found the other's uncommitted row in the
exclusion constraint and waited for each other; PostgreSQL broke each such deadlock only
after `deadlock_timeout` (1 s), and under a burst these seconds added up past the
statement timeout (CI once answered a racing booking 503). The race below counts the
deadlocks PostgreSQL itself reports for the test's database."""

from __future__ import annotations

import asyncio
import time
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from mrs.clock import FixedClock
from mrs.db.urls import sync_url
from mrs.reservations import service
from mrs.reservations.errors import ReservationConflict
from mrs.settings import Settings
from tests.conftest import RoomFactory, UserFactory

pytestmark = pytest.mark.slow

BOOKINGS = 40
ROUNDS = 4  # one day each; one round deadlocked only about half the time on the old code


def _deadlocks_after_backends_left(database_url: str) -> int:
    """pg_stat_database.deadlocks for the test's database, read once the app's backends
    have exited (a backend reports its counters when it ends)."""
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                others = connection.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
                if not others:
                    break
                time.sleep(0.1)
                connection.execute(text("SELECT pg_stat_clear_snapshot()"))
            connection.execute(text("SELECT pg_stat_clear_snapshot()"))
            return int(
                connection.scalar(
                    text(
                        "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
                    )
                )
                or 0
            )
    finally:
        engine.dispose()


async def test_racing_overlapping_bookings_take_turns_and_never_deadlock(
    app: Any,
    settings: Settings,
    clock: FixedClock,
    tomorrow: date,
    make_user: UserFactory,
    make_room: RoomFactory,
) -> None:
    owner = await make_user()
    room = await make_room()
    # Forty hour-and-a-half meetings from 09:00 on, each overlapping its neighbours.
    ranges = [(540 + 30 * (index % 16), 540 + 30 * (index % 16) + 90) for index in range(BOOKINGS)]

    async def book(day: date, start: int, end: int) -> str:
        try:
            await service.reserve(
                app.state.db,
                settings=settings,
                user_id=owner,
                room_id=room,
                day=day,
                start_minute=start,
                end_minute=end,
                now=clock(),
            )
        except ReservationConflict:
            return "taken"
        return "booked"

    for round_ in range(ROUNDS):
        day = tomorrow + timedelta(days=round_)
        outcomes = await asyncio.gather(*(book(day, start, end) for start, end in ranges))
        assert set(outcomes) == {"booked", "taken"}
    await app.state.db.dispose()

    assert _deadlocks_after_backends_left(settings.database_url) == 0
