"""Exclusive control: many clients racing for one room, against real server processes.

Exactly one request wins each contested slot, the rest get 409, nobody gets a 5xx, and
afterwards SQL finds no two overlapping active reservations.
"""

from __future__ import annotations

import asyncio
import random
from datetime import date, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import create_engine, text

from mrs.accounts import users
from mrs.clock import system_clock
from mrs.db.engine import Database
from mrs.db.urls import sync_url
from mrs.rooms import service as rooms_service
from mrs.settings import Settings
from tests import support
from tests.conftest import LoginFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.slow

CLIENTS = 120
USERS = 12
PASSWORD = "race-test-password-1"
# Migrating a fresh database before the port opens took over 30 s on a busy machine.
STARTUP_SECONDS = 120.0


async def _seed(settings: Settings) -> tuple[list[int], date]:
    db = Database(settings)
    try:
        now = system_clock()
        day = now.astimezone(settings.tz).date() + timedelta(days=2)
        rooms = []
        for index in range(2):
            room = await rooms_service.create_room(
                db, room_name=f"Race {index}", capacity=4, location=None
            )
            await rooms_service.open_room(
                db, room_id=room.room_id, from_date=day, to_date=day, weekdays=None
            )
            rooms.append(room.room_id)
        for index in range(USERS):
            await users.create_user(
                db,
                user_id=f"racer{index}",
                password=PASSWORD,
                email=f"racer{index}@example.com",
                first_name="Race",
                last_name=str(index),
                now=now,
            )
        return rooms, day
    finally:
        await db.dispose()


