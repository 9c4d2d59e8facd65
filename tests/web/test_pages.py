"""The site's pages, driven over HTTP without a browser: getting in, the language, errors,
static files and garbage forms (the browser stories are in tests/e2e).

The app's clock is pinned to Monday 2030-01-07 09:00 in Tokyo (tests/conftest.py).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mrs.accounts.models import Role
from mrs.accounts.session_cookie import SESSION_COOKIE
from mrs.http.dependencies import LOCALE_COOKIE
from tests.conftest import (
    DEFAULT_PASSWORD,
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


def _text(html: str) -> str:
    """The visible text of a page, whitespace collapsed (enough for assertions)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- getting in ---


async def test_pages_send_anonymous_visitors_to_login_and_back(client: httpx.AsyncClient) -> None:
    response = await client.get("/rooms?date=2030-01-08")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Frooms%3Fdate%3D2030-01-08"
    login = await client.get(response.headers["location"])
    assert login.status_code == 200
    assert 'value="/rooms?date=2030-01-08"' in login.text
    assert '<label for="user_id">' in login.text
    assert '<label for="password">' in login.text


async def test_logging_in_sets_the_session_cookie_and_goes_where_asked(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await make_user("hana")
    response = await client.post(
        "/login",
        data={"user_id": "hana", "password": DEFAULT_PASSWORD, "next": "/reservations"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/reservations"
    assert "httponly" in response.headers["set-cookie"].lower()
    assert (await client.get("/reservations")).status_code == 200


async def test_a_wrong_password_keeps_the_user_id_but_never_the_password(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await make_user("ken")
    response = await client.post(
        "/login", data={"user_id": "ken", "password": "wrong-password-123"}
    )
    assert response.status_code == 401
    assert "The user ID or password is incorrect." in response.text
    assert 'value="ken"' in response.text
    assert "wrong-password-123" not in response.text
    assert SESSION_COOKIE not in client.cookies


async def test_next_never_leads_off_site(client: httpx.AsyncClient, make_user: UserFactory) -> None:
    await make_user("ivy")
    for evil in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        client.cookies.clear()
        response = await client.post(
            "/login", data={"user_id": "ivy", "password": DEFAULT_PASSWORD, "next": evil}
        )
        assert response.headers["location"] == "/rooms"
    language = await client.post("/language", data={"lang": "ja", "next": "//evil.example/"})
    assert language.headers["location"] == "/"


async def test_logging_out_ends_the_session(
    client: httpx.AsyncClient, make_user: UserFactory, page_login: PageLogin
) -> None:
    await page_login(await make_user())
    token = client.cookies[SESSION_COOKIE]
    response = await client.post("/logout", data={"csrf_token": ""})
    assert response.status_code == 303
    assert response.headers["location"] == "/login?done=logged_out"
    # Even a copy of the old cookie no longer opens a page.
    client.cookies.set(SESSION_COOKIE, token)
    again = await client.get("/rooms")
    assert again.status_code == 303
    assert again.headers["location"].startswith("/login")


# --- language ---


async def test_the_language_follows_the_browser_then_the_saved_choice(
    client: httpx.AsyncClient,
) -> None:
    japanese = await client.get("/login", headers={"accept-language": "ja,en;q=0.5"})
    assert '<html lang="ja">' in japanese.text
    assert "ログイン" in japanese.text
    assert japanese.headers["content-language"] == "ja"

    switched = await client.post(
        "/language", data={"lang": "en", "next": "/login?next=%2Frooms", "csrf_token": ""}
    )
    assert switched.status_code == 303
    assert switched.headers["location"] == "/login?next=%2Frooms"
    assert client.cookies[LOCALE_COOKIE] == "en"
    english = await client.get("/login", headers={"accept-language": "ja"})
    assert '<html lang="en">' in english.text
    assert "Log in" in english.text


async def test_an_unknown_language_is_ignored(client: httpx.AsyncClient) -> None:
    response = await client.post("/language", data={"lang": "xx", "next": "/login"})
    assert response.status_code == 303
    assert LOCALE_COOKIE not in client.cookies


# --- errors ---


async def test_missing_pages_are_friendly_and_translated(
    client: httpx.AsyncClient, make_user: UserFactory, page_login: PageLogin
) -> None:
    await page_login(await make_user())
    room = await client.get("/rooms/999999", headers={"accept-language": "ja"})
    assert room.status_code == 404
    assert "ページが見つかりません" in room.text
    unknown = await client.get("/no/such/page", headers=HTML)
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("text/html")
    assert "Page not found" in unknown.text
    bad_id = await client.get("/rooms/not-a-number", headers=HTML)
    assert bad_id.status_code == 422
    assert bad_id.headers["content-type"].startswith("text/html")
    api = await client.get("/api/no/such/thing", headers=HTML)
    assert api.json()["error"]["code"] == "not_found"


@pytest.fixture
async def failing_client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async def broken() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/broken-page", broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_a_server_error_is_a_friendly_page(failing_client: httpx.AsyncClient) -> None:
    response = await failing_client.get("/broken-page", headers={**HTML, "accept-language": "ja"})
    assert response.status_code == 500
    assert "エラーが発生しました" in response.text
    assert "boom" not in response.text


async def test_static_files_are_served(client: httpx.AsyncClient) -> None:
    css = await client.get("/static/mrs.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    js = await client.get("/static/mrs.js")
    assert js.status_code == 200
    assert "javascript" in js.headers["content-type"]


GARBAGE_FORMS = [
    {},
    {"date": "x" * 5000, "start_time": "x" * 5000, "end_time": "😀"},
    {"room_name": "", "capacity": "-1", "location": "x" * 5000},
    {"room_name": "x" * 101, "capacity": "99999999999999999999", "active": "yes"},
    {"from_date": "2030-01-10", "to_date": "2030-01-01", "weekdays": ["0", "8", "x", ""]},
    {"from_date": "2030-01-01", "to_date": "2031-12-31", "weekdays": "1", "action": "open"},
    {"lang": "../../etc", "next": "javascript:alert(1)", "user_id": "x" * 5000},
]


@pytest.mark.parametrize("form", GARBAGE_FORMS)
async def test_no_form_input_makes_a_server_error(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_room: RoomFactory,
    page_login: PageLogin,
    form: dict[str, Any],
) -> None:
    room_id = await make_room()
    await page_login(await make_user(role=Role.ADMIN))
    for path in [
        "/language",
        f"/rooms/{room_id}/reservations",
        "/reservations/1/cancel",
        "/reservations/99999999999999999999/cancel",
        "/admin/rooms",
        f"/admin/rooms/{room_id}",
        f"/admin/rooms/{room_id}/dates",
        "/admin/rooms/2147483648/dates",
    ]:
        response = await client.post(path, data=form, headers=HTML)
        assert response.status_code < 500, (path, response.text[:500])
    login = await client.post("/login", data=form, headers=HTML)
    assert login.status_code < 500


async def test_a_stale_form_gets_a_page_saying_to_reload_not_json(
    client: httpx.AsyncClient, make_user: UserFactory, page_login: PageLogin
) -> None:
    await page_login(await make_user())
    # The form's token no longer matches (an old tab, the session changed meanwhile).
    response = await client.post(
        "/logout",
        data={"csrf_token": "stale"},
        headers={"X-CSRF-Token": "stale", "Origin": ORIGIN, "Accept": "text/html"},
    )
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "Reload the page and try again." in _text(response.text)
    # Still logged in: nothing happened.
    assert (await client.get("/reservations")).status_code == 200
