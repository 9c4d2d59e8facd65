"""The HTTP edge's settings: no-store on logins, trusted hosts, and API docs on or off."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest

from mrs.app import create_app
from mrs.clock import FixedClock
from mrs.security.hosts import HostPolicy
from mrs.security.redirect import RedirectToHTTPS
from mrs.settings import Settings
from tests.conftest import DEFAULT_PASSWORD, UserFactory, browser_like_client

EVIL = "evil.example"

AppClient = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def app_client(settings: Settings, clock: FixedClock) -> AppClient:
    """A client of an app built with some settings changed."""

    @asynccontextmanager
    async def open_client(
        base_url: str = "http://testserver", **changes: Any
    ) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(settings.model_copy(update=changes), clock=clock)
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=base_url) as http:
                yield http
        finally:
            await app.state.db.dispose()

    return open_client


async def test_the_api_login_answer_is_never_stored(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    user_id = await make_user()
    response = await client.post(
        "/api/auth/login", json={"user_id": user_id, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200
    assert response.json()["access_token"]
    assert response.headers["cache-control"] == "no-store"


async def test_the_login_page_redirect_that_sets_the_cookie_is_never_stored(
    app: Any, make_user: UserFactory
) -> None:
    user_id = await make_user()
    async with browser_like_client(app) as http:
        response = await http.post(
            "/login", data={"user_id": user_id, "password": DEFAULT_PASSWORD, "next": "/"}
        )
    assert response.status_code == 303
    assert "mrs_session=" in response.headers["set-cookie"]
    assert response.headers["cache-control"] == "no-store"


async def test_with_allowed_hosts_set_another_host_gets_400(app_client: AppClient) -> None:
    async with app_client(
        base_url="http://rooms.example.com", allowed_hosts="rooms.example.com, *.corp.example"
    ) as http:
        assert (await http.get("/health/liveness")).status_code == 200
        sub = await http.get("/health/liveness", headers={"Host": "mrs.corp.example:8443"})
        assert sub.status_code == 200
        refused = await http.get("/health/liveness", headers={"Host": EVIL})
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "bad_request"
        refused_post = await http.post(
            "/api/auth/login", json={"user_id": "x", "password": "y"}, headers={"Host": EVIL}
        )
        assert refused_post.status_code == 400


async def test_without_the_setting_an_unknown_host_is_served_but_never_redirected_to(
    app_client: AppClient,
) -> None:
    async with app_client() as http:
        # Starlette's trailing-slash redirect builds an absolute URL from the Host header.
        response = await http.get("/api/me/", headers={"Host": EVIL})
        assert response.status_code in (307, 308), response.text
        assert EVIL not in response.headers["location"]
        assert response.headers["location"] == "/api/me"
        # The configured host may be named in a redirect.
        local = await http.get("/api/me/", headers={"Host": "127.0.0.1:8000"})
        assert local.headers["location"] == "http://127.0.0.1:8000/api/me"


async def test_the_https_redirect_names_only_trusted_hosts(settings: Settings) -> None:
    async def location(policy: HostPolicy, host: str) -> httpx.Response:
        listener = RedirectToHTTPS(https_port=8443, fallback_host="rooms.local", policy=policy)
        transport = httpx.ASGITransport(app=listener)
        async with httpx.AsyncClient(transport=transport, base_url="http://x") as http:
            return await http.get("/rooms?date=2030-01-08", headers={"Host": host})

    implicit = HostPolicy.from_settings(settings)
    assert not implicit.enforced
    response = await location(implicit, f"{EVIL}:8080")
    assert response.headers["location"] == "https://rooms.local:8443/rooms?date=2030-01-08"
    response = await location(implicit, "localhost:8080")
    assert response.headers["location"] == "https://localhost:8443/rooms?date=2030-01-08"
    listed = HostPolicy.from_settings(settings.model_copy(update={"allowed_hosts": "rooms.local"}))
    assert (await location(listed, f"{EVIL}:8080")).status_code == 400
    assert (await location(listed, "rooms.local:8080")).status_code == 308


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, 200),  # a developer's service on the loopback interface
        ({"api_docs": False}, 404),
        ({"host": "0.0.0.0"}, 404),
        ({"host": "127.0.0.1", "forwarded_allow_ips": "10.0.0.5"}, 404),  # behind a proxy
        ({"host": "0.0.0.0", "api_docs": True}, 200),
    ],
)
async def test_the_api_docs_follow_the_setting(
    app_client: AppClient, changes: dict[str, Any], expected: int
) -> None:
    async with app_client(**changes) as http:
        assert (await http.get("/api/docs")).status_code == expected
        assert (await http.get("/api/openapi.json")).status_code == expected
        # The API itself is there either way.
        assert (await http.get("/api/me")).status_code == 401
