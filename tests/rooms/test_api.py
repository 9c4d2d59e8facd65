"""Rooms reservable on a day, and room management by admins."""

from __future__ import annotations

from datetime import date, timedelta

import httpx

from tests.conftest import RoomFactory


async def test_rooms_of_a_day_list_only_rooms_open_that_day(
    client: httpx.AsyncClient, user_headers: dict[str, str], make_room: RoomFactory, today: date
) -> None:
    open_room = await make_room("Open", days=3)
    await make_room("Closed", days=0)
    response = await client.get(f"/api/rooms?date={today.isoformat()}", headers=user_headers)
    assert response.status_code == 200
    assert [room["room_id"] for room in response.json()] == [open_room]
    later = await client.get(
        f"/api/rooms?date={(today + timedelta(days=5)).isoformat()}", headers=user_headers
    )
    assert later.json() == []


async def test_rooms_default_to_today_and_show_taken_time(
    client: httpx.AsyncClient, user_headers: dict[str, str], make_room: RoomFactory, tomorrow: date
) -> None:
    room = await make_room()
    await client.post(
        f"/api/rooms/{room}/reservations",
        json={"date": tomorrow.isoformat(), "start_time": "10:00", "end_time": "11:30"},
        headers=user_headers,
    )
    assert len((await client.get("/api/rooms", headers=user_headers)).json()) == 1
    day = (await client.get(f"/api/rooms?date={tomorrow}", headers=user_headers)).json()
    assert day[0]["reserved_minutes"] == 90
    assert day[0]["reservation_count"] == 1


