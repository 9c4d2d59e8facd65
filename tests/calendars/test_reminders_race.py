"""Two job runners at once on PostgreSQL (as two app processes have): every reminder is
queued exactly once, with the leader lock and, should the lock calls interleave, past it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mrs.app import create_app
from mrs.calendars import preferences, reminders
from mrs.calendars.models import ReminderSent
from mrs.clock import FixedClock
from mrs.db.engine import Database
from mrs.notifications.models import OutboxMail
from mrs.settings import Settings
from tests.conftest import PINNED_NOW, LoginFactory, RoomFactory, UserFactory

RUNNERS = 2
START = PINNED_NOW.replace(hour=10)
# Each person's reminder: an hour, half an hour or ten minutes ahead, or none.
CHOICES = (60, 30, 10, None)


async def _meetings(
    app: Any,
    client: httpx.AsyncClient,
    make_user: UserFactory,
    login: LoginFactory,
    rooms: list[int],
) -> int:
    """Twelve people, six meetings at 10:00 and 10:30 with everyone invited; returns how
    many reminders are due in all (one per meeting and person with a reminder)."""
    people = [await make_user(f"person{number}") for number in range(12)]
    for number, user_id in enumerate(people):
        await preferences.save_preferences(
            app.state.db,
            user_id=user_id,
            own_bookings=True,
            invitations=True,
            reminder_minutes=CHOICES[number % len(CHOICES)],
        )
    expected = 0
    for index, room in enumerate(rooms):
        for start, end in (("10:00", "10:30"), ("10:30", "11:00")):
            owner = people[index]
            response = await client.post(
                f"/api/rooms/{room}/reservations",
                json={
                    "date": START.date().isoformat(),
                    "start_time": start,
                    "end_time": end,
                    "attendees": [p for p in people if p != owner],
                },
                headers=await login(owner),
            )
            assert response.status_code == 201, response.text
            expected += sum(1 for n in range(len(people)) if CHOICES[n % len(CHOICES)])
    return expected


async def _counts(db: Database) -> tuple[int, int, int]:
    async with db.snapshot() as session:
        mails = await session.scalar(select(func.count()).select_from(OutboxMail))
        distinct = await session.scalar(
            select(func.count()).select_from(
                select(OutboxMail.recipient, OutboxMail.subject).distinct().subquery()
            )
        )
        sent = await session.scalar(select(func.count()).select_from(ReminderSent))
    return int(mails or 0), int(distinct or 0), int(sent or 0)


async def _every_minute(run: Callable[[datetime], Any]) -> None:
    """Rounds every minute from 09:00 to 10:40, as the job would run."""
    for minute in range(0, 101):
        await run(START - timedelta(minutes=60) + timedelta(minutes=minute))


@pytest.fixture
async def second_app(settings: Settings) -> AsyncIterator[tuple[Any, FixedClock]]:
    """Another app on the same database: another process's runner and pools."""
    clock = FixedClock(PINNED_NOW)
    other = create_app(settings, clock=clock)
    yield other, clock
    await other.state.db.dispose()


async def test_two_app_runners_queue_each_reminder_once(
    app: Any,
    clock: FixedClock,
    second_app: tuple[Any, FixedClock],
    client: httpx.AsyncClient,
    make_user: UserFactory,
    login: LoginFactory,
    make_room: RoomFactory,
) -> None:
    rooms = [await make_room() for _ in range(3)]
    expected = await _meetings(app, client, make_user, login, rooms)
    other, other_clock = second_app

    async def both(moment: datetime) -> None:
        clock.now = other_clock.now = moment
        await asyncio.gather(
            app.state.background.run_once(reminders.JOB_NAME),
            other.state.background.run_once(reminders.JOB_NAME),
        )

    await _every_minute(both)
    states = [
        next(s for s in runner.state.background.states() if s.name == reminders.JOB_NAME)
        for runner in (app, other)
    ]
    assert [s.last_error for s in states] == [None, None]
    mails, distinct, sent = await _counts(app.state.db)
    skipped = sum(s.skipped_not_leader for s in states)
    print(
        f"\n{RUNNERS} runners, 101 rounds: {mails} mails for {expected} reminders; "
        f"{skipped} turns skipped by the leader lock"
    )
    assert (mails, distinct, sent) == (expected, expected, expected)


async def test_past_the_leader_lock_the_primary_key_still_sends_each_once(
    app: Any,
    settings: Settings,
    client: httpx.AsyncClient,
    make_user: UserFactory,
    login: LoginFactory,
    make_room: RoomFactory,
) -> None:
    rooms = [await make_room() for _ in range(3)]
    expected = await _meetings(app, client, make_user, login, rooms)
    databases = [Database(settings) for _ in range(RUNNERS)]
    queued: list[int] = []
    try:

        async def racing(moment: datetime) -> None:
            # As two hosts whose lock calls interleave: both run the round at once.
            counts = await asyncio.gather(
                *(reminders.send_due_reminders(db, settings, now=moment) for db in databases)
            )
            queued.extend(counts)

        await _every_minute(racing)
    finally:
        for db in databases:
            await db.dispose()
    assert sum(queued) == expected
    assert await _counts(app.state.db) == (expected, expected, expected)
