"""Idempotency-Key on creating a reservation: a retry (after a timeout, say) gets the
first answer and never books twice, on PostgreSQL and SQLite."""

from __future__ import annotations

import asyncio
import re
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from mrs.clock import FixedClock
from mrs.reservations import service as reservations_service
from tests.conftest import LoginFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.both_databases


def _slot(day: date, start: str = "10:00", end: str = "11:00") -> dict[str, str]:
    return {"date": day.isoformat(), "start_time": start, "end_time": end}


async def _room_day(
    client: httpx.AsyncClient, room: int, day: date, headers: dict[str, str]
) -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/rooms/{room}/reservations", params={"date": day.isoformat()}, headers=headers
    )
    assert response.status_code == 200
    rows: list[dict[str, Any]] = response.json()
    return rows


async def test_the_same_key_twice_books_once_and_answers_the_same(
    client: httpx.AsyncClient, user_headers: dict[str, str], make_room: RoomFactory, tomorrow: date
) -> None:
    room = await make_room()
    headers = {**user_headers, "Idempotency-Key": "3f1c2a9e-7b55-4c0e-9d7e-2f4a1c6b8d01"}
    first = await client.post(
        f"/api/rooms/{room}/reservations", json=_slot(tomorrow), headers=headers
    )
    again = await client.post(
        f"/api/rooms/{room}/reservations", json=_slot(tomorrow), headers=headers
    )
    assert first.status_code == 201, first.text
    assert again.status_code == 201, again.text  # not a 409 against oneself
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    assert "idempotent-replayed" not in first.headers
    assert len(await _room_day(client, room, tomorrow, user_headers)) == 1


async def test_the_first_answer_is_replayed_even_once_the_start_has_passed(
    client: httpx.AsyncClient,
    user_headers: dict[str, str],
    make_room: RoomFactory,
    today: date,
    clock: FixedClock,
) -> None:
    room = await make_room()  # the pinned clock says 09:00 today
    headers = {**user_headers, "Idempotency-Key": "late-retry"}
    first = await client.post(
        f"/api/rooms/{room}/reservations", json=_slot(today, "09:30", "10:00"), headers=headers
    )
    clock.now += timedelta(hours=1)
    again = await client.post(
        f"/api/rooms/{room}/reservations", json=_slot(today, "09:30", "10:00"), headers=headers
    )
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()


async def test_the_same_key_with_another_request_is_422_and_books_nothing(
    client: httpx.AsyncClient, user_headers: dict[str, str], make_room: RoomFactory, tomorrow: date
) -> None:
    room = await make_room()
    headers = {**user_headers, "Idempotency-Key": "k-1"}
    first = await client.post(
        f"/api/rooms/{room}/reservations", json=_slot(tomorrow), headers=headers
    )
    other = await client.post(
        f"/api/rooms/{room}/reservations", json=_slot(tomorrow, "14:00", "15:00"), headers=headers
    )
    assert first.status_code == 201
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert [r["start_time"] for r in await _room_day(client, room, tomorrow, user_headers)] == [
        "10:00"
    ]


