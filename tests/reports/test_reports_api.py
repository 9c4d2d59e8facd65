"""The reports' figures against SQL written here, on PostgreSQL and SQLite, through the API."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from mrs.db.engine import Database
from mrs.reservations.models import ReservationStatus
from tests.reports.seeding import book, open_days, set_hours

pytestmark = pytest.mark.both_databases

FIRST, LAST = date(2029, 12, 1), date(2029, 12, 31)
PERIOD = {"from": FIRST.isoformat(), "to": LAST.isoformat()}
CANCELLED = ReservationStatus.CANCELLED


@pytest.fixture
async def rooms(app: Any, make_room: Any, make_user: Any) -> dict[str, int]:
    """Three rooms: big (09:00–18:00, closed 25 and 31 December), small (12:00–14:00,
    open 1–3 December only; one meeting made before its hours were narrowed), and one
    never opened."""
    db: Database = app.state.db
    owner = await make_user()
    big = await make_room("大会議室", days=0)
    small = await make_room("Small", days=0)
    never = await make_room("Never opened", days=0)
    await set_hours(db, big, 540, 1080)
    await open_days(
        db, big, date(2029, 11, 30), date(2030, 1, 1), closed={date(2029, 12, 25), LAST}
    )
    await open_days(db, small, date(2029, 12, 1), date(2029, 12, 3), closed=set())
    await book(db, big, date(2029, 11, 30), 540, 600, owner)  # before the period
    await book(db, big, date(2029, 12, 3), 540, 630, owner)  # Monday 09:00–10:30
    await book(db, big, date(2029, 12, 3), 630, 660, owner, status=CANCELLED)
    await book(db, big, date(2029, 12, 4), 795, 885, owner)  # Tuesday 13:15–14:45
    await book(db, big, date(2029, 12, 10), 570, 600, owner)  # Monday 09:30–10:00
    await book(db, big, date(2030, 1, 1), 540, 1080, owner)  # after the period
    await book(db, small, date(2029, 12, 2), 720, 840, owner)
    await book(db, small, date(2029, 12, 2), 600, 660, owner, status=CANCELLED)
    await book(db, small, date(2029, 12, 3), 660, 780, owner)  # 11:00–13:00, hours 12–14
    await set_hours(db, small, 720, 840)
    return {"big": big, "small": small, "never": never}


async def _independent_utilisation(
    db: Database, first: date, last: date
) -> dict[int, tuple[int, int]]:
    """(bookable, booked) minutes per room: open dates counted per room by a correlated
    subquery, and the meetings' parts within hours worked out here from their rows."""
    params = {"first": first, "last": last}
    async with db.snapshot() as session:
        rooms = (
            await session.execute(
                text(
                    "SELECT m.room_id, m.open_minute, m.close_minute,"
                    " (SELECT COUNT(*) FROM reservable_room d WHERE d.room_id = m.room_id"
                    "   AND d.is_open AND d.reserved_date BETWEEN :first AND :last)"
                    " * (m.close_minute - m.open_minute)"
                    " * (CASE WHEN m.active THEN 1 ELSE 0 END) AS bookable"
                    " FROM meeting_room m"
                ),
                params,
            )
        ).all()
        meetings = (
            await session.execute(
                text(
                    "SELECT r.room_id, r.start_minute, r.end_minute FROM reservation r"
                    " JOIN reservable_room d ON d.room_id = r.room_id"
                    "  AND d.reserved_date = r.reserved_date"
                    " WHERE r.status = 'ACTIVE' AND d.is_open"
                    "  AND r.reserved_date BETWEEN :first AND :last"
                ),
                params,
            )
        ).all()
    hours = {room.room_id: (room.open_minute, room.close_minute) for room in rooms}
    booked: Counter[int] = Counter()
    for meeting in meetings:
        opens, closes = hours[meeting.room_id]
        booked[meeting.room_id] += max(
            0, min(meeting.end_minute, closes) - max(meeting.start_minute, opens)
        )
    return {room.room_id: (int(room.bookable), booked[room.room_id]) for room in rooms}


