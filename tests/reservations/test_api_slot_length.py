"""MRS_SLOT_MINUTES=15: quarter-hour reservations work end to end."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from mrs.settings import Settings
from tests.conftest import DEFAULT_PASSWORD, RoomFactory, UserFactory


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"slot_minutes": 15})


async def test_quarter_hours_are_accepted_with_fifteen_minute_slots(
    client: httpx.AsyncClient, make_user: UserFactory, make_room: RoomFactory, tomorrow: date
) -> None:
    room = await make_room()
    await make_user("quarter")
    token = (
        await client.post(
            "/api/auth/login", json={"user_id": "quarter", "password": DEFAULT_PASSWORD}
        )
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    ok = await client.post(
        f"/api/rooms/{room}/reservations",
        json={"date": tomorrow.isoformat(), "start_time": "10:15", "end_time": "10:45"},
        headers=headers,
    )
    assert ok.status_code == 201
    bad = await client.post(
        f"/api/rooms/{room}/reservations",
        json={"date": tomorrow.isoformat(), "start_time": "11:10", "end_time": "11:45"},
        headers=headers,
    )
    assert bad.status_code == 422
    assert "15-minute" in bad.json()["error"]["message"]


async def test_api_clients_read_the_slot_length_and_day_from_the_config(
    client: httpx.AsyncClient, user_headers: dict[str, str], settings: Settings
) -> None:
    assert (await client.get("/api/config")).status_code == 401
    response = await client.get("/api/config", headers=user_headers)
    assert response.status_code == 200
    assert response.json() == {
        "slot_minutes": 15,
        "time_zone": settings.timezone,
        "day_start_time": f"{settings.web_day_start_hour:02d}:00",
        "day_end_time": f"{settings.web_day_end_hour:02d}:00",
        "idempotency_key_hours": settings.idempotency_key_hours,
    }
