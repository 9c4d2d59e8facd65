"""No way past a quota with parallel requests: 20 bookings by one user at once, with a
quota of 5 reservations to come, on PostgreSQL. Exactly 5 are created, 15 refused 422,
and the database holds 5 (the user's row is locked before counting)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mrs.reservations.models import Reservation
from tests.conftest import LoginFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.slow

ATTEMPTS = 20
QUOTA = 5


@pytest.mark.parametrize("with_key", [False, True], ids=["plain", "idempotency-key"])
async def test_twenty_parallel_bookings_with_a_quota_of_five_create_exactly_five(
    app: Any,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    make_user: UserFactory,
    login: LoginFactory,
    make_room: RoomFactory,
    tomorrow: date,
    with_key: bool,
) -> None:
    user = await make_user("racer")
    headers = await login(user)
    rooms = [await make_room() for _ in range(2)]
    put = await client.put(
        f"/api/admin/users/{user}/quota",
        json={"max_future_reservations": QUOTA, "reason": "race test"},
        headers=admin_headers,
    )
    assert put.status_code == 200, put.text

    async def book(index: int) -> httpx.Response:
        hour = 8 + index // 2
        extra = {"Idempotency-Key": f"race-{index}"} if with_key else {}
        return await client.post(
            f"/api/rooms/{rooms[index % 2]}/reservations",
            json={
                "date": tomorrow.isoformat(),
                "start_time": f"{hour:02d}:00",
                "end_time": f"{hour:02d}:30",
            },
            headers={**headers, **extra},
        )

    answers = await asyncio.gather(*(book(index) for index in range(ATTEMPTS)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] * QUOTA + [422] * (ATTEMPTS - QUOTA), [a.text for a in answers]
    refused = {a.json()["error"]["code"] for a in answers if a.status_code == 422}
    assert refused == {"quota_future_reservations"}
    async with app.state.db.snapshot() as session:
        held = await session.scalar(
            select(func.count()).select_from(Reservation).where(Reservation.user_id == user)
        )
    assert held == QUOTA
