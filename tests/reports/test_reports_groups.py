"""Utilisation per group against SQL written here, on PostgreSQL and SQLite: the API, its
CSV, and the section of the reports page."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from mrs.accounts import groups
from mrs.accounts.models import Role
from mrs.db.engine import Database
from mrs.reservations.models import ReservationStatus
from tests.conftest import DEFAULT_PASSWORD, browser_like_client
from tests.reports.seeding import book, open_days, set_hours

pytestmark = pytest.mark.both_databases

FIRST, LAST = date(2029, 12, 1), date(2029, 12, 31)
PERIOD = {"from": FIRST.isoformat(), "to": LAST.isoformat()}
CANCELLED = ReservationStatus.CANCELLED
NOW = datetime(2029, 11, 1, tzinfo=UTC)


@pytest.fixture
async def group_ids(app: Any, make_room: Any, make_user: Any) -> dict[str, int]:
    """Two rooms (09:00–18:00 open all December but the 25th; 12:00–14:00 open 1–3
    December), three people: `both` in Sales and 開発, `sales` in Sales only, `nobody` in
    no group; and an empty group."""
    db: Database = app.state.db
    both, sales, nobody = await make_user(), await make_user(), await make_user()
    big = await make_room("Big", days=0)
    small = await make_room("Small", days=0)
    await set_hours(db, big, 540, 1080)
    await open_days(db, big, date(2029, 11, 30), LAST, closed={date(2029, 12, 25)})
    await open_days(db, small, FIRST, date(2029, 12, 3), closed=set())
    await book(db, big, date(2029, 11, 30), 540, 600, both)  # before the period
    await book(db, big, date(2029, 12, 3), 540, 630, both)
    await book(db, big, date(2029, 12, 3), 630, 660, both, status=CANCELLED)
    await book(db, big, date(2029, 12, 4), 600, 720, sales)
    await book(db, big, date(2029, 12, 5), 600, 720, nobody)
    await book(db, small, date(2029, 12, 2), 660, 780, sales)  # 11:00–13:00, hours 12–14
    await book(db, small, date(2029, 12, 2), 600, 660, sales, status=CANCELLED)
    await set_hours(db, small, 720, 840)
    ids = {}
    for name, members in (("Sales", [both, sales]), ("開発", [both]), ("Empty", [])):
        group = await groups.create_group(db, name=name, description="", now=NOW)
        await groups.set_members(db, group_id=group.group_id, user_ids=members)
        ids[name] = group.group_id
    return ids


async def _independent(db: Database) -> tuple[int, dict[int, tuple[int, int, int]]]:
    """All rooms' bookable minutes, and per group (booked, reservations, cancelled) worked
    out here from the rows of each member's reservations."""
    params = {"first": FIRST, "last": LAST}
    async with db.snapshot() as session:
        bookable = (
            await session.execute(
                text(
                    "SELECT SUM((SELECT COUNT(*) FROM reservable_room d"
                    "  WHERE d.room_id = m.room_id AND d.is_open"
                    "  AND d.reserved_date BETWEEN :first AND :last)"
                    " * (m.close_minute - m.open_minute)) FROM meeting_room m WHERE m.active"
                ),
                params,
            )
        ).scalar_one()
        rows = (
            await session.execute(
                text(
                    "SELECT g.group_id, r.status, r.start_minute, r.end_minute,"
                    " m.open_minute, m.close_minute, d.is_open"
                    " FROM user_group g"
                    " LEFT JOIN user_group_member u ON u.group_id = g.group_id"
                    " LEFT JOIN reservation r ON r.user_id = u.user_id"
                    "  AND r.reserved_date BETWEEN :first AND :last"
                    " LEFT JOIN reservable_room d ON d.room_id = r.room_id"
                    "  AND d.reserved_date = r.reserved_date"
                    " LEFT JOIN meeting_room m ON m.room_id = r.room_id"
                ),
                params,
            )
        ).all()
    booked: Counter[int] = Counter()
    count: Counter[int] = Counter()
    cancelled: Counter[int] = Counter()
    for row in rows:
        booked[row.group_id] += 0
        if row.status is None:
            continue
        count[row.group_id] += 1
        cancelled[row.group_id] += row.status == "CANCELLED"
        if row.status == "ACTIVE" and row.is_open:
            inside = min(row.end_minute, row.close_minute) - max(row.start_minute, row.open_minute)
            booked[row.group_id] += max(0, inside)
    return int(bookable), {g: (booked[g], count[g], cancelled[g]) for g in booked}


