"""Cookies and CSRF: a cookie session needs a token bound to it and a same-origin request."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from fastapi import Request

from tests.conftest import UserFactory
from tests.security.conftest import PASSWORD, LiveServer

pytestmark = pytest.mark.slow

EVIL = "https://evil.example"


def _set_cookies(response: httpx.Response) -> dict[str, Any]:
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):
        jar.load(header)
    return {name: morsel for name, morsel in jar.items()}


class Browser:
    """A same-origin browser session against the live server, cookies handled by hand."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.http = server.client()
        self.cookies: dict[str, str] = {}
        self.origin = server.https_url

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = self.http.request(method, path, headers=headers, **kwargs)
        for name, morsel in _set_cookies(response).items():
            if morsel.value and morsel["max-age"] != "0":
                self.cookies[name] = morsel.value
            else:
                self.cookies.pop(name, None)
        return response

    def csrf_token(self) -> str:
        response = self.request("GET", "/api/auth/csrf-token")
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        return str(response.json()["csrf_token"])

    def login(self, user_id: str) -> httpx.Response:
        token = self.csrf_token()
        return self.request(
            "POST",
            "/api/auth/login",
            json={"user_id": user_id, "password": PASSWORD},
            headers={"Origin": self.origin, "X-CSRF-Token": token},
        )

    def reserve(self, room_id: int, headers: dict[str, str], start: str) -> httpx.Response:
        body = {
            "date": self.server.tomorrow().isoformat(),
            "start_time": start,
            "end_time": "23:30",
        }
        return self.request(
            "POST", f"/api/rooms/{room_id}/reservations", json=body, headers=headers
        )

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def browser(live_server: LiveServer) -> Any:
    b = Browser(live_server)
    yield b
    b.close()


def test_over_https_the_session_cookie_is_host_prefixed_secure_httponly_and_lax(
    live_server: LiveServer, browser: Browser
) -> None:
    response = browser.login(live_server.make_user())
    assert response.status_code == 200
    cookie = _set_cookies(response)["__Host-mrs_session"]
    assert cookie["secure"]
    assert cookie["httponly"]
    assert cookie["samesite"].lower() == "lax"
    assert cookie["path"] == "/"
    assert not cookie["domain"]
    assert "mrs_session" not in _set_cookies(response)  # never the unprefixed name


def test_the_csrf_cookie_is_host_prefixed_secure_and_httponly(browser: Browser) -> None:
    response = browser.request("GET", "/api/auth/csrf-token")
    cookie = _set_cookies(response)["__Host-mrs_csrf"]
    assert cookie["secure"]
    assert cookie["httponly"]
    assert cookie["path"] == "/"
    assert len(cookie.value) >= 32


def test_same_origin_request_with_the_token_is_accepted(
    live_server: LiveServer, browser: Browser
) -> None:
    browser.login(live_server.make_user())
    token = browser.csrf_token()
    room = live_server.make_room()
    response = browser.reserve(room, {"Origin": browser.origin, "X-CSRF-Token": token}, "10:00")
    assert response.status_code == 201, response.text
    # A same-origin Referer is accepted when a browser sends no Origin.
    response = browser.reserve(
        room, {"Referer": f"{browser.origin}/rooms", "X-CSRF-Token": token}, "08:00"
    )
    assert response.status_code == 409  # passed CSRF; the slot overlaps the first one


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({"Origin": "SAME"}, "no token"),
        ({"Origin": EVIL, "X-CSRF-Token": "TOKEN"}, "cross-site origin"),
        ({"Referer": f"{EVIL}/page", "X-CSRF-Token": "TOKEN"}, "cross-site referer"),
        ({"Sec-Fetch-Site": "same-origin", "X-CSRF-Token": "TOKEN"}, "no Origin, no Referer"),
        ({"Origin": "null", "X-CSRF-Token": "TOKEN"}, "opaque origin"),
        ({"Origin": "SAME", "X-CSRF-Token": "TOKEN-altered"}, "altered token"),
        ({"Origin": "SAME", "X-CSRF-Token": "garbage"}, "garbage token"),
    ],
)
def test_cookie_requests_failing_a_check_are_refused_with_403(
    live_server: LiveServer, browser: Browser, headers: dict[str, str], why: str
) -> None:
    browser.login(live_server.make_user())
    token = browser.csrf_token()
    sent = {
        name: value.replace("SAME", browser.origin).replace("TOKEN", token)
        for name, value in headers.items()
    }
    response = browser.reserve(live_server.make_room(), sent, "10:00")
    assert response.status_code == 403, why
    assert response.json()["error"]["code"] == "csrf_failed"
    assert response.json()["error"]["message"]


