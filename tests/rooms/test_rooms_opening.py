"""Opening rules at work: bookable hours, closure days and the job that opens rooms
ahead (PostgreSQL and SQLite; the two-process run on PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mrs.db.engine import Database
from mrs.rooms import opening
from mrs.rooms import service as rooms_service
from mrs.rooms.models import ReservableRoom
from mrs.settings import Settings

pytestmark = pytest.mark.both_databases

Headers = dict[str, str]
SECRET = "test-secret-key-0123456789-0123456789-0123456789"
# The pinned today (tests/conftest.py) is Monday 2030-01-07; Monday 2030-01-14 is Coming
# of Age Day, a public holiday in Japan.
COMING_OF_AGE_DAY = date(2030, 1, 14)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", database_url=database_url, secret_key=SECRET, open_days_ahead=14
    )


async def _new_room(client: httpx.AsyncClient, headers: Headers, **fields: Any) -> dict[str, Any]:
    made = await client.post(
        "/api/admin/rooms", json={"room_name": "Sakura", **fields}, headers=headers
    )
    assert made.status_code == 201, made.text
    return made.json()  # type: ignore[no-any-return]


async def _open_dates(db: Database, room_id: int) -> list[date]:
    async with db.snapshot() as session:
        return list(
            (
                await session.scalars(
                    select(ReservableRoom.reserved_date)
                    .where(ReservableRoom.room_id == room_id, ReservableRoom.is_open.is_(True))
                    .order_by(ReservableRoom.reserved_date)
                )
            ).all()
        )


async def _book(
    client: httpx.AsyncClient, headers: Headers, room_id: int, day: date, start: str, end: str
) -> httpx.Response:
    return await client.post(
        f"/api/rooms/{room_id}/reservations",
        json={"date": day.isoformat(), "start_time": start, "end_time": end},
        headers=headers,
    )


async def test_a_new_room_gets_the_sites_default_rule(
    client: httpx.AsyncClient, admin_headers: Headers
) -> None:
    room = await _new_room(client, admin_headers)
    assert room["opening"] == {
        "weekdays": [1, 2, 3, 4, 5],
        "start_time": "08:00",
        "end_time": "20:00",
        "auto_open": True,
        "closed_on_holidays": True,
    }
    edited = await client.patch(
        f"/api/admin/rooms/{room['room_id']}",
        json={"opening": {"weekdays": [6, 7], "end_time": "22:00", "auto_open": False}},
        headers=admin_headers,
    )
    assert edited.status_code == 200
    assert edited.json()["opening"] == {
        "weekdays": [6, 7],
        "start_time": "08:00",
        "end_time": "22:00",
        "auto_open": False,
        "closed_on_holidays": True,
    }


@pytest.mark.parametrize(
    "rule",
    [
        {"start_time": "20:00", "end_time": "08:00"},
        {"start_time": "08:15"},  # not on a 30-minute slot boundary
        {"end_time": "24:30"},
        {"weekdays": []},
        {"weekdays": [0, 1]},
        {"auto_open": None},
    ],
)
async def test_a_bad_opening_rule_is_a_422(
    client: httpx.AsyncClient, admin_headers: Headers, rule: dict[str, Any]
) -> None:
    made = await client.post(
        "/api/admin/rooms", json={"room_name": "Fuji", "opening": rule}, headers=admin_headers
    )
    assert made.status_code == 422, made.text
    assert made.json()["error"]["message"]


async def test_bookings_outside_the_bookable_hours_are_refused(
    client: httpx.AsyncClient, admin_headers: Headers, user_headers: Headers, tomorrow: date
) -> None:
    room = await _new_room(client, admin_headers)  # 08:00-20:00
    room_id = room["room_id"]
    opened = await client.post(
        f"/api/admin/rooms/{room_id}/open",
        json={"from_date": tomorrow.isoformat(), "to_date": tomorrow.isoformat()},
        headers=admin_headers,
    )
    assert opened.status_code == 200
    early = await _book(client, user_headers, room_id, tomorrow, "07:30", "08:30")
    assert early.status_code == 422
    assert early.json()["error"]["code"] == "outside_bookable_hours"
    assert early.json()["error"]["message"] == (
        f"Room {room_id} can be booked only between 08:00 and 20:00."
    )
    late = await _book(
        client, {**user_headers, "Accept-Language": "ja"}, room_id, tomorrow, "19:30", "20:30"
    )
    assert late.status_code == 422
    assert (
        late.json()["error"]["message"]
        == f"会議室 {room_id} は 08:00〜20:00 の間だけ予約できます。"
    )
    for start, end in (("08:00", "09:00"), ("19:00", "20:00")):
        inside = await _book(client, user_headers, room_id, tomorrow, start, end)
        assert inside.status_code == 201, inside.text


async def test_rooms_from_before_the_rules_stay_bookable_all_day(
    client: httpx.AsyncClient, make_room: Any, user_headers: Headers, tomorrow: date
) -> None:
    # make_room creates rooms through the service without a rule: hand-opened, all day.
    room_id = await make_room()
    assert (
        await _book(client, user_headers, room_id, tomorrow, "06:00", "07:00")
    ).status_code == 201
    assert (
        await _book(client, user_headers, room_id, tomorrow, "23:00", "24:00")
    ).status_code == 201


async def test_the_job_opens_weekdays_ahead_except_holidays_and_closure_days(
    client: httpx.AsyncClient,
    admin_headers: Headers,
    app: Any,
    settings: Settings,
    today: date,
    make_room: Any,
) -> None:
    db = app.state.db
    room_id = (await _new_room(client, admin_headers))["room_id"]
    by_hand = await make_room(days=0)
    closure = today + timedelta(days=3)  # Thursday
    made = await client.post(
        "/api/admin/closure-days",
        json={"date": closure.isoformat(), "label": "Founding day"},
        headers=admin_headers,
    )
    assert made.status_code == 201, made.text
    # An admin closes Friday by hand before the job first runs: it stays closed.
    friday = today + timedelta(days=4)
    await client.post(
        f"/api/admin/rooms/{room_id}/open",
        json={"from_date": friday.isoformat(), "to_date": friday.isoformat()},
        headers=admin_headers,
    )
    await client.post(
        f"/api/admin/rooms/{room_id}/close",
        json={"from_date": friday.isoformat(), "to_date": friday.isoformat()},
        headers=admin_headers,
    )
    await opening.open_ahead(db, settings=settings, today=today)
    expected = [
        today + timedelta(days=offset)
        for offset in range(14)
        if (today + timedelta(days=offset)).isoweekday() <= 5
    ]
    expected = [day for day in expected if day not in (closure, friday, COMING_OF_AGE_DAY)]
    assert await _open_dates(db, room_id) == expected
    assert await _open_dates(db, by_hand) == []  # not opened automatically
    # A second run opens nothing more.
    assert await opening.open_ahead(db, settings=settings, today=today) == 0
    assert await _open_dates(db, room_id) == expected


async def test_no_holiday_country_opens_the_holidays(
    client: httpx.AsyncClient, admin_headers: Headers, app: Any, settings: Settings, today: date
) -> None:
    room_id = (await _new_room(client, admin_headers))["room_id"]
    no_country = settings.model_copy(update={"holiday_country": ""})
    await opening.open_ahead(app.state.db, settings=no_country, today=today)
    assert COMING_OF_AGE_DAY in await _open_dates(app.state.db, room_id)


async def test_a_closure_day_is_refused_while_bookings_remain(
    client: httpx.AsyncClient,
    admin_headers: Headers,
    user_headers: Headers,
    make_room: Any,
    tomorrow: date,
) -> None:
    first, second = await make_room(), await make_room()
    booked = await _book(client, user_headers, second, tomorrow, "10:00", "11:00")
    body = {"date": tomorrow.isoformat(), "label": "年末年始"}
    refused = await client.post("/api/admin/closure-days", json=body, headers=admin_headers)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "room_has_reservations"
    assert error["details"] == [
        {
            "reservation_id": booked.json()["reservation_id"],
            "room_id": second,
            "date": tomorrow.isoformat(),
            "start_time": "10:00",
            "end_time": "11:00",
            "user_id": booked.json()["user_id"],
        }
    ]
    listed = await client.get("/api/admin/closure-days", headers=admin_headers)
    assert listed.json() == []  # nothing was written
    await client.delete(
        f"/api/reservations/{booked.json()['reservation_id']}", headers=user_headers
    )
    made = await client.post("/api/admin/closure-days", json=body, headers=admin_headers)
    assert made.status_code == 201
    assert made.json()["date"] == tomorrow.isoformat()
    assert made.json()["label"] == "年末年始"
    for room_id in (first, second):
        refused_booking = await _book(client, user_headers, room_id, tomorrow, "10:00", "11:00")
        assert refused_booking.status_code == 404
        assert refused_booking.json()["error"]["code"] == "room_not_reservable"
    again = await client.post("/api/admin/closure-days", json=body, headers=admin_headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "closure_day_exists"


async def test_closure_days_are_listed_and_removed_by_admins(
    client: httpx.AsyncClient, admin_headers: Headers, user_headers: Headers, today: date
) -> None:
    day = today + timedelta(days=30)
    body = {"date": day.isoformat(), "label": "Company holiday"}
    assert (
        await client.post("/api/admin/closure-days", json=body, headers=user_headers)
    ).status_code == 403
    assert (
        await client.post("/api/admin/closure-days", json=body, headers=admin_headers)
    ).status_code == 201
    listed = await client.get("/api/admin/closure-days", headers=admin_headers)
    assert [(d["date"], d["label"]) for d in listed.json()] == [
        (day.isoformat(), "Company holiday")
    ]
    gone = await client.delete(f"/api/admin/closure-days/{day.isoformat()}", headers=admin_headers)
    assert gone.status_code == 204
    missing = await client.delete(
        f"/api/admin/closure-days/{day.isoformat()}", headers=admin_headers
    )
    assert missing.status_code == 404
    bad = await client.post(
        "/api/admin/closure-days", json={"date": "2030-02-30", "label": ""}, headers=admin_headers
    )
    assert bad.status_code == 422
    assert {d["field"] for d in bad.json()["error"]["details"]} >= {"date", "label"}


async def test_two_processes_running_the_job_at_once_open_each_date_once(
    client: httpx.AsyncClient, admin_headers: Headers, settings: Settings, today: date
) -> None:
    room_ids = [
        (
            await _new_room(
                client, admin_headers, room_name=f"Room {n}", opening={"auto_open": False}
            )
        )["room_id"]
        for n in range(5)
    ]
    databases = [Database(settings) for _ in range(2)]
    for room_id in room_ids:  # switched on without opening anything: the job's to do
        await rooms_service.update_room(
            databases[0], room_id=room_id, changes={"opening": {"auto_open": True}}
        )
    try:
        added = await asyncio.gather(
            *(opening.open_ahead(db, settings=settings, today=today) for db in databases)
        )
        async with databases[0].snapshot() as session:
            rows = await session.scalar(
                select(func.count())
                .select_from(ReservableRoom)
                .where(ReservableRoom.room_id.in_(room_ids))
            )
    finally:
        for db in databases:
            await db.dispose()
    per_room = 14 - 4 - 1  # two weeks, minus two weekends, minus Coming of Age Day
    assert rows == 5 * per_room
    assert sum(added) == rows  # each date added by exactly one of the two


async def test_a_room_that_opens_automatically_is_bookable_as_soon_as_it_is_created(
    client: httpx.AsyncClient, admin_headers: Headers, today: date
) -> None:
    room = await _new_room(client, admin_headers, room_name="Tsubaki")
    days = await client.get(
        "/api/rooms", params={"date": _next_weekday(today).isoformat()}, headers=admin_headers
    )
    assert room["room_id"] in [listed["room_id"] for listed in days.json()]
    by_hand = await _new_room(client, admin_headers, room_name="Ume", opening={"auto_open": False})
    assert by_hand["room_id"] not in [listed["room_id"] for listed in days.json()]
    edited = await client.patch(
        f"/api/admin/rooms/{by_hand['room_id']}",
        json={"opening": {"auto_open": True}},
        headers=admin_headers,
    )
    assert edited.status_code == 200, edited.text
    again = await client.get(
        "/api/rooms", params={"date": _next_weekday(today).isoformat()}, headers=admin_headers
    )
    assert by_hand["room_id"] in [listed["room_id"] for listed in again.json()]


def _next_weekday(day: date) -> date:
    day += timedelta(days=1)
    while day.isoweekday() > 5:
        day += timedelta(days=1)
    return day
