"""The calendar subscription page and the room setting that publishes a room's feed,
driven over HTTP as a browser posts its forms, in English and Japanese, on PostgreSQL
and SQLite."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mrs.accounts.models import Role
from mrs.i18n import translate
from tests.conftest import PageLogin, RoomFactory, UserFactory, browser_like_client

pytestmark = pytest.mark.both_databases

_URL = re.compile(r'value="(http://testserver/calendar/[A-Za-z0-9_-]{43}(?:/rooms/\d+)?\.ics)"')


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_like_client(app) as http:
        yield http


def _path(url: str) -> str:
    return url.removeprefix("http://testserver")


@pytest.mark.parametrize("language", ["en", "ja"])
async def test_make_a_link_see_it_once_make_a_new_one_and_turn_it_off(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_room: RoomFactory,
    page_login: PageLogin,
    admin_headers: dict[str, str],
    language: str,
) -> None:
    room = await make_room(days=1)
    async with browser_like_client(client._transport.app) as api:  # type: ignore[attr-defined]
        await api.patch(f"/api/admin/rooms/{room}", json={"has_feed": True}, headers=admin_headers)
    me = await make_user()
    await page_login(me)
    headers = {"accept-language": language}

    def t(msgid: str, **params: Any) -> str:
        return translate(language, msgid, **params)

    page = await client.get("/account/calendar", headers=headers)
    assert page.status_code == 200
    assert t("You have no subscription link.") in page.text
    assert t("Make a subscription link") in page.text
    assert t("How to subscribe") in page.text
    assert 'href="/account/calendar"' in page.text  # in the navigation

    made = await client.post("/account/calendar", headers=headers)
    assert made.status_code == 200  # shown on the answer itself, not after a redirect
    assert made.headers["cache-control"] == "no-store"
    own, room_url = _URL.findall(made.text)
    assert room_url == own.removesuffix(".ics") + f"/rooms/{room}.ics"
    assert t("Copy the link now: it is shown only this once. Anyone who has it can see your meetings, so keep it to yourself.") in made.text  # fmt: skip
    assert (await client.get(_path(own))).status_code == 200
    assert (await client.get(_path(room_url))).status_code == 200

    again = await client.get("/account/calendar", headers=headers)
    assert _URL.findall(again.text) == []  # never shown again
    assert t("Make a new link") in again.text

    renewed = await client.post("/account/calendar", headers=headers)
    (new_own, _) = _URL.findall(renewed.text)
    assert new_own != own
    assert (await client.get(_path(own))).status_code == 404
    assert (await client.get(_path(new_own))).status_code == 200

    off = await client.post("/account/calendar/revoke", headers=headers)
    assert off.status_code == 303
    assert off.headers["location"] == "/account/calendar?done=feed_revoked"
    done = await client.get(off.headers["location"], headers=headers)
    assert t("The subscription link was turned off. Calendars subscribed with it no longer update.") in done.text  # fmt: skip
    assert (await client.get(_path(new_own))).status_code == 404


async def test_the_forms_need_the_csrf_token_and_a_login(
    app: Any, client: httpx.AsyncClient, make_user: UserFactory, page_login: PageLogin
) -> None:
    anonymous = await client.get("/account/calendar")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login")
    await page_login(await make_user())
    # A cross-site form: a browser sends its Origin, but cannot know the token.
    forged = await client.post(
        "/account/calendar",
        data={"csrf_token": "forged"},
        headers={"x-csrf-token": "forged", "origin": "http://testserver"},
    )
    assert forged.status_code == 403
    page = await client.get("/account/calendar")
    assert "You have no subscription link." in page.text


async def test_an_administrator_publishes_a_room_s_feed_on_its_page(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_room: RoomFactory,
    page_login: PageLogin,
) -> None:
    room = await make_room(days=1)
    await page_login(await make_user(role=Role.ADMIN))
    page = await client.get(f"/admin/rooms/{room}")
    assert "Publish a calendar feed for this room" in page.text
    assert re.search(r'id="has_feed" name="has_feed" type="checkbox"[^>]*(?<!checked)>', page.text)
    form = {
        "room_name": "Feed room",
        "capacity": "6",
        "location": "1F",
        "description": "",
        "open_weekdays": ["1", "2", "3", "4", "5", "6", "7"],
        "start_time": "00:00",
        "end_time": "24:00",
        "active": "on",
        "has_feed": "on",
    }
    saved = await client.post(f"/admin/rooms/{room}", data=form)
    assert saved.status_code == 303, saved.text
    page = await client.get(f"/admin/rooms/{room}")
    assert re.search(r'id="has_feed" name="has_feed" type="checkbox"[^>]* checked>', page.text)
    form.pop("has_feed")
    assert (await client.post(f"/admin/rooms/{room}", data=form)).status_code == 303
    page = await client.get(f"/admin/rooms/{room}")
    assert not re.search(r'id="has_feed"[^>]* checked>', page.text)
