"""Check-in on the pages, on PostgreSQL and SQLite: the booking page's button (only in
the window, only for those who may), checking in through it, the door page (now and next,
ja and en, the login that comes back to it), and the door page's QR code for admins."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest

from mrs.accounts.models import Role
from mrs.clock import FixedClock
from mrs.reservations import release
from mrs.web.pages.checkin import door_qr_svg
from tests.conftest import PageLogin, RoomFactory, UserFactory, browser_like_client
from tests.reservations.checkin_support import book, require_checkin, set_wall

pytestmark = pytest.mark.both_databases

ORIGIN = "http://testserver"
START = 10 * 60


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_like_client(app, ORIGIN) as http:
        yield http


@pytest.fixture
async def booked(
    app: Any, make_user: UserFactory, make_room: RoomFactory, clock: FixedClock, tomorrow: date
) -> dict[str, Any]:
    owner = await make_user("hanako")
    room = await make_room("Maple")
    await require_checkin(app, room)
    first = await book(app, clock, owner, room, tomorrow, START, START + 60)
    second = await book(app, clock, owner, room, tomorrow, START + 90, START + 120)
    return {"owner": owner, "room": room, "first": first, "second": second}


def _check_in_button(html: str, reservation_id: int) -> bool:
    return f'action="/reservations/{reservation_id}/check-in"' in html


async def test_the_booking_page_offers_check_in_in_its_window_and_it_works(
    app: Any,
    client: httpx.AsyncClient,
    page_login: PageLogin,
    clock: FixedClock,
    tomorrow: date,
    booked: dict[str, Any],
) -> None:
    await page_login(booked["owner"])
    url = f"/reservations/{booked['first']}"
    set_wall(app, clock, tomorrow, START - 11)
    early = await client.get(url, headers={"Accept-Language": "ja"})
    assert not _check_in_button(early.text, booked["first"])
    assert "チェックインは 09:50 から受け付けます。" in early.text
    set_wall(app, clock, tomorrow, START - 10)
    page = await client.get(url, headers={"Accept-Language": "en"})
    assert _check_in_button(page.text, booked["first"])
    assert "Check in by 10:15" in page.text
    done = await client.post(f"{url}/check-in", data={"next": url})
    assert done.status_code == 303
    assert done.headers["location"] == f"{url}?done=checked_in"
    after = await client.get(done.headers["location"], headers={"Accept-Language": "ja"})
    assert "チェックインしました。" in after.text
    assert "09:50 にチェックイン済みです。" in after.text
    assert not _check_in_button(after.text, booked["first"])


async def test_a_refused_check_in_is_said_on_a_page_and_strangers_see_no_button(
    app: Any,
    client: httpx.AsyncClient,
    page_login: PageLogin,
    make_user: UserFactory,
    clock: FixedClock,
    tomorrow: date,
    booked: dict[str, Any],
) -> None:
    stranger = await make_user()
    await page_login(stranger)
    set_wall(app, clock, tomorrow, START)
    url = f"/reservations/{booked['first']}"
    page = await client.get(url)
    assert page.status_code == 200
    assert not _check_in_button(page.text, booked["first"])
    refused = await client.post(f"{url}/check-in", data={"next": url})
    assert refused.status_code == 403
    assert "can check in" in refused.text
    assert f'href="{url}"' in refused.text


async def test_the_door_page_shows_now_and_next_with_check_in_in_ja_and_en(
    app: Any,
    client: httpx.AsyncClient,
    page_login: PageLogin,
    clock: FixedClock,
    tomorrow: date,
    booked: dict[str, Any],
) -> None:
    door = f"/rooms/{booked['room']}/door"
    anonymous = await client.get(door)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == f"/login?next={door.replace('/', '%2F')}"
    await page_login(booked["owner"])
    set_wall(app, clock, tomorrow, START + 5)
    en = await client.get(door, headers={"Accept-Language": "en"})
    assert en.status_code == 200
    assert re.search(r"<h2[^>]*>Now</h2>", en.text)
    assert re.search(r"<h2[^>]*>Next</h2>", en.text)
    assert _check_in_button(en.text, booked["first"])
    assert not _check_in_button(en.text, booked["second"])  # opens at 11:20
    ja = await client.get(door, headers={"Accept-Language": "ja"})
    assert re.search(r"<h2[^>]*>現在</h2>", ja.text)
    assert "チェックインは 11:20 から受け付けます。" in ja.text
    done = await client.post(f"/reservations/{booked['first']}/check-in", data={"next": door})
    assert done.headers["location"] == f"{door}?done=checked_in"
    set_wall(app, clock, tomorrow, 23 * 60)
    late = await client.get(door, headers={"Accept-Language": "en"})
    assert "The room is free for the rest of the day." in late.text


async def test_admins_get_the_door_pages_qr_code_on_the_rooms_page(
    app: Any,
    client: httpx.AsyncClient,
    page_login: PageLogin,
    make_user: UserFactory,
    booked: dict[str, Any],
) -> None:
    await page_login(await make_user(role=Role.ADMIN))
    room = booked["room"]
    page = await client.get(f"/admin/rooms/{room}")
    assert f'src="/admin/rooms/{room}/door-qr.svg"' in page.text
    svg = await client.get(f"/admin/rooms/{room}/door-qr.svg")
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    site = app.state.db.settings.site_url
    assert svg.content == door_qr_svg(f"{site}/rooms/{room}/door")
    assert svg.content != door_qr_svg(f"{site}/rooms/{room + 1}/door")
    assert b"<svg" in svg.content
    missing = await client.get(f"/admin/rooms/{room + 1000}/door-qr.svg")
    assert missing.status_code == 404


async def test_the_qr_code_is_for_admins_only(
    client: httpx.AsyncClient, page_login: PageLogin, booked: dict[str, Any]
) -> None:
    await page_login(booked["owner"])
    refused = await client.get(f"/admin/rooms/{booked['room']}/door-qr.svg")
    assert refused.status_code == 403


async def test_a_released_booking_is_shown_as_released_without_change_or_cancel(
    app: Any,
    client: httpx.AsyncClient,
    page_login: PageLogin,
    clock: FixedClock,
    tomorrow: date,
    booked: dict[str, Any],
) -> None:
    set_wall(app, clock, tomorrow, START + 16)
    db = app.state.db
    assert await release.release_no_shows(db, settings=db.settings, now=clock()) == [
        booked["first"]
    ]
    await page_login(booked["owner"])
    url = f"/reservations/{booked['first']}"
    page = await client.get(url, headers={"Accept-Language": "en"})
    assert "Released: nobody checked in" in page.text
    assert f'href="{url}/edit"' not in page.text
    assert f'href="{url}/cancel' not in page.text
    mine = await client.get("/reservations", headers={"Accept-Language": "ja"})
    upcoming, _, past = mine.text.partition('id="past-heading"')
    assert f'href="{url}"' not in upcoming
    assert f'href="/reservations/{booked["second"]}"' in upcoming
    assert f'href="{url}"' in past
    assert "解放済み: チェックインがありませんでした" in past