async def test_keys_are_scoped_per_user(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    login: LoginFactory,
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room = await make_room()
    alice, bob = await login(await make_user()), await login(await make_user())
    a = await client.post(
        f"/api/rooms/{room}/reservations",
        json=_slot(tomorrow),
        headers={**alice, "Idempotency-Key": "same"},
    )
    b = await client.post(
        f"/api/rooms/{room}/reservations",
        json=_slot(tomorrow, "11:00", "12:00"),
        headers={**bob, "Idempotency-Key": "same"},
    )
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["reservation_id"] != b.json()["reservation_id"]


async def test_a_refused_request_is_not_remembered(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    login: LoginFactory,
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    room = await make_room()
    holder, me = await login(await make_user()), await login(await make_user())
    held = await client.post(
        f"/api/rooms/{room}/reservations", json=_slot(tomorrow), headers=holder
    )
    mine = {**me, "Idempotency-Key": "retry-me"}
    refused = await client.post(
        f"/api/rooms/{room}/reservations", json=_slot(tomorrow), headers=mine
    )
    assert refused.status_code == 409
    await client.delete(f"/api/reservations/{held.json()['reservation_id']}", headers=holder)
    retried = await client.post(
        f"/api/rooms/{room}/reservations", json=_slot(tomorrow), headers=mine
    )
    assert retried.status_code == 201, retried.text
    assert retried.json()["user_id"] != held.json()["user_id"]


async def test_a_key_is_new_again_after_its_lifetime(
    client: httpx.AsyncClient,
    user_headers: dict[str, str],
    make_room: RoomFactory,
    today: date,
    clock: FixedClock,
) -> None:
    room = await make_room()
    day = today + timedelta(days=5)
    headers = {**user_headers, "Idempotency-Key": "day-old"}
    first = await client.post(f"/api/rooms/{room}/reservations", json=_slot(day), headers=headers)
    clock.now += timedelta(hours=23, minutes=59)
    within = await client.post(
        f"/api/rooms/{room}/reservations", json=_slot(day, "14:00", "15:00"), headers=headers
    )
    clock.now += timedelta(minutes=2)  # 24 h and a minute after the first use
    after = await client.post(
        f"/api/rooms/{room}/reservations", json=_slot(day, "14:00", "15:00"), headers=headers
    )
    assert first.status_code == 201
    assert within.status_code == 422  # still the first request's key
    assert after.status_code == 201, after.text  # a new request: booked, not refused
    assert after.json()["reservation_id"] != first.json()["reservation_id"]
    assert len(await _room_day(client, room, day, user_headers)) == 2
    # The same again is now a replay of the new answer.
    replay = await client.post(
        f"/api/rooms/{room}/reservations", json=_slot(day, "14:00", "15:00"), headers=headers
    )
    assert replay.json() == after.json()


async def test_expired_keys_are_pruned(
    app: Any,
    client: httpx.AsyncClient,
    user_headers: dict[str, str],
    make_room: RoomFactory,
    today: date,
    clock: FixedClock,
) -> None:
    room = await make_room()
    day = today + timedelta(days=5)
    for key, start, end in (("old", "10:00", "11:00"), ("new", "12:00", "13:00")):
        response = await client.post(
            f"/api/rooms/{room}/reservations",
            json=_slot(day, start, end),
            headers={**user_headers, "Idempotency-Key": key},
        )
        assert response.status_code == 201
        clock.now += timedelta(hours=12, minutes=1)
    settings, db = app.state.settings, app.state.db
    # 24 h 2 min after "old", 12 h 1 min after "new".
    assert (
        await reservations_service.prune_idempotency_keys(db, settings=settings, now=clock()) == 1
    )
    assert (
        await reservations_service.prune_idempotency_keys(db, settings=settings, now=clock()) == 0
    )


async def test_parallel_retries_with_one_key_book_once(
    client: httpx.AsyncClient, user_headers: dict[str, str], make_room: RoomFactory, tomorrow: date
) -> None:
    room = await make_room()
    headers = {**user_headers, "Idempotency-Key": "burst"}
    responses = await asyncio.wait_for(
        asyncio.gather(
            *(
                client.post(
                    f"/api/rooms/{room}/reservations", json=_slot(tomorrow), headers=headers
                )
                for _ in range(20)
            )
        ),
        timeout=60,
    )
    assert [r.status_code for r in responses] == [201] * 20, [r.text for r in responses]
    assert len({r.text for r in responses}) == 1  # every one the same answer
    assert sum("idempotent-replayed" not in r.headers for r in responses) == 1
    assert len(await _room_day(client, room, tomorrow, user_headers)) == 1


@pytest.mark.parametrize(
    "key",
    [
        b"",
        b"x" * 256,
        "ключ".encode(),
        "鍵".encode(),
        b"tab\there",
        b"bell\x07",
        b"del\x7f",
    ],
)
async def test_a_bad_key_is_422_and_books_nothing(
    client: httpx.AsyncClient,
    user_headers: dict[str, str],
    make_room: RoomFactory,
    tomorrow: date,
    key: bytes,
) -> None:
    room = await make_room()
    response = await client.post(
        f"/api/rooms/{room}/reservations",
        json=_slot(tomorrow),
        headers=[*user_headers.items(), ("Idempotency-Key", key)],  # type: ignore[list-item]
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"][0]["field"] == "header.Idempotency-Key"
    assert "printable ASCII" in error["details"][0]["message"]
    assert await _room_day(client, room, tomorrow, user_headers) == []


async def test_the_longest_key_and_any_printable_character_are_accepted(
    client: httpx.AsyncClient, user_headers: dict[str, str], make_room: RoomFactory, tomorrow: date
) -> None:
    room = await make_room()
    for number, key in enumerate(["k" * 255, '"quoted" key with spaces ~!@#$%^&*()']):
        response = await client.post(
            f"/api/rooms/{room}/reservations",
            json=_slot(tomorrow, f"1{number}:00", f"1{number}:30"),
            headers={**user_headers, "Idempotency-Key": key},
        )
        assert response.status_code == 201, response.text


async def test_a_form_submitted_twice_books_once(
    app: Any, make_user: UserFactory, make_room: RoomFactory, tomorrow: date
) -> None:
    from tests.conftest import DEFAULT_PASSWORD, browser_like_client

    room = await make_room()
    user_id = await make_user()
    async with browser_like_client(app) as browser:
        login = await browser.post(
            "/login", data={"user_id": user_id, "password": DEFAULT_PASSWORD}
        )
        assert login.status_code == 303
        page = await browser.get(f"/rooms/{room}", params={"date": tomorrow.isoformat()})
        found = re.search(r'name="idempotency_key" value="([^"]+)"', page.text)
        assert found is not None
        form = {**_slot(tomorrow), "idempotency_key": found.group(1)}
        first = await browser.post(f"/rooms/{room}/reservations", data=form)
        double = await browser.post(f"/rooms/{room}/reservations", data=form)
        assert (first.status_code, double.status_code) == (303, 303), double.text
        assert double.headers["location"] == first.headers["location"]
        tampered = await browser.post(
            f"/rooms/{room}/reservations",
            data={**_slot(tomorrow, "14:00", "15:00"), "idempotency_key": "\u9375"},
        )
        assert tampered.status_code == 422
        api = await browser.post(
            "/api/auth/login", json={"user_id": user_id, "password": DEFAULT_PASSWORD}
        )
        headers = {"Authorization": f"Bearer {api.json()['access_token']}"}
        assert len(await _room_day(browser, room, tomorrow, headers)) == 1
