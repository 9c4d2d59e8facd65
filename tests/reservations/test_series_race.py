"""The database decides a series racing single bookings, and two series racing each other.

A 52-week series is created with on_conflict "fail" while concurrent clients each book one
slot it needs (a date it covers, overlapping its time). All or nothing: either the series
is wholly created and every one of those single bookings lost, or it is refused with 409
naming exactly the dates the singles took, and none of its occurrences is stored. Two
series asking for the same slots: exactly one wins. Afterwards SQL finds no overlapping
active pair. On PostgreSQL with 50 clients, on SQLite with 8."""

from __future__ import annotations

import asyncio
import re
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from mrs.db.urls import sync_url
from tests.conftest import LoginFactory, RoomFactory, UserFactory

pytestmark = [pytest.mark.slow, pytest.mark.both_databases]

WEEKS = 52
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _clients(database_url: str) -> int:
    return 8 if database_url.startswith("sqlite") else 50


def _sql_count(database_url: str, query: str) -> int:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            return int(connection.scalar(text(query)) or 0)
    finally:
        engine.dispose()


def _overlapping_active_pairs(database_url: str) -> int:
    return _sql_count(
        database_url,
        "SELECT count(*) FROM reservation a JOIN reservation b "
        "ON a.room_id = b.room_id AND a.reserved_date = b.reserved_date "
        "AND a.reservation_id < b.reservation_id "
        "AND a.start_minute < b.end_minute AND b.start_minute < a.end_minute "
        "WHERE a.status = 'ACTIVE' AND b.status = 'ACTIVE'",
    )


def _stored_occurrences(database_url: str) -> int:
    return _sql_count(
        database_url,
        "SELECT count(*) FROM reservation WHERE series_id IS NOT NULL AND status = 'ACTIVE'",
    )


def _series_body(first: date, title: str = "Weekly planning", weeks: int = WEEKS) -> dict[str, str]:
    return {
        "title": title,
        "start_date": first.isoformat(),
        "start_time": "10:00",
        "end_time": "11:00",
        "rule": f"FREQ=WEEKLY;COUNT={weeks}",
        "on_conflict": "fail",
    }


def _named_dates(refused: httpx.Response) -> set[str]:
    """The dates a 409 names (in its details: the answer's shape for the dates it lists)."""
    return set(ISO_DATE.findall(str(refused.json()["error"].get("details"))))


async def _release_together(*calls: Any) -> list[httpx.Response]:
    gate = asyncio.Event()

    async def after_gate(call: Any) -> httpx.Response:
        await gate.wait()
        response: httpx.Response = await call()
        return response

    tasks = [asyncio.create_task(after_gate(call)) for call in calls]
    await asyncio.sleep(0.05)
    gate.set()
    return list(await asyncio.wait_for(asyncio.gather(*tasks), timeout=300))


async def test_a_series_racing_single_bookings_is_all_or_nothing(
    client: httpx.AsyncClient,
    login: LoginFactory,
    make_user: UserFactory,
    make_room: RoomFactory,
    tomorrow: date,
    database_url: str,
) -> None:
    clients = _clients(database_url)
    room = await make_room(days=7 * WEEKS)
    organiser = await login(await make_user())
    bookers = [await login(await make_user()) for _ in range(clients)]
    # Each single booking takes half an hour of the series' hour on one of its dates.
    single_dates = [tomorrow + timedelta(weeks=index % WEEKS) for index in range(clients)]

    def single(index: int) -> Any:
        return lambda: client.post(
            f"/api/rooms/{room}/reservations",
            json={
                "date": single_dates[index].isoformat(),
                "start_time": "10:30",
                "end_time": "11:00",
            },
            headers=bookers[index],
        )

    def series() -> Any:
        return lambda: client.post(
            f"/api/rooms/{room}/series", json=_series_body(tomorrow), headers=organiser
        )

    *singles, made = await _release_together(*[single(i) for i in range(clients)], series())

    single_statuses = [answer.status_code for answer in singles]
    assert set(single_statuses) <= {201, 409}, [a.text for a in singles]
    won_by_singles = {
        answer.json()["date"]: answer.json()["reservation_id"]
        for answer in singles
        if answer.status_code == 201
    }
    if made.status_code == 201:
        assert len(made.json()["occurrences"]) == WEEKS
        assert won_by_singles == {}, "a single booking won a slot the created series holds"
        assert _stored_occurrences(database_url) == WEEKS
    else:
        assert made.status_code == 409, made.text
        error = made.json()["error"]
        assert error["code"] == "series_conflict"
        # Every date named is one a single booking won, with that booking in the way.
        # (Singles may also win after the series was refused: those dates were free when
        # it looked, and are not named.)
        named = {each["date"]: each for each in error["details"]["dates"]}
        assert named, "the series was refused naming no date"
        for day, each in named.items():
            assert each["reason"] == "reservation_conflict"
            assert each["reservation_id"] == won_by_singles[day]
        assert _stored_occurrences(database_url) == 0
    assert _overlapping_active_pairs(database_url) == 0


