"""Series across the days the clocks change, for a site in New York and one in Berlin:
a weekly 10:00 meeting stays at 10:00 local time (and an hour long) on every occurrence,
and a series at a time that does not exist on the spring-forward day is refused naming
that date, or, when conflicts are skipped, skips that date with its reason. Nothing is
ever stored at a time that does not exist."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from mrs.clock import FixedClock
from mrs.reservations.models import Reservation
from mrs.rooms import service as rooms_service
from mrs.settings import Settings
from mrs.wallclock import wall_instant, wall_time_exists

pytestmark = pytest.mark.both_databases


class Site(NamedTuple):
    timezone: str
    spring: date  # a Sunday: clocks go forward at 02:00, 02:00–02:59 does not exist
    fall: date  # a Sunday: clocks go back
    winter_utc_hour: int  # 10:00 local in UTC, standard time
    summer_utc_hour: int  # 10:00 local in UTC, summer time


NEW_YORK = Site("America/New_York", date(2027, 3, 14), date(2027, 11, 7), 15, 14)
BERLIN = Site("Europe/Berlin", date(2027, 3, 28), date(2027, 10, 31), 9, 8)


@pytest.fixture(params=[NEW_YORK, BERLIN], ids=["new_york", "berlin"])
def site(request: pytest.FixtureRequest) -> Site:
    site: Site = request.param
    return site


@pytest.fixture
def settings(tmp_path: Path, database_url: str, site: Site) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-secret-key-0123456789-0123456789-0123456789",
        timezone=site.timezone,
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2027, 2, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
async def room(app: Any) -> int:
    created = await rooms_service.create_room(
        app.state.db, room_name="Sakura", capacity=6, location="1F"
    )
    await rooms_service.open_room(
        app.state.db,
        room_id=created.room_id,
        from_date=date(2027, 2, 1),
        to_date=date(2027, 12, 31),
        weekdays=None,
    )
    return created.room_id


async def _create_series(
    client: httpx.AsyncClient,
    room: int,
    headers: dict[str, str],
    *,
    start_date: date,
    start_time: str,
    end_time: str,
    rule: str,
    on_conflict: str,
) -> httpx.Response:
    return await client.post(
        f"/api/rooms/{room}/series",
        json={
            "title": "Weekly sync",
            "start_date": start_date.isoformat(),
            "start_time": start_time,
            "end_time": end_time,
            "rule": rule,
            "on_conflict": on_conflict,
        },
        headers=headers,
    )


async def _stored(app: Any, room: int) -> list[tuple[date, int, int, int | None]]:
    async with app.state.db.snapshot() as session:
        rows = await session.execute(
            select(
                Reservation.reserved_date,
                Reservation.start_minute,
                Reservation.end_minute,
                Reservation.series_id,
            )
            .where(Reservation.room_id == room, Reservation.status == "ACTIVE")
            .order_by(Reservation.reserved_date)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_a_weekly_ten_oclock_stays_at_ten_across_both_changes(
    app: Any, client: httpx.AsyncClient, room: int, user_headers: dict[str, str], site: Site
) -> None:
    first = site.spring - timedelta(days=14)
    until = site.fall + timedelta(days=14)
    created = await _create_series(
        client,
        room,
        user_headers,
        start_date=first,
        start_time="10:00",
        end_time="11:00",
        rule=f"FREQ=WEEKLY;BYDAY=SU;UNTIL={until:%Y%m%d}",
        on_conflict="fail",
    )
    assert created.status_code == 201, created.text
    assert created.json()["skipped"] == []

    stored = await _stored(app, room)
    days = [day for day, *_ in stored]
    assert days[0] == first
    assert days[-1] == until
    assert site.spring in days
    assert site.fall in days
    assert len(days) == (until - first).days // 7 + 1
    assert {(start, end) for _, start, end, _ in stored} == {(600, 660)}
    assert len({series for *_, series in stored}) == 1

    # 10:00 local is a different UTC hour in winter and in summer: the wall time held.
    tz = ZoneInfo(site.timezone)
    for day, start, _, _ in stored:
        summer = site.spring <= day < site.fall
        expected = site.summer_utc_hour if summer else site.winter_utc_hour
        assert wall_instant(day, start, tz).hour == expected, day

    for day in (site.spring - timedelta(days=7), site.spring, site.fall, site.fall + timedelta(7)):
        listed = await client.get(
            f"/api/rooms/{room}/reservations",
            params={"date": day.isoformat()},
            headers=user_headers,
        )
        assert listed.status_code == 200
        [occurrence] = listed.json()
        assert (occurrence["start_time"], occurrence["end_time"]) == ("10:00", "11:00")
        assert occurrence["duration_minutes"] == 60


async def test_a_time_that_does_not_exist_refuses_the_series_naming_the_date(
    app: Any, client: httpx.AsyncClient, room: int, user_headers: dict[str, str], site: Site
) -> None:
    refused = await _create_series(
        client,
        room,
        user_headers,
        start_date=site.spring - timedelta(days=2),
        start_time="02:30",
        end_time="03:30",
        rule="FREQ=DAILY;COUNT=5",
        on_conflict="fail",
    )
    assert refused.status_code == 409, refused.text
    assert site.spring.isoformat() in refused.text
    # Only the spring-forward day is named: the other four dates are fine.
    for other in (-2, -1, 1, 2):
        assert (site.spring + timedelta(days=other)).isoformat() not in refused.text
    assert await _stored(app, room) == []


async def test_skipping_leaves_out_the_date_the_time_does_not_exist_with_its_reason(
    app: Any, client: httpx.AsyncClient, room: int, user_headers: dict[str, str], site: Site
) -> None:
    created = await _create_series(
        client,
        room,
        user_headers,
        start_date=site.spring - timedelta(days=2),
        start_time="02:30",
        end_time="03:30",
        rule="FREQ=DAILY;COUNT=5",
        on_conflict="skip",
    )
    assert created.status_code == 201, created.text
    answer = created.json()
    assert len(answer["occurrences"]) == 4
    [skipped] = answer["skipped"]
    assert skipped["date"] == site.spring.isoformat()
    assert skipped["reason"] == "time_does_not_exist"

    stored = await _stored(app, room)
    assert [day for day, *_ in stored] == [
        site.spring + timedelta(days=offset) for offset in (-2, -1, 1, 2)
    ]
    tz = ZoneInfo(site.timezone)
    assert all(wall_time_exists(day, start, tz) for day, start, _, _ in stored)


async def test_a_series_ending_in_the_skipped_hour_is_refused_on_that_date_only(
    app: Any, client: httpx.AsyncClient, room: int, user_headers: dict[str, str], site: Site
) -> None:
    refused = await _create_series(
        client,
        room,
        user_headers,
        start_date=site.spring - timedelta(days=7),
        start_time="01:00",
        end_time="02:30",
        rule="FREQ=WEEKLY;COUNT=3",
        on_conflict="fail",
    )
    assert refused.status_code == 409, refused.text
    assert site.spring.isoformat() in refused.text
    assert await _stored(app, room) == []


async def test_moving_all_of_a_series_keeps_wall_time_and_skips_the_missing_hour(
    app: Any, client: httpx.AsyncClient, room: int, user_headers: dict[str, str], site: Site
) -> None:
    first = site.spring - timedelta(days=7)
    created = await _create_series(
        client,
        room,
        user_headers,
        start_date=first,
        start_time="10:00",
        end_time="11:00",
        rule="FREQ=WEEKLY;COUNT=3",
        on_conflict="fail",
    )
    assert created.status_code == 201, created.text
    series_id = created.json()["series_id"]
    weeks = [first + timedelta(weeks=week) for week in range(3)]

    refused = await client.patch(
        f"/api/series/{series_id}",
        json={"scope": "all", "start_time": "02:30", "end_time": "03:30"},
        headers=user_headers,
    )
    assert refused.status_code == 409, refused.text
    assert site.spring.isoformat() in refused.text
    assert [(day, start) for day, start, _, _ in await _stored(app, room)] == [
        (day, 600) for day in weeks
    ]

    moved = await client.patch(
        f"/api/series/{series_id}",
        json={
            "scope": "all",
            "start_time": "02:30",
            "end_time": "03:30",
            "on_conflict": "skip",
        },
        headers=user_headers,
    )
    assert moved.status_code == 200, moved.text
    assert [(each["date"], each["reason"]) for each in moved.json()["skipped"]] == [
        (site.spring.isoformat(), "time_does_not_exist")
    ]
    stored = await _stored(app, room)
    assert [(day, start, end) for day, start, end, _ in stored] == [
        (weeks[0], 150, 210),
        (weeks[2], 150, 210),
    ]
    tz = ZoneInfo(site.timezone)
    assert all(wall_time_exists(day, start, tz) for day, start, _, _ in stored)
