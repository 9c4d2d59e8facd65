"""Reserving, listing and cancelling through the API."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest

from mrs.accounts.models import Role
from tests.conftest import LoginFactory, RoomFactory, UserFactory


def _slot(day: date, start: str, end: str) -> dict[str, str]:
    return {"date": day.isoformat(), "start_time": start, "end_time": end}


async def test_a_reservation_is_created_with_its_details(
    client: httpx.AsyncClient, user_headers: dict[str, str], make_room: RoomFactory, tomorrow: date
) -> None:
    room = await make_room("Sakura")
    response = await client.post(
        f"/api/rooms/{room}/reservations",
        json=_slot(tomorrow, "10:00", "11:00"),
        headers=user_headers,
    )
    assert response.status_code == 201
    body = response.json()
    assert body["reservation_id"] > 0
    assert body["room_name"] == "Sakura"
    assert (body["date"], body["start_time"], body["end_time"]) == (
        tomorrow.isoformat(),
        "10:00",
        "11:00",
    )
    assert body["status"] == "ACTIVE"


async def test_overlapping_reservation_is_a_conflict_naming_the_one_in_the_way(
    client: httpx.AsyncClient, user_headers: dict[str, str], make_room: RoomFactory, tomorrow: date
) -> None:
    room = await make_room()
    first = await client.post(
        f"/api/rooms/{room}/reservations",
        json=_slot(tomorrow, "10:00", "11:00"),
        headers=user_headers,
    )
    clash = await client.post(
        f"/api/rooms/{room}/reservations",
        json=_slot(tomorrow, "10:30", "12:00"),
        headers=user_headers,
    )
    assert clash.status_code == 409
    error = clash.json()["error"]
    assert error["code"] == "reservation_conflict"
    assert "10:00" in error["message"]
    assert "11:00" in error["message"]
    assert error["details"]["reservation_id"] == first.json()["reservation_id"]


async def test_adjacent_slots_do_not_conflict(
    client: httpx.AsyncClient, user_headers: dict[str, str], make_room: RoomFactory, tomorrow: date
) -> None:
    room = await make_room()
    for start, end in [
        ("10:00", "10:30"),
        ("10:30", "11:00"),
        ("09:30", "10:00"),
        ("23:30", "24:00"),
    ]:
        response = await client.post(
            f"/api/rooms/{room}/reservations",
            json=_slot(tomorrow, start, end),
            headers=user_headers,
        )
        assert response.status_code == 201, (start, end, response.text)


async def test_the_same_slot_in_another_room_is_fine(
    client: httpx.AsyncClient, user_headers: dict[str, str], make_room: RoomFactory, tomorrow: date
) -> None:
    first, second = await make_room(), await make_room()
    for room in (first, second):
        response = await client.post(
            f"/api/rooms/{room}/reservations",
            json=_slot(tomorrow, "10:00", "11:00"),
            headers=user_headers,
        )
        assert response.status_code == 201


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        ("10:15", "11:00", "slot_misaligned"),
        ("11:00", "10:00", "invalid_time_range"),
        ("10:00", "10:00", "invalid_time_range"),
    ],
)
async def test_invalid_times_are_422_with_a_reason(
    client: httpx.AsyncClient,
    user_headers: dict[str, str],
    make_room: RoomFactory,
    tomorrow: date,
    start: str,
    end: str,
    code: str,
) -> None:
    room = await make_room()
    response = await client.post(
        f"/api/rooms/{room}/reservations", json=_slot(tomorrow, start, end), headers=user_headers
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code


async def test_a_start_in_the_past_is_refused(
    client: httpx.AsyncClient, user_headers: dict[str, str], make_room: RoomFactory, today: date
) -> None:
    room = await make_room()  # the pinned clock says 09:00 today
    response = await client.post(
        f"/api/rooms/{room}/reservations", json=_slot(today, "08:30", "09:30"), headers=user_headers
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "start_in_past"
    ok = await client.post(
        f"/api/rooms/{room}/reservations", json=_slot(today, "09:00", "09:30"), headers=user_headers
    )
    assert ok.status_code == 201


async def test_a_room_not_open_that_date_is_404(
    client: httpx.AsyncClient, user_headers: dict[str, str], make_room: RoomFactory, today: date
) -> None:
    room = await make_room(days=2)
    response = await client.post(
        f"/api/rooms/{room}/reservations",
        json=_slot(today + timedelta(days=5), "10:00", "11:00"),
        headers=user_headers,
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "room_not_reservable"
    unknown = await client.post(
        "/api/rooms/424242/reservations", json=_slot(today, "10:00", "11:00"), headers=user_headers
    )
    assert unknown.status_code == 404


async def test_room_day_lists_active_reservations_in_time_order_with_who(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    login: LoginFactory,
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room = await make_room()
    alice = await login(await make_user("alice"))
    bob = await login(await make_user("bob"))
    await client.post(
        f"/api/rooms/{room}/reservations", json=_slot(tomorrow, "14:00", "15:00"), headers=bob
    )
    made = await client.post(
        f"/api/rooms/{room}/reservations", json=_slot(tomorrow, "09:00", "10:00"), headers=alice
    )
    cancelled = await client.post(
        f"/api/rooms/{room}/reservations", json=_slot(tomorrow, "11:00", "12:00"), headers=alice
    )
    await client.delete(f"/api/reservations/{cancelled.json()['reservation_id']}", headers=alice)
    day = await client.get(f"/api/rooms/{room}/reservations?date={tomorrow}", headers=bob)
    assert day.status_code == 200
    assert [(r["start_time"], r["user_id"]) for r in day.json()] == [
        ("09:00", "alice"),
        ("14:00", "bob"),
    ]
    assert day.json()[0]["reservation_id"] == made.json()["reservation_id"]
    assert day.json()[0]["user_name"] == "Test Alice"


async def test_owner_cancels_and_the_slot_is_free_again(
    client: httpx.AsyncClient, user_headers: dict[str, str], make_room: RoomFactory, tomorrow: date
) -> None:
    room = await make_room()
    made = (
        await client.post(
            f"/api/rooms/{room}/reservations",
            json=_slot(tomorrow, "10:00", "11:00"),
            headers=user_headers,
        )
    ).json()
    assert (
        await client.delete(f"/api/reservations/{made['reservation_id']}", headers=user_headers)
    ).status_code == 204
    again = await client.delete(f"/api/reservations/{made['reservation_id']}", headers=user_headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_cancelled"
    retake = await client.post(
        f"/api/rooms/{room}/reservations",
        json=_slot(tomorrow, "10:00", "11:00"),
        headers=user_headers,
    )
    assert retake.status_code == 201
    mine = (await client.get("/api/reservations/mine", headers=user_headers)).json()
    assert sorted(r["status"] for r in mine) == ["ACTIVE", "CANCELLED"]
    cancelled = next(r for r in mine if r["status"] == "CANCELLED")
    assert cancelled["cancelled_by"] == made["user_id"]
    assert cancelled["cancelled_at"] is not None


async def test_someone_else_cannot_cancel_but_an_admin_can(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    login: LoginFactory,
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room = await make_room()
    owner = await login(await make_user())
    other = await login(await make_user())
    admin = await login(await make_user(role=Role.ADMIN))
    made = (
        await client.post(
            f"/api/rooms/{room}/reservations", json=_slot(tomorrow, "10:00", "11:00"), headers=owner
        )
    ).json()
    refused = await client.delete(f"/api/reservations/{made['reservation_id']}", headers=other)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "cancel_not_allowed"
    assert (
        await client.delete(f"/api/reservations/{made['reservation_id']}", headers=admin)
    ).status_code == 204


async def test_cancelling_an_unknown_reservation_is_404(
    client: httpx.AsyncClient, user_headers: dict[str, str]
) -> None:
    response = await client.delete("/api/reservations/987654", headers=user_headers)
    assert response.status_code == 404


async def test_my_reservations_list_upcoming_first(
    client: httpx.AsyncClient,
    user_headers: dict[str, str],
    make_room: RoomFactory,
    today: date,
    clock: object,
) -> None:
    room = await make_room()
    for offset, start, end in [
        (3, "10:00", "11:00"),
        (1, "15:00", "16:00"),
        (1, "09:00", "10:00"),
        (0, "09:30", "10:00"),
    ]:
        response = await client.post(
            f"/api/rooms/{room}/reservations",
            json=_slot(today + timedelta(days=offset), start, end),
            headers=user_headers,
        )
        assert response.status_code == 201
    clock.now += timedelta(hours=2)  # type: ignore[attr-defined]  # 11:00: today's 09:30 is past
    mine = (await client.get("/api/reservations/mine", headers=user_headers)).json()
    assert [(r["date"], r["start_time"]) for r in mine] == [
        ((today + timedelta(days=1)).isoformat(), "09:00"),
        ((today + timedelta(days=1)).isoformat(), "15:00"),
        ((today + timedelta(days=3)).isoformat(), "10:00"),
        (today.isoformat(), "09:30"),
    ]


async def test_a_finished_reservation_cannot_be_cancelled_by_its_owner(
    client: httpx.AsyncClient,
    user_headers: dict[str, str],
    admin_headers: dict[str, str],
    make_room: RoomFactory,
    today: date,
    clock: object,
) -> None:
    room = await make_room()
    made = (
        await client.post(
            f"/api/rooms/{room}/reservations",
            json=_slot(today, "10:00", "11:00"),
            headers=user_headers,
        )
    ).json()
    clock.now += timedelta(hours=3)  # type: ignore[attr-defined]
    refused = await client.delete(
        f"/api/reservations/{made['reservation_id']}", headers=user_headers
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "reservation_ended"
    assert (
        await client.delete(f"/api/reservations/{made['reservation_id']}", headers=admin_headers)
    ).status_code == 204


async def test_messages_follow_accept_language(
    client: httpx.AsyncClient, user_headers: dict[str, str], make_room: RoomFactory, tomorrow: date
) -> None:
    room = await make_room()
    response = await client.post(
        f"/api/rooms/{room}/reservations",
        json=_slot(tomorrow, "10:15", "11:00"),
        headers={**user_headers, "Accept-Language": "ja,en;q=0.5"},
    )
    assert (
        response.json()["error"]["message"]
        == "時刻は 30 分単位で指定してください（例: 10:00、10:30）。"
    )