async def test_two_series_racing_for_the_same_slots_exactly_one_wins(
    client: httpx.AsyncClient,
    login: LoginFactory,
    make_user: UserFactory,
    make_room: RoomFactory,
    tomorrow: date,
    database_url: str,
) -> None:
    room = await make_room(days=7 * WEEKS)
    first, second = await login(await make_user()), await login(await make_user())
    # The second series starts a week later and ends with the first: all its 51 dates are
    # the first one's.
    answers = await _release_together(
        lambda: client.post(
            f"/api/rooms/{room}/series", json=_series_body(tomorrow, "First"), headers=first
        ),
        lambda: client.post(
            f"/api/rooms/{room}/series",
            json=_series_body(tomorrow + timedelta(weeks=1), "Second", WEEKS - 1),
            headers=second,
        ),
    )
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201, 409], [answer.text for answer in answers]
    winner = answers[0] if answers[0].status_code == 201 else answers[1]
    loser = answers[1] if winner is answers[0] else answers[0]
    won = {occurrence["date"] for occurrence in winner.json()["occurrences"]}
    assert len(won) in (WEEKS, WEEKS - 1)
    shared = {(tomorrow + timedelta(weeks=week)).isoformat() for week in range(1, WEEKS)}
    assert _named_dates(loser) == shared
    assert _stored_occurrences(database_url) == len(won)
    assert _overlapping_active_pairs(database_url) == 0


async def test_a_series_skipping_conflicts_skips_the_dates_singles_win_in_a_race(
    client: httpx.AsyncClient,
    login: LoginFactory,
    make_user: UserFactory,
    make_room: RoomFactory,
    tomorrow: date,
    database_url: str,
) -> None:
    clients = _clients(database_url)
    room = await make_room(days=7 * WEEKS)
    organiser = await login(await make_user())
    bookers = [await login(await make_user()) for _ in range(clients)]
    single_dates = [tomorrow + timedelta(weeks=index % WEEKS) for index in range(clients)]

    def single(index: int) -> Any:
        return lambda: client.post(
            f"/api/rooms/{room}/reservations",
            json={
                "date": single_dates[index].isoformat(),
                "start_time": "10:30",
                "end_time": "11:00",
            },
            headers=bookers[index],
        )

    def series() -> Any:
        return lambda: client.post(
            f"/api/rooms/{room}/series",
            json={**_series_body(tomorrow), "on_conflict": "skip"},
            headers=organiser,
        )

    *singles, made = await _release_together(*[single(i) for i in range(clients)], series())

    # Whatever the order, a series told to skip is created: the dates singles hold when it
    # writes are skipped, the others are its own.
    assert made.status_code == 201, made.text
    skipped = {each["date"] for each in made.json()["skipped"]}
    occurrences = {each["date"] for each in made.json()["occurrences"]}
    won_by_singles = {answer.json()["date"] for answer in singles if answer.status_code == 201}
    assert skipped == won_by_singles
    assert len(occurrences) == WEEKS - len(skipped)
    assert not occurrences & won_by_singles
    assert _overlapping_active_pairs(database_url) == 0
