"""Approval races on PostgreSQL, with parallel requests: of managers deciding one pending
booking at once exactly one wins (the others 409), and while a booking is pending no
parallel booking of its slot gets in."""

from __future__ import annotations

import asyncio
from datetime import date

import httpx
from sqlalchemy import func, select

from mrs.db.engine import Database
from mrs.reservations.models import Reservation
from tests.conftest import LoginFactory, RoomFactory, UserFactory

Headers = dict[str, str]
DECIDERS = 6


async def _pending_room_and_booking(
    client: httpx.AsyncClient,
    admin_headers: Headers,
    make_room: RoomFactory,
    owner_headers: Headers,
    day: date,
) -> tuple[int, int]:
    room = await make_room()
    put = await client.put(
        f"/api/admin/rooms/{room}/policy", json={"approval_required": True}, headers=admin_headers
    )
    assert put.status_code == 200, put.text
    booked = await client.post(
        f"/api/rooms/{room}/reservations",
        json={"date": day.isoformat(), "start_time": "10:00", "end_time": "11:00"},
        headers=owner_headers,
    )
    assert booked.json()["status"] == "PENDING", booked.text
    return room, int(booked.json()["reservation_id"])


async def test_managers_deciding_at_once_exactly_one_wins(
    client: httpx.AsyncClient,
    admin_headers: Headers,
    make_user: UserFactory,
    login: LoginFactory,
    make_room: RoomFactory,
    tomorrow: date,
    db: Database,
) -> None:
    owner = await login(await make_user())
    room, booking = await _pending_room_and_booking(
        client, admin_headers, make_room, owner, tomorrow
    )
    managers = [await make_user() for _ in range(DECIDERS)]
    await client.put(
        f"/api/admin/rooms/{room}/managers", json={"user_ids": managers}, headers=admin_headers
    )
    headers = [await login(each) for each in managers]

    async def decide(index: int) -> httpx.Response:
        url = f"/api/admin/pending-reservations/{booking}"
        if index % 2:
            return await client.post(f"{url}/approve", headers=headers[index])
        return await client.post(f"{url}/reject", json={"reason": "no"}, headers=headers[index])

    answers = await asyncio.gather(*(decide(index) for index in range(DECIDERS)))
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [200] + [409] * (DECIDERS - 1), [a.text for a in answers]
    winner = next(answer for answer in answers if answer.status_code == 200).json()
    async with db.transaction() as session:
        row = (
            await session.execute(select(Reservation).where(Reservation.reservation_id == booking))
        ).scalar_one()
    assert row.status == winner["status"]
    assert row.decided_by == winner["decided_by"]
    assert row.version == 2  # decided once


async def test_parallel_bookings_of_a_pending_slot_are_refused(
    client: httpx.AsyncClient,
    admin_headers: Headers,
    make_user: UserFactory,
    login: LoginFactory,
    make_room: RoomFactory,
    tomorrow: date,
    db: Database,
) -> None:
    owner = await login(await make_user())
    room, booking = await _pending_room_and_booking(
        client, admin_headers, make_room, owner, tomorrow
    )
    others = [await login(await make_user()) for _ in range(6)]

    async def book(index: int) -> httpx.Response:
        # Users (pending in their turn) and the admin (active) alike.
        headers = admin_headers if index == 0 else others[index]
        return await client.post(
            f"/api/rooms/{room}/reservations",
            json={"date": tomorrow.isoformat(), "start_time": "10:30", "end_time": "11:30"},
            headers=headers,
        )

    answers = await asyncio.gather(*(book(index) for index in range(6)))
    assert [answer.status_code for answer in answers] == [409] * 6, [a.text for a in answers]
    async with db.transaction() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Reservation)
            .where(Reservation.room_id == room, Reservation.status.in_(("ACTIVE", "PENDING")))
        )
    assert count == 1
    # Rejected, the slot is free: of parallel bookings exactly one gets it.
    rejected = await client.post(
        f"/api/admin/pending-reservations/{booking}/reject",
        json={"reason": "The board meets then"},
        headers=admin_headers,
    )
    assert rejected.status_code == 200, rejected.text
    answers = await asyncio.gather(*(book(index) for index in range(1, 6)))
    assert sorted(answer.status_code for answer in answers) == [201] + [409] * 4
