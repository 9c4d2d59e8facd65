"""The database decides racing moves: 100 reservations of different users moved at once
into one free slot through the app on PostgreSQL. Exactly one wins, the other 99 get 409
naming the winner and stay where they were, and SQL finds no overlapping active pair."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from mrs.accounts import users
from mrs.accounts.models import Role, UserStatus
from mrs.clock import FixedClock
from mrs.db.urls import sync_url
from tests.conftest import DEFAULT_PASSWORD, LoginFactory, RoomFactory

pytestmark = pytest.mark.slow

MOVERS = 100
ROOMS = 4


async def _users(app: Any, clock: FixedClock) -> list[str]:
    """MOVERS active users sharing one password hash (hashing 100 times adds nothing)."""
    template = await users.new_user(
        user_id="mover000",
        password=DEFAULT_PASSWORD,
        email="mover000@example.com",
        first_name="Move",
        last_name="Zero",
        role=Role.USER,
        status=UserStatus.ACTIVE,
        now=clock(),
        locale=None,
    )
    ids = [f"mover{index:03d}" for index in range(MOVERS)]
    async with app.state.db.transaction() as session:
        for user_id in ids:
            await users.insert_user(
                session,
                users.User(
                    user_id=user_id,
                    password_hash=template.password_hash,
                    email=f"{user_id}@example.com",
                    first_name="Move",
                    last_name=user_id,
                    role_name=Role.USER.value,
                    status=UserStatus.ACTIVE.value,
                    created_at=clock(),
                ),
            )
    return ids


def _overlapping_active_pairs(database_url: str) -> int:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            return int(
                connection.scalar(
                    text(
                        "SELECT count(*) FROM reservation a JOIN reservation b "
                        "ON a.room_id = b.room_id AND a.reserved_date = b.reserved_date "
                        "AND a.reservation_id < b.reservation_id "
                        "AND a.start_minute < b.end_minute AND b.start_minute < a.end_minute "
                        "WHERE a.status = 'ACTIVE' AND b.status = 'ACTIVE'"
                    )
                )
                or 0
            )
    finally:
        engine.dispose()


async def test_a_hundred_concurrent_moves_into_one_free_slot_exactly_one_wins(
    app: Any,
    client: httpx.AsyncClient,
    login: LoginFactory,
    make_room: RoomFactory,
    clock: FixedClock,
    tomorrow: date,
    database_url: str,
) -> None:
    rooms = [await make_room() for _ in range(ROOMS)]
    movers = await _users(app, clock)
    headers = [await login(user_id) for user_id in movers]
    reservations = []
    for index, auth in enumerate(headers):
        room = rooms[index % ROOMS]
        start = 7 * 60 + (index // ROOMS) * 30
        created = await client.post(
            f"/api/rooms/{room}/reservations",
            json={
                "date": tomorrow.isoformat(),
                "start_time": f"{start // 60:02d}:{start % 60:02d}",
                "end_time": f"{(start + 30) // 60:02d}:{(start + 30) % 60:02d}",
                "title": f"Meeting {index}",
            },
            headers=auth,
        )
        assert created.status_code == 201, created.text
        reservations.append(created.json())

    target_day = (tomorrow + timedelta(days=1)).isoformat()
    gate = asyncio.Event()

    async def move(index: int) -> httpx.Response:
        await gate.wait()
        return await client.patch(
            f"/api/reservations/{reservations[index]['reservation_id']}",
            json={
                "room_id": rooms[0],
                "date": target_day,
                "start_time": "10:00",
                "end_time": "11:00",
            },
            headers={**headers[index], "If-Match": '"1"'},
        )

    tasks = [asyncio.create_task(move(index)) for index in range(MOVERS)]
    await asyncio.sleep(0.05)
    gate.set()
    answers = await asyncio.gather(*tasks)

    statuses = [answer.status_code for answer in answers]
    assert statuses.count(200) == 1, statuses
    assert statuses.count(409) == MOVERS - 1, statuses
    winner = answers[statuses.index(200)].json()
    assert (winner["room_id"], winner["date"], winner["start_time"]) == (
        rooms[0],
        target_day,
        "10:00",
    )
    assert winner["version"] == 2
    for index, answer in enumerate(answers):
        if answer.status_code == 409:
            error = answer.json()["error"]
            assert error["code"] == "reservation_conflict"
            assert error["details"] == {"reservation_id": winner["reservation_id"]}
            # The loser is exactly where it was.
            unchanged = await client.get(
                f"/api/reservations/{reservations[index]['reservation_id']}",
                headers=headers[index],
            )
            assert unchanged.json() == reservations[index]
    assert _overlapping_active_pairs(database_url) == 0