async def _tokens(http: httpx.AsyncClient) -> list[str]:
    tokens = []
    for index in range(USERS):
        response = await http.post(
            "/api/auth/login", json={"user_id": f"racer{index}", "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        tokens.append(response.json()["access_token"])
    return tokens


async def _warm_up(http: httpx.AsyncClient, tokens: list[str]) -> None:
    """Bring the server to its running state before the race: both workers' connection
    pools grown and the sessions known. A server that has just started pays for dozens of
    PostgreSQL connections and session lookups inside the first burst; on a busy 2-core
    machine that once pushed a racing request past the request deadline (503), which says
    nothing about who wins a slot."""

    async def one(index: int) -> int:
        response = await http.get(
            "/api/reservations/mine",
            headers={"Authorization": f"Bearer {tokens[index % len(tokens)]}"},
        )
        return response.status_code

    for _ in range(2):
        statuses = await asyncio.gather(*(one(index) for index in range(CLIENTS)))
        assert set(statuses) == {200}, statuses


async def _race(
    http: httpx.AsyncClient, tokens: list[str], room: int, day: date, slots: list[tuple[str, str]]
) -> list[int]:
    gate = asyncio.Event()

    async def one(index: int) -> int:
        start, end = slots[index % len(slots)]
        await gate.wait()
        response = await http.post(
            f"/api/rooms/{room}/reservations",
            json={"date": day.isoformat(), "start_time": start, "end_time": end},
            headers={"Authorization": f"Bearer {tokens[index % len(tokens)]}"},
        )
        return response.status_code

    tasks = [asyncio.create_task(one(index)) for index in range(CLIENTS)]
    await asyncio.sleep(0.05)
    gate.set()
    return list(await asyncio.gather(*tasks))


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


def _active_count(database_url: str, room: int) -> int:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            return int(
                connection.scalar(
                    text(
                        "SELECT count(*) FROM reservation WHERE room_id = :r AND status = 'ACTIVE'"
                    ),
                    {"r": room},
                )
                or 0
            )
    finally:
        engine.dispose()


async def _run_races(base_url: str, database_url: str, settings: Settings) -> None:
    rooms, day = await _seed(settings)
    # No keep-alive: a pooled connection the server closes while idle would fail the test.
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as http:
        tokens = await _tokens(http)
        await _warm_up(http, tokens)
        same_slot = await _race(http, tokens, rooms[0], day, [("10:00", "11:00")])
        assert sorted(set(same_slot)) == [201, 409], same_slot
        assert same_slot.count(201) == 1

        rng = random.Random(4)
        starts = [rng.randrange(16, 36) * 30 for _ in range(40)]
        ranges = [(s, min(s + rng.choice([30, 60, 90, 120]), 1440)) for s in starts]
        slots = [(f"{s // 60:02d}:{s % 60:02d}", f"{e // 60:02d}:{e % 60:02d}") for s, e in ranges]
        mixed = await _race(http, tokens, rooms[1], day, slots)
        assert set(mixed) <= {201, 409}, mixed
        assert mixed.count(201) == _active_count(database_url, rooms[1])
        assert mixed.count(201) >= 1
    assert _overlapping_active_pairs(database_url) == 0


async def test_racing_clients_on_postgres_with_two_workers(
    database_url: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, database_url=database_url)
    with support.running_server(
        database_url=database_url,
        data_dir=tmp_path / "srv",
        args=["--workers", "2"],
        startup_timeout=STARTUP_SECONDS,
    ) as server:
        try:
            await _run_races(server.base_url, database_url, settings)
        except AssertionError as failure:
            raise AssertionError(f"{failure}\n--- server log ---\n{server.log()[-6000:]}") from None
    assert "Traceback" not in server.log(), server.log()[-6000:]


async def test_racing_clients_on_sqlite(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'race.sqlite3'}"
    settings = Settings(data_dir=tmp_path, database_url=database_url)
    with support.running_server(
        database_url=database_url,
        data_dir=tmp_path / "srv",
        args=["--workers", "2"],
        startup_timeout=STARTUP_SECONDS,
    ) as server:
        try:
            await _run_races(server.base_url, database_url, settings)
        except AssertionError as failure:
            raise AssertionError(f"{failure}\n--- server log ---\n{server.log()[-6000:]}") from None
    assert "Traceback" not in server.log(), server.log()[-6000:]


# Shorter than the statement timeout and the request deadline: the request holding the
# connection is working legitimately all along, and the one waiting for it must get in.
HOLD_SECONDS = 6.0


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """One connection per pool, so a second request has to wait for the first's."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-secret-key-0123456789-0123456789-0123456789",
        pool_size=1,
        pool_max_overflow=0,
    )


def test_one_time_budget_a_statement_ends_before_the_deadline_and_the_pool_waits_for_it() -> None:
    defaults = Settings()
    assert defaults.statement_timeout_ms / 1000 < defaults.request_timeout_seconds
    assert defaults.pool_timeout_seconds >= defaults.request_timeout_seconds


async def test_a_reservation_waiting_for_a_busy_pool_gets_its_answer(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    login: LoginFactory,
    make_room: RoomFactory,
    tomorrow: date,
    database_url: str,
) -> None:
    """Under contention a reservation may wait for a pooled connection while another
    request's statement waits for a lock; it must get its answer, not a 503."""
    room = await make_room()
    headers = await login(await make_user())

    async def reserve(start: str, end: str) -> int:
        response = await client.post(
            f"/api/rooms/{room}/reservations",
            json={"date": tomorrow.isoformat(), "start_time": start, "end_time": end},
            headers=headers,
        )
        return response.status_code

    conninfo = sync_url(database_url).set(drivername="postgresql")
    async with await psycopg.AsyncConnection.connect(
        conninfo.render_as_string(hide_password=False)
    ) as blocker:
        # An admin closing the date holds its row: reservations on it wait (FOR SHARE).
        await blocker.execute(
            "SELECT 1 FROM reservable_room WHERE room_id = %s AND reserved_date = %s FOR UPDATE",
            (room, tomorrow),
        )
        first = asyncio.create_task(reserve("10:00", "11:00"))
        second = asyncio.create_task(reserve("11:00", "12:00"))
        await asyncio.sleep(HOLD_SECONDS)
        assert not first.done()
        await blocker.rollback()
    assert await asyncio.gather(first, second) == [201, 201]
