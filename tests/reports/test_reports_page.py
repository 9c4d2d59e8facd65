"""The reports page: administrators only, a period form (the last 30 days by default),
charts with the numbers also in tables, CSV links; English and Japanese, both databases.

The app's clock is pinned to Monday 2030-01-07 09:00 in Tokyo (tests/conftest.py).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest

from mrs.accounts.models import Role
from tests.conftest import browser_like_client
from tests.reports.seeding import book, open_days, set_hours

pytestmark = pytest.mark.both_databases
JA = {"accept-language": "ja"}


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_like_client(app) as http:
        yield http


@pytest.fixture
async def room(app: Any, make_room: Any, make_user: Any) -> int:
    """Open 09:00–17:00 from 1 to 7 January 2030; one meeting of 4 hours on the 2nd."""
    room_id = await make_room("大会議室", days=0)
    await set_hours(app.state.db, room_id, 540, 1020)
    await open_days(app.state.db, room_id, date(2030, 1, 1), date(2030, 1, 7), closed=set())
    await book(app.state.db, room_id, date(2030, 1, 2), 600, 840, await make_user())
    return room_id


async def test_the_default_is_the_last_30_days_with_charts_tables_and_links(
    client: httpx.AsyncClient, make_user: Any, page_login: Any, room: int
) -> None:
    await page_login(await make_user(role=Role.ADMIN))
    page = await client.get("/admin/reports")
    assert page.status_code == 200, page.text
    html = page.text
    assert 'value="2029-12-09"' in html
    assert 'value="2030-01-07"' in html
    assert 'href="/admin/reports"' in html  # the navigation item
    # 7 days × 8 hours open, 4 hours booked: 7.1%, in the table and the chart's text.
    row = re.search(r"<tr><th scope=\"row\">大会議室</th>(.*?)</tr>", html)
    assert row is not None
    assert re.findall(r"<td>([^<]*)</td>", row.group(1)) == [
        "56.0", "4.0", "7.1%", "1", "0", "0.0%"
    ]  # fmt: skip
    assert '<title id="rooms-chart-title">' in html
    assert "大会議室: 7.1%" in html
    assert "10:00: 1.0; 11:00: 1.0; 12:00: 1.0; 13:00: 1.0" in html
    assert "/api/admin/reports/utilisation?from=2029-12-09&amp;to=2030-01-07&amp;format=csv" in html
    download = await client.get(
        "/api/admin/reports/utilisation?from=2029-12-09&to=2030-01-07&format=csv"
    )
    assert download.status_code == 200
    assert download.content.startswith(b"\xef\xbb\xbf")


async def test_a_chosen_room_and_period_in_japanese(
    client: httpx.AsyncClient, make_user: Any, page_login: Any, room: int
) -> None:
    await page_login(await make_user(role=Role.ADMIN))
    page = await client.get(
        "/admin/reports",
        params={"from": "2030-01-02", "to": "2030-01-02", "room_id": str(room)},
        headers=JA,
    )
    assert page.status_code == 200, page.text
    assert "<h1>レポート</h1>" in page.text
    assert "大会議室: 50.0%" in page.text
    assert f'<option value="{room}" selected>' in page.text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2030-01-07", "to": "2030-01-01"}, "must not be before its start"),
        ({"from": "2028-01-01", "to": "2029-01-01"}, "at most 366 days"),
        ({"from": "2030-02-30", "to": "2030-03-01"}, "This date does not exist."),
        ({"from": "2030-01-01", "to": "2030-01-07", "room_id": "x"}, 'id="room_id-error"'),
    ],
)
async def test_a_bad_period_is_422_with_the_message_by_its_field(
    client: httpx.AsyncClient, make_user: Any, page_login: Any, params: Any, message: str
) -> None:
    await page_login(await make_user(role=Role.ADMIN))
    page = await client.get("/admin/reports", params=params)
    assert page.status_code == 422
    assert message in page.text
    assert 'aria-invalid="true"' in page.text
    assert 'id="utilisation"' not in page.text


async def test_users_are_refused_and_do_not_see_the_link(
    client: httpx.AsyncClient, make_user: Any, page_login: Any
) -> None:
    await page_login(await make_user())
    assert (await client.get("/admin/reports")).status_code == 403
    assert 'href="/admin/reports"' not in (await client.get("/rooms")).text