async def test_admin_creates_and_edits_a_room(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    created = await client.post(
        "/api/admin/rooms",
        json={"room_name": "  Aoi ", "capacity": 8, "location": "2F"},
        headers=admin_headers,
    )
    assert created.status_code == 201
    room = created.json()
    assert room["room_name"] == "Aoi"
    assert room["active"] is True
    patched = await client.patch(
        f"/api/admin/rooms/{room['room_id']}",
        json={"capacity": 10, "active": False},
        headers=admin_headers,
    )
    assert patched.status_code == 200
    assert patched.json()["capacity"] == 10
    assert patched.json()["active"] is False
    assert patched.json()["room_name"] == "Aoi"


async def test_room_names_are_unique(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await client.post("/api/admin/rooms", json={"room_name": "Twin"}, headers=admin_headers)
    again = await client.post("/api/admin/rooms", json={"room_name": "Twin"}, headers=admin_headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "room_name_taken"


async def test_a_room_name_cannot_be_set_to_null(
    client: httpx.AsyncClient, admin_headers: dict[str, str], make_room: RoomFactory
) -> None:
    room = await make_room()
    response = await client.patch(
        f"/api/admin/rooms/{room}", json={"room_name": None}, headers=admin_headers
    )
    assert response.status_code == 422


async def test_open_on_weekdays_then_close(
    client: httpx.AsyncClient, admin_headers: dict[str, str], make_room: RoomFactory, today: date
) -> None:
    room = await make_room(days=0)
    opened = await client.post(
        f"/api/admin/rooms/{room}/open",
        json={
            "from_date": today.isoformat(),
            "to_date": (today + timedelta(days=13)).isoformat(),
            "weekdays": [1, 2, 3, 4, 5],
        },
        headers=admin_headers,
    )
    assert opened.status_code == 200
    assert opened.json()["dates_changed"] == 10
    assert all(date.fromisoformat(d).isoweekday() <= 5 for d in opened.json()["dates"])
    again = await client.post(
        f"/api/admin/rooms/{room}/open",
        json={"from_date": today.isoformat(), "to_date": today.isoformat()},
        headers=admin_headers,
    )
    assert again.json()["dates_changed"] == 0
    closed = await client.post(
        f"/api/admin/rooms/{room}/close",
        json={"from_date": today.isoformat(), "to_date": (today + timedelta(days=13)).isoformat()},
        headers=admin_headers,
    )
    assert closed.json()["dates_changed"] == 10


async def test_closing_a_date_with_active_reservations_is_refused_with_the_list(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room = await make_room()
    made = await client.post(
        f"/api/rooms/{room}/reservations",
        json={"date": tomorrow.isoformat(), "start_time": "13:00", "end_time": "14:00"},
        headers=user_headers,
    )
    body = {"from_date": tomorrow.isoformat(), "to_date": tomorrow.isoformat()}
    refused = await client.post(f"/api/admin/rooms/{room}/close", json=body, headers=admin_headers)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "room_has_reservations"
    assert error["details"][0]["reservation_id"] == made.json()["reservation_id"]
    assert error["details"][0]["start_time"] == "13:00"
    # After cancelling, the date can be closed and no longer takes reservations.
    await client.delete(f"/api/reservations/{made.json()['reservation_id']}", headers=user_headers)
    closed = await client.post(f"/api/admin/rooms/{room}/close", json=body, headers=admin_headers)
    assert closed.json()["dates_changed"] == 1
    retry = await client.post(
        f"/api/rooms/{room}/reservations",
        json={"date": tomorrow.isoformat(), "start_time": "13:00", "end_time": "14:00"},
        headers=user_headers,
    )
    assert retry.status_code == 404
    assert retry.json()["error"]["code"] == "room_not_reservable"
    # Reopening makes it reservable again; the cancelled history is kept.
    await client.post(f"/api/admin/rooms/{room}/open", json=body, headers=admin_headers)
    again = await client.post(
        f"/api/rooms/{room}/reservations",
        json={"date": tomorrow.isoformat(), "start_time": "13:00", "end_time": "14:00"},
        headers=user_headers,
    )
    assert again.status_code == 201


async def test_room_admin_routes_refuse_users(
    client: httpx.AsyncClient, user_headers: dict[str, str], make_room: RoomFactory
) -> None:
    room = await make_room()
    assert (
        await client.post("/api/admin/rooms", json={"room_name": "X"}, headers=user_headers)
    ).status_code == 403
    assert (
        await client.patch(f"/api/admin/rooms/{room}", json={}, headers=user_headers)
    ).status_code == 403
    body = {"from_date": "2030-01-07", "to_date": "2030-01-07"}
    assert (
        await client.post(f"/api/admin/rooms/{room}/open", json=body, headers=user_headers)
    ).status_code == 403
    assert (
        await client.post(f"/api/admin/rooms/{room}/close", json=body, headers=user_headers)
    ).status_code == 403


async def test_unknown_rooms_are_404_for_admins(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    body = {"from_date": "2030-01-07", "to_date": "2030-01-07"}
    response = await client.post("/api/admin/rooms/999/open", json=body, headers=admin_headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "room_not_found"
    assert (
        await client.patch("/api/admin/rooms/999", json={"capacity": 3}, headers=admin_headers)
    ).status_code == 404


async def test_opening_ranges_are_validated(
    client: httpx.AsyncClient, admin_headers: dict[str, str], make_room: RoomFactory
) -> None:
    room = await make_room(days=0)
    backwards = {"from_date": "2030-01-09", "to_date": "2030-01-07"}
    too_long = {"from_date": "2030-01-01", "to_date": "2032-01-01"}
    bad_weekday = {"from_date": "2030-01-01", "to_date": "2030-01-02", "weekdays": [0, 8]}
    for body in (backwards, too_long, bad_weekday):
        response = await client.post(
            f"/api/admin/rooms/{room}/open", json=body, headers=admin_headers
        )
        assert response.status_code == 422, body


async def test_a_room_taken_out_of_use_is_neither_listed_nor_reservable(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room = await make_room()
    body = {"date": tomorrow.isoformat(), "start_time": "10:00", "end_time": "11:00"}
    patched = await client.patch(
        f"/api/admin/rooms/{room}", json={"active": False}, headers=admin_headers
    )
    assert patched.status_code == 200
    refused = await client.post(f"/api/rooms/{room}/reservations", json=body, headers=user_headers)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "room_out_of_use"
    again = await client.post(
        f"/api/rooms/{room}/reservations",
        json=body,
        headers=user_headers | {"Idempotency-Key": "out-of-use-1"},
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "room_out_of_use"
    listed = await client.get(f"/api/rooms?date={tomorrow}", headers=user_headers)
    assert room not in [r["room_id"] for r in listed.json()]
    day = await client.get(f"/api/rooms/{room}/reservations?date={tomorrow}", headers=user_headers)
    assert day.json() == []
    # Back in use: bookable again, through the same rule.
    await client.patch(f"/api/admin/rooms/{room}", json={"active": True}, headers=admin_headers)
    made = await client.post(f"/api/rooms/{room}/reservations", json=body, headers=user_headers)
    assert made.status_code == 201
