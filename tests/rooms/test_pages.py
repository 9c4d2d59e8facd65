"""The administrators' room pages, driven over HTTP without a browser: creating, editing,
opening and closing rooms.

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
from tests.conftest import (
    PageLogin,
    RoomFactory,
    UserFactory,
    browser_like_client,
)

HTML = {"accept": "text/html"}
ORIGIN = "http://testserver"


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Pages are driven as a browser drives them: CSRF token and same-origin Origin."""
    async with browser_like_client(app, ORIGIN) as http:
        yield http


async def _reserve(
    client: httpx.AsyncClient, room_id: int, day: date, start: str, end: str
) -> httpx.Response:
    return await client.post(
        f"/rooms/{room_id}/reservations",
        data={"date": day.isoformat(), "start_time": start, "end_time": end, "csrf_token": ""},
    )


def _text(html: str) -> str:
    """The visible text of a page, whitespace collapsed (enough for assertions)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- admin: rooms ---


async def test_admin_pages_are_refused_to_users_in_their_language(
    client: httpx.AsyncClient, make_user: UserFactory, page_login: PageLogin
) -> None:
    await page_login(await make_user())
    response = await client.get("/admin/rooms", headers={"accept-language": "ja"})
    assert response.status_code == 403
    assert "このページを開く権限がありません" in response.text
    assert "このページは管理者専用です。" in response.text
    assert 'href="/admin/rooms"' not in response.text  # no admin link in the navigation


async def test_an_admin_creates_edits_and_opens_a_room(
    client: httpx.AsyncClient, make_user: UserFactory, page_login: PageLogin
) -> None:
    await page_login(await make_user(role=Role.ADMIN))
    created = await client.post(
        "/admin/rooms",
        # Opened by hand only: every day of the week, no automatic opening.
        data={
            "room_name": "Kaede",
            "capacity": "8",
            "location": "4F",
            "open_weekdays": ["1", "2", "3", "4", "5", "6", "7"],
            "start_time": "08:00",
            "end_time": "20:00",
        },
    )
    assert created.status_code == 303
    room_url = created.headers["location"].split("?")[0]
    room_id = int(room_url.rsplit("/", 1)[1])

    edited = await client.post(
        room_url, data={"room_name": "Kaede", "capacity": "10", "location": "4F", "active": "on"}
    )
    assert edited.status_code == 303
    page = await client.get(room_url)
    assert 'value="10"' in page.text

    opened = await client.post(
        f"{room_url}/dates",
        data={
            "from_date": "2030-01-07",
            "to_date": "2030-01-20",
            "weekdays": ["1", "3", "5"],
            "action": "open",
        },
    )
    assert opened.status_code == 303
    assert opened.headers["location"] == f"{room_url}?done=opened&n=6"
    after = await client.get(opened.headers["location"])
    assert "The room is now open on 6 more date(s)." in after.text
    rooms_of_wednesday = await client.get("/rooms?date=2030-01-09")
    assert f'href="/rooms/{room_id}?date=2030-01-09"' in rooms_of_wednesday.text
    rooms_of_tuesday = await client.get("/rooms?date=2030-01-08")
    assert f'href="/rooms/{room_id}?date=2030-01-08"' not in rooms_of_tuesday.text


async def test_room_forms_keep_what_was_typed_when_rejected(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_room: RoomFactory,
    page_login: PageLogin,
) -> None:
    await make_room("Taken name")
    await page_login(await make_user(role=Role.ADMIN))
    duplicate = await client.post(
        "/admin/rooms", data={"room_name": "Taken name", "capacity": "4", "location": "B1"}
    )
    assert duplicate.status_code == 409
    assert "A room named Taken name already exists." in duplicate.text
    assert 'value="B1"' in duplicate.text
    bad_number = await client.post(
        "/admin/rooms", data={"room_name": "New one", "capacity": "many", "location": ""}
    )
    assert bad_number.status_code == 422
    assert 'id="capacity-error"' in bad_number.text
    assert 'value="many"' in bad_number.text


async def test_closing_dates_with_reservations_lists_them(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_room: RoomFactory,
    page_login: PageLogin,
    tomorrow: date,
) -> None:
    room_id = await make_room()
    await page_login(await make_user("booker1"))
    await _reserve(client, room_id, tomorrow, "10:00", "11:00")
    client.cookies.clear()
    await page_login(await make_user(role=Role.ADMIN))
    response = await client.post(
        f"/admin/rooms/{room_id}/dates",
        data={
            "from_date": "2030-01-07",
            "to_date": "2030-01-10",
            "weekdays": [str(d) for d in range(1, 8)],
            "action": "close",
        },
    )
    assert response.status_code == 409
    assert "1 active reservation(s)" in response.text
    assert "Tue 8 Jan 2030 10:00–11:00 (booker1)" in _text(response.text)
    assert 'value="2030-01-10"' in response.text  # the typed range is kept
    no_weekday = await client.post(
        f"/admin/rooms/{room_id}/dates",
        data={"from_date": "2030-01-07", "to_date": "2030-01-10", "action": "close"},
    )
    assert no_weekday.status_code == 422
    assert "Choose at least one weekday." in no_weekday.text