async def test_groups_match_sql_written_independently(
    app: Any,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    group_ids: dict[str, int],
) -> None:
    response = await client.get("/api/admin/reports/groups", params=PERIOD, headers=admin_headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [row["group_name"] for row in body["groups"]] == ["Empty", "Sales", "開発"]
    got = {row["group_id"]: row for row in body["groups"]}
    bookable, expected = await _independent(app.state.db)
    assert set(got) == set(expected) == set(group_ids.values())
    for group_id, (booked, count, cancelled) in expected.items():
        row = got[group_id]
        assert row["bookable_minutes"] == bookable
        assert (row["booked_minutes"], row["reservations"], row["cancelled"]) == (
            booked,
            count,
            cancelled,
        )
    # By hand: 30 days × 9 h + 3 days × 2 h; Sales: 90 + 120 + the hour inside 12–14.
    assert bookable == 30 * 540 + 3 * 120
    sales, dev, empty = (got[group_ids[name]] for name in ("Sales", "開発", "Empty"))
    assert (sales["booked_minutes"], sales["reservations"], sales["cancelled"]) == (270, 5, 2)
    assert sales["utilisation"] == round(270 / bookable, 4)
    assert sales["members"] == 2
    assert (dev["booked_minutes"], dev["reservations"], dev["cancelled"]) == (90, 2, 1)
    assert dev["cancelled_share"] == 0.5
    assert empty["members"] == 0
    assert (empty["booked_minutes"], empty["utilisation"], empty["reservations"]) == (0, 0.0, 0)


async def test_groups_csv_and_an_empty_period(
    client: httpx.AsyncClient, admin_headers: dict[str, str], group_ids: dict[str, int]
) -> None:
    response = await client.get(
        "/api/admin/reports/groups", params={**PERIOD, "format": "csv"}, headers=admin_headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="groups-2029-12-01-2029-12-31.csv"' in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    by_name = {row["group_name"]: row for row in rows}
    assert set(by_name) == {"Sales", "開発", "Empty"}
    assert (by_name["Sales"]["booked_minutes"], by_name["開発"]["reservations"]) == ("270", "2")
    empty = await client.get(
        "/api/admin/reports/groups",
        params={"from": "2031-01-01", "to": "2031-01-31"},
        headers=admin_headers,
    )
    assert empty.status_code == 200, empty.text
    assert {row["bookable_minutes"] for row in empty.json()["groups"]} == {0}
    assert {row["utilisation"] for row in empty.json()["groups"]} == {0.0}
    backwards = await client.get(
        "/api/admin/reports/groups",
        params={"from": "2030-01-02", "to": "2030-01-01"},
        headers=admin_headers,
    )
    assert backwards.status_code == 422


async def test_the_page_shows_groups_in_english_and_japanese(
    app: Any, make_user: Any, group_ids: dict[str, int]
) -> None:
    admin = await make_user(role=Role.ADMIN)
    async with browser_like_client(app) as http:
        signed_in = await http.post("/login", data={"user_id": admin, "password": DEFAULT_PASSWORD})
        assert signed_in.status_code == 303, signed_in.text
        english = await http.get("/admin/reports", params=PERIOD)
        japanese = await http.get(
            "/admin/reports", params=PERIOD, headers={"accept-language": "ja"}
        )
    assert english.status_code == 200, english.text
    html = english.text
    assert "Utilisation per group" in html
    assert 'id="group-utilisation"' in html
    assert 'aria-labelledby="groups-chart-title groups-chart-desc"' in html
    assert f"Sales: {270 / (30 * 540 + 3 * 120) * 100:.1f}%" in html
    assert "/api/admin/reports/groups?from=2029-12-01&amp;to=2029-12-31&amp;format=csv" in html
    assert japanese.status_code == 200
    assert "グループ別の利用率" in japanese.text
