"""Bad input of every kind gets a 4xx with the error shape, never a 5xx."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from tests.conftest import RoomFactory

HUGE = "x" * 100_000


def _assert_error_shape(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert isinstance(error["code"], str)
    assert isinstance(error["message"], str)
    assert error["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"date": "2025-02-30", "start_time": "10:00", "end_time": "11:00"},
        {"date": "2030-01-08", "start_time": "25:00", "end_time": "26:00"},
        {"date": "2030-01-08", "start_time": "10:00", "end_time": "24:30"},
        {"date": "2030-01-08", "start_time": 600, "end_time": 660},
        {"date": 20300108, "start_time": "10:00", "end_time": "11:00"},
        {"date": None, "start_time": "10:00", "end_time": "11:00"},
        {"date": HUGE, "start_time": HUGE, "end_time": HUGE},
        {"date": "2030-01-08", "start_time": "10:00"},
        {"date": "2030-01-08", "start_time": "10:00", "end_time": "11:00", "extra": 1},
        {"date": "'; DROP TABLE reservation; --", "start_time": "10:00", "end_time": "11:00"},
        [],
        "text",
    ],
)
async def test_malformed_reservation_bodies_are_422(
    client: httpx.AsyncClient, user_headers: dict[str, str], make_room: RoomFactory, body: object
) -> None:
    room = await make_room()
    response = await client.post(f"/api/rooms/{room}/reservations", json=body, headers=user_headers)
    _assert_error_shape(response, 422)


async def test_invalid_json_is_422(
    client: httpx.AsyncClient, user_headers: dict[str, str], make_room: RoomFactory
) -> None:
    room = await make_room()
    response = await client.post(
        f"/api/rooms/{room}/reservations",
        content=b'{"date": "2030-01-08", ',
        headers={**user_headers, "Content-Type": "application/json"},
    )
    _assert_error_shape(response, 422)


@pytest.mark.parametrize(
    "room_id", ["abc", "-1", "0", "99999999999999999999", "1.5", "1%20OR%201=1"]
)
async def test_bad_room_ids_are_4xx(
    client: httpx.AsyncClient, user_headers: dict[str, str], room_id: str
) -> None:
    response = await client.get(
        f"/api/rooms/{room_id}/reservations?date=2030-01-08", headers=user_headers
    )
    assert 400 <= response.status_code < 500
    _assert_error_shape(response, response.status_code)


@pytest.mark.parametrize("value", ["2025-02-30", "yesterday", "", HUGE[:5000], "2030-1-8"])
async def test_bad_query_dates_are_422(
    client: httpx.AsyncClient, user_headers: dict[str, str], value: str
) -> None:
    response = await client.get("/api/rooms", params={"date": value}, headers=user_headers)
    _assert_error_shape(response, 422)


async def test_huge_strings_in_login_are_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/auth/login", json={"user_id": HUGE, "password": HUGE})
    _assert_error_shape(response, 422)


async def test_huge_room_names_are_422(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.post(
        "/api/admin/rooms", json={"room_name": HUGE}, headers=admin_headers
    )
    _assert_error_shape(response, 422)
    response = await client.post(
        "/api/admin/rooms", json={"room_name": "ok", "capacity": 10**12}, headers=admin_headers
    )
    _assert_error_shape(response, 422)


async def test_unknown_routes_and_methods_use_the_error_shape(
    client: httpx.AsyncClient, user_headers: dict[str, str]
) -> None:
    _assert_error_shape(await client.get("/api/nothing-here", headers=user_headers), 404)
    _assert_error_shape(await client.put("/api/rooms", headers=user_headers), 405)


async def test_sql_injection_in_a_user_id_is_just_a_failed_login(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/login", json={"user_id": "' OR '1'='1", "password": "' OR '1'='1"}
    )
    _assert_error_shape(response, 401)


def test_today_is_a_date(today: date) -> None:
    assert isinstance(today, date)


async def test_nul_bytes_are_refused_not_a_server_error(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    login = await client.post("/api/auth/login", json={"user_id": "\x00abc", "password": "x\x00y"})
    assert login.status_code in (401, 422)
    approve = await client.post("/api/admin/approve-user/%00", headers=admin_headers)
    assert 400 <= approve.status_code < 500
    _assert_error_shape(approve, approve.status_code)
    room = await client.post(
        "/api/admin/rooms", json={"room_name": "a\x00b"}, headers=admin_headers
    )
    _assert_error_shape(room, 422)