async def _independent_minutes(db: Database, first: date, last: date) -> Counter[tuple[int, int]]:
    """Booked minutes by (ISO weekday, hour), minute by minute from the meetings' rows."""
    async with db.snapshot() as session:
        meetings = (
            await session.execute(
                text(
                    "SELECT reserved_date, start_minute, end_minute FROM reservation"
                    " WHERE status = 'ACTIVE' AND reserved_date BETWEEN :first AND :last"
                ),
                {"first": first, "last": last},
            )
        ).all()
    minutes: Counter[tuple[int, int]] = Counter()
    for meeting in meetings:
        day = meeting.reserved_date
        day = day if isinstance(day, date) else date.fromisoformat(day)
        for minute in range(meeting.start_minute, meeting.end_minute):
            minutes[(day.isoweekday(), minute // 60)] += 1
    return minutes


async def test_utilisation_matches_sql_written_independently(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str], rooms: dict[str, int]
) -> None:
    response = await client.get(
        "/api/admin/reports/utilisation", params=PERIOD, headers=admin_headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["from_date"], body["to_date"]) == (FIRST.isoformat(), LAST.isoformat())
    got = {row["room_id"]: row for row in body["rooms"]}
    expected = await _independent_utilisation(app.state.db, FIRST, LAST)
    assert set(got) == set(expected) == set(rooms.values())
    for room_id, (bookable, booked) in expected.items():
        assert (got[room_id]["bookable_minutes"], got[room_id]["booked_minutes"]) == (
            bookable,
            booked,
        )
    # The same figures worked out by hand: 29 open days × 9 hours; 3 days × 2 hours, and
    # the 11:00–13:00 meeting counted for its hour within 12:00–14:00.
    big, small, never = got[rooms["big"]], got[rooms["small"]], got[rooms["never"]]
    assert (big["bookable_minutes"], big["booked_minutes"]) == (29 * 540, 210)
    assert big["utilisation"] == round(210 / (29 * 540), 4)
    assert (big["reservations"], big["cancelled"], big["cancelled_share"]) == (4, 1, 0.25)
    assert (small["bookable_minutes"], small["booked_minutes"]) == (360, 180)
    assert small["utilisation"] == 0.5
    assert (small["reservations"], small["cancelled"]) == (3, 1)
    assert never == {
        "room_id": rooms["never"],
        "room_name": "Never opened",
        "bookable_minutes": 0,
        "booked_minutes": 0,
        "utilisation": 0.0,
        "reservations": 0,
        "cancelled": 0,
        "cancelled_share": 0.0,
        "no_shows": {"started": 0, "released": 0, "rate": 0.0},
    }


async def test_one_room_and_an_empty_period(
    client: httpx.AsyncClient, admin_headers: dict[str, str], rooms: dict[str, int]
) -> None:
    one = await client.get(
        "/api/admin/reports/utilisation",
        params={**PERIOD, "room_id": rooms["small"]},
        headers=admin_headers,
    )
    assert one.status_code == 200, one.text
    assert [row["room_id"] for row in one.json()["rooms"]] == [rooms["small"]]
    empty = await client.get(
        "/api/admin/reports/utilisation",
        params={"from": "2031-01-01", "to": "2031-01-31"},
        headers=admin_headers,
    )
    assert empty.status_code == 200, empty.text
    assert {row["utilisation"] for row in empty.json()["rooms"]} == {0.0}
    assert {row["bookable_minutes"] for row in empty.json()["rooms"]} == {0}
    hours = await client.get(
        "/api/admin/reports/busiest-hours",
        params={"from": "2031-01-01", "to": "2031-01-31"},
        headers=admin_headers,
    )
    assert hours.status_code == 200
    assert {cell["booked_minutes"] for cell in hours.json()["cells"]} == {0}
    zero = await client.get(
        "/api/admin/reports/utilisation", params={**PERIOD, "room_id": 0}, headers=admin_headers
    )
    assert zero.status_code == 422
    missing = await client.get(
        "/api/admin/reports/utilisation",
        params={**PERIOD, "room_id": 999999},
        headers=admin_headers,
    )
    assert missing.status_code == 404


async def test_busiest_hours_match_the_meetings_minute_by_minute(
    app: Any, client: httpx.AsyncClient, admin_headers: dict[str, str], rooms: dict[str, int]
) -> None:
    response = await client.get(
        "/api/admin/reports/busiest-hours", params=PERIOD, headers=admin_headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    cells = {(c["weekday"], c["hour"]): c["booked_minutes"] for c in body["cells"]}
    assert len(cells) == 7 * 24
    expected = await _independent_minutes(app.state.db, FIRST, LAST)
    assert {key: value for key, value in cells.items() if value} == dict(expected)
    # By hand: Mondays 09:00–10:30 and 09:30–10:00, and 11:00–13:00 in the small room.
    assert (cells[(1, 9)], cells[(1, 10)], cells[(1, 11)], cells[(1, 12)]) == (90, 30, 60, 60)
    assert (cells[(2, 13)], cells[(2, 14)]) == (45, 45)
    by_hour = {h["hour"]: h["booked_minutes"] for h in body["by_hour"]}
    assert by_hour[9] == 90
    assert sum(by_hour.values()) == sum(expected.values())


async def test_csv_starts_with_a_bom_and_reads_back(
    client: httpx.AsyncClient, admin_headers: dict[str, str], rooms: dict[str, int]
) -> None:
    response = await client.get(
        "/api/admin/reports/utilisation",
        params={**PERIOD, "format": "csv"},
        headers=admin_headers,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="utilisation-2029-12-01-2029-12-31.csv"'
    )
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    big = next(row for row in rows if row["room_id"] == str(rooms["big"]))
    assert big["room_name"] == "大会議室"
    assert (big["bookable_minutes"], big["booked_minutes"], big["cancelled"]) == (
        str(29 * 540),
        "210",
        "1",
    )
    hours = await client.get(
        "/api/admin/reports/busiest-hours",
        params={**PERIOD, "format": "csv"},
        headers=admin_headers,
    )
    assert hours.content.startswith(b"\xef\xbb\xbf")
    cells = list(csv.reader(io.StringIO(hours.content.decode("utf-8-sig"))))
    assert cells[0] == ["weekday", "hour", "booked_minutes"]
    assert len(cells) == 1 + 7 * 24
    assert ["1", "9", "90"] in cells


@pytest.mark.parametrize("path", ["utilisation", "busiest-hours"])
async def test_users_get_403_and_bad_periods_422(
    client: httpx.AsyncClient,
    user_headers: dict[str, str],
    admin_headers: dict[str, str],
    path: str,
) -> None:
    url = f"/api/admin/reports/{path}"
    assert (await client.get(url, params=PERIOD, headers=user_headers)).status_code == 403
    assert (await client.get(url, params=PERIOD)).status_code == 401
    backwards = await client.get(
        url, params={"from": "2029-12-02", "to": "2029-12-01"}, headers=admin_headers
    )
    assert backwards.status_code == 422
    assert "must not be before" in backwards.text
    too_long = await client.get(
        url, params={"from": "2028-01-01", "to": "2029-01-01"}, headers=admin_headers
    )
    assert too_long.status_code == 422
    assert "at most 366 days" in too_long.text
    leap_year = await client.get(
        url, params={"from": "2028-01-01", "to": "2028-12-31"}, headers=admin_headers
    )
    assert leap_year.status_code == 200
    for bad in (
        {"from": "2029-02-30", "to": "2029-03-01"},
        {"from": "2029-12-01"},
        {**PERIOD, "format": "xml"},
    ):
        assert (await client.get(url, params=bad, headers=admin_headers)).status_code == 422
    japanese = await client.get(
        url,
        params={"from": "2029-12-02", "to": "2029-12-01"},
        headers={**admin_headers, "Accept-Language": "ja"},
    )
    assert japanese.json()["error"]["code"] == "report_period_backwards"
    assert japanese.json()["error"]["message"] == (
        "期間の終わり（2029-12-01）を始め（2029-12-02）より前にはできません。"
    )