def test_a_token_bound_to_another_session_is_refused(live_server: LiveServer) -> None:
    alice, mallory = Browser(live_server), Browser(live_server)
    try:
        alice.login(live_server.make_user())
        mallory.login(live_server.make_user())
        stolen = mallory.csrf_token()
        response = alice.reserve(
            live_server.make_room(), {"Origin": alice.origin, "X-CSRF-Token": stolen}, "10:00"
        )
        assert response.status_code == 403
    finally:
        alice.close()
        mallory.close()


def test_cross_site_form_post_is_refused(live_server: LiveServer) -> None:
    user_id = live_server.make_user()
    with live_server.client() as http:
        # A login form on another site, posted by a victim's browser (login CSRF).
        login = http.post(
            "/api/auth/login",
            data={"user_id": user_id, "password": PASSWORD},
            headers={"Origin": EVIL},
        )
        # The same from an old browser that sends no Origin at all.
        no_origin = http.post("/api/auth/login", data={"user_id": user_id, "password": PASSWORD})
    assert login.status_code == no_origin.status_code == 403
    assert "set-cookie" not in login.headers


def test_login_from_a_browser_needs_the_pre_session_token(
    live_server: LiveServer, browser: Browser
) -> None:
    user_id = live_server.make_user()
    browser.csrf_token()  # the browser has its CSRF cookie, but sends no token
    refused = browser.request(
        "POST",
        "/api/auth/login",
        json={"user_id": user_id, "password": PASSWORD},
        headers={"Origin": browser.origin},
    )
    assert refused.status_code == 403
    assert browser.login(user_id).status_code == 200


def test_bearer_calls_are_exempt(live_server: LiveServer) -> None:
    headers = live_server.bearer(live_server.make_user())
    room = live_server.make_room()
    body = {"date": live_server.tomorrow().isoformat(), "start_time": "10:00", "end_time": "11:00"}
    with live_server.client() as http:
        response = http.post(
            f"/api/rooms/{room}/reservations", json=body, headers={**headers, "Origin": EVIL}
        )
    assert response.status_code == 201


def test_logout_by_cookie_needs_the_token_and_clears_the_secure_cookie(
    live_server: LiveServer, browser: Browser
) -> None:
    browser.login(live_server.make_user())
    assert (
        browser.request("POST", "/api/auth/logout", headers={"Origin": browser.origin}).status_code
        == 403
    )
    token = browser.csrf_token()
    response = browser.request(
        "POST", "/api/auth/logout", headers={"Origin": browser.origin, "X-CSRF-Token": token}
    )
    assert response.status_code == 204
    cleared = _set_cookies(response)["__Host-mrs_session"]
    assert cleared["secure"]  # a browser ignores a __Host- cookie update without Secure
    assert browser.request("GET", "/api/me").status_code == 401


async def test_the_form_field_token_is_read_and_the_body_still_reaches_the_handler(
    app: Any, client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    """Form posts carry the token in `csrf_token`; the handler still reads the whole form."""

    async def echo(request: Request) -> dict[str, str]:
        return dict(parse_qsl((await request.body()).decode()))

    app.add_api_route("/api/test-echo-form", echo, methods=["POST"])
    user_id = await make_user()
    login = await client.post(
        "/api/auth/login", json={"user_id": user_id, "password": "correct-horse-battery-staple"}
    )
    assert login.status_code == 200
    token = (await client.get("/api/auth/csrf-token")).json()["csrf_token"]
    origin = {"Origin": "http://testserver"}
    accepted = await client.post(
        "/api/test-echo-form", data={"csrf_token": token, "note": "hello"}, headers=origin
    )
    assert accepted.status_code == 200
    assert accepted.json() == {"csrf_token": token, "note": "hello"}
    refused = await client.post("/api/test-echo-form", data={"note": "hello"}, headers=origin)
    assert refused.status_code == 403


def test_a_script_with_a_cookie_jar_is_not_a_browser(
    live_server: LiveServer,
) -> None:
    user_id = live_server.make_user()
    with live_server.client() as http:  # httpx keeps cookies like a script's session would
        body = {"user_id": user_id, "password": PASSWORD}
        assert http.post("/api/auth/login", json=body).status_code == 200
        assert http.cookies.get("__Host-mrs_session")
        assert http.post("/api/auth/login", json=body).status_code == 200
        # The same request with a browser's cross-site Origin is refused.
        refused = http.post("/api/auth/login", json=body, headers={"Origin": EVIL})
        assert refused.status_code == 403
        # A body without a type is what a cross-site page could send: checked.
        untyped = http.post("/api/auth/logout", content=b"{}")
        assert untyped.status_code == 403
        # A plain JSON call from the script's own session is not a browser's.
        assert http.post("/api/auth/logout", json={}).status_code == 204
