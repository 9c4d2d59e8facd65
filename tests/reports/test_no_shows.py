"""No-shows in the reports against SQL written here, on PostgreSQL and SQLite: released ÷
bookings in check-in rooms that started in the period, per room and overall, through the
JSON, the CSV and the page."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text, update

from mrs.clock import FixedClock
from mrs.db.engine import Database
from mrs.reservations.models import Reservation, ReservationStatus
from mrs.wallclock import wall_instant
from tests.reports.seeding import book, open_days
from tests.reservations.checkin_support import require_checkin

pytestmark = pytest.mark.both_databases

ACTIVE, RELEASED, CANCELLED = (
    ReservationStatus.ACTIVE,
    ReservationStatus.RELEASED,
    ReservationStatus.CANCELLED,
)
# The pinned now is 2030-01-07 09:00 in Tokyo.
FIRST, LAST = date(2030, 1, 1), date(2030, 1, 10)
PERIOD = {"from": FIRST.isoformat(), "to": LAST.isoformat()}


@pytest.fixture
async def rooms(app: Any, make_room: Any, make_user: Any) -> dict[str, int]:
    db: Database = app.state.db
    owner = await make_user()
    strict = await make_room("Board", days=0)
    other = await make_room("会議室B", days=0)
    plain = await make_room("Plain", days=0)
    for room in (strict, other, plain):
        await open_days(db, room, date(2029, 12, 30), date(2030, 1, 12), closed=set())
    await require_checkin(app, strict)
    await require_checkin(app, other)
    today, before = date(2030, 1, 7), date(2030, 1, 3)
    # Board: 2 released, 1 checked in, 1 cancelled (never started), today 08:00 released,
    # today 10:00 (not started yet), tomorrow, and one before the period.
    await book(db, strict, before, 600, 660, owner, status=RELEASED)
    await book(db, strict, before, 660, 720, owner, status=RELEASED)
    await book(db, strict, before, 720, 780, owner)
    await book(db, strict, before, 780, 840, owner, status=CANCELLED)
    await book(db, strict, today, 480, 540, owner, status=RELEASED)
    await book(db, strict, today, 600, 660, owner)
    await book(db, strict, today + timedelta(days=1), 600, 660, owner)
    await book(db, strict, date(2029, 12, 31), 600, 660, owner, status=RELEASED)
    # 会議室B: one kept, no release.
    await book(db, other, before, 600, 660, owner)
    # Plain: a release would not count (no check-in asked there now).
    await book(db, plain, before, 600, 660, owner, status=RELEASED)
    async with db.transaction() as session:
        await session.execute(
            update(Reservation)
            .where(Reservation.room_id == strict, Reservation.start_minute == 720)
            .values(checked_in_at=wall_instant(before, 715, db.settings.tz))
        )
    return {"strict": strict, "other": other, "plain": plain}


async def _independent(db: Database, now: Any) -> tuple[Counter[int], Counter[int]]:
    """(started, released) per room: every reservation of a check-in room in the period
    read in plain SQL, its start worked out here."""
    async with db.snapshot() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT r.room_id, r.status, r.reserved_date, r.start_minute"
                    " FROM reservation r JOIN room_policy p ON p.room_id = r.room_id"
                    " WHERE p.checkin_required AND r.reserved_date BETWEEN :first AND :last"
                ),
                {"first": FIRST, "last": LAST},
            )
        ).all()
    started: Counter[int] = Counter()
    released: Counter[int] = Counter()
    for row in rows:
        day = row.reserved_date
        day = day if isinstance(day, date) else date.fromisoformat(day)
        if row.status == "CANCELLED" or wall_instant(day, row.start_minute, db.settings.tz) >= now:
            continue
        started[row.room_id] += 1
        released[row.room_id] += row.status == "RELEASED"
    return started, released


async def test_no_shows_match_sql_written_independently(
    app: Any,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    rooms: dict[str, int],
    clock: FixedClock,
) -> None:
    response = await client.get(
        "/api/admin/reports/utilisation", params=PERIOD, headers=admin_headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    got = {row["room_id"]: row["no_shows"] for row in body["rooms"]}
    started, released = await _independent(app.state.db, clock())
    for room_id in rooms.values():
        assert got[room_id]["started"] == started[room_id]
        assert got[room_id]["released"] == released[room_id]
    # By hand: Board 3 released of 4 started (the cancelled, 10:00 today and tomorrow
    # not started); 会議室B 0 of 1; Plain is not a check-in room.
    assert got[rooms["strict"]] == {"started": 4, "released": 3, "rate": 0.75}
    assert got[rooms["other"]] == {"started": 1, "released": 0, "rate": 0.0}
    assert got[rooms["plain"]] == {"started": 0, "released": 0, "rate": 0.0}
    assert body["no_shows"] == {"started": 5, "released": 3, "rate": 0.6}
    one = await client.get(
        "/api/admin/reports/utilisation",
        params={**PERIOD, "room_id": rooms["other"]},
        headers=admin_headers,
    )
    assert one.json()["no_shows"] == {"started": 1, "released": 0, "rate": 0.0}
    # An hour later today's 10:00 booking has started too.
    clock.now = clock.now + timedelta(hours=1, minutes=1)
    later = await client.get("/api/admin/reports/utilisation", params=PERIOD, headers=admin_headers)
    assert later.json()["no_shows"]["started"] == 6


async def test_no_shows_in_the_csv_and_on_the_page(
    client: httpx.AsyncClient, admin_headers: dict[str, str], rooms: dict[str, int]
) -> None:
    response = await client.get(
        "/api/admin/reports/utilisation",
        params={**PERIOD, "format": "csv"},
        headers=admin_headers,
    )
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    board = next(row for row in rows if row["room_name"] == "Board")
    assert (board["checkin_bookings_started"], board["no_shows"], board["no_show_rate"]) == (
        "4",
        "3",
        "0.75",
    )
    for language, heading, rate in (("en", "No-shows", "75"), ("ja", "ノーショー", "75")):
        page = await client.get(
            "/admin/reports",
            params=PERIOD,
            headers={**admin_headers, "Accept-Language": language},
        )
        assert page.status_code == 200, page.text
        assert heading in page.text
        assert 'id="no-shows"' in page.text
        table = page.text.split('id="no-shows"')[1].split("</table>")[0]
        assert "Board" in table
        assert "Plain" not in table
        assert rate in table
