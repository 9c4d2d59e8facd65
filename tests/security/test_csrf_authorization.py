"""CSRF and the Authorization header: only a valid Bearer token exempts a request, and
such a request is authenticated by that token alone, never by the session cookie."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from tests.conftest import DEFAULT_PASSWORD, RoomFactory, UserFactory

EVIL_ORIGIN = "https://evil.example"


async def _cookie_login(client: httpx.AsyncClient, user_id: str) -> str:
    response = await client.post(
        "/api/auth/login", json={"user_id": user_id, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200, response.text
    assert client.cookies.get("mrs_session")
    return str(response.json()["access_token"])


async def _my_reservations(client: httpx.AsyncClient, token: str) -> list[object]:
    response = await client.get(
        "/api/reservations/mine", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    items = response.json()
    return list(items["items"] if isinstance(items, dict) else items)


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic dXNlcjpwYXNz",  # what a browser re-sends by itself after HTTP Basic auth
        "Bearer garbage",
        "Bearer ",
        "Negotiate abc",
    ],
)
@pytest.mark.parametrize(
    "browser_headers",
    [
        {"Origin": EVIL_ORIGIN},
        {"Content-Type": "text/plain"},  # a cross-site form's body, no Origin (old browser)
    ],
    ids=["cross-site-origin", "form-type-without-origin"],
)
async def test_a_cookie_request_with_another_authorization_still_needs_the_csrf_token(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_room: RoomFactory,
    tomorrow: date,
    authorization: str,
    browser_headers: dict[str, str],
) -> None:
    token = await _cookie_login(client, await make_user())
    room = await make_room()
    body = f'{{"date": "{tomorrow}", "start_time": "10:00", "end_time": "11:00"}}'
    response = await client.post(
        f"/api/rooms/{room}/reservations",
        content=body,
        headers={
            "Content-Type": "application/json",
            **browser_headers,
            "Authorization": authorization,
        },
    )
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "csrf_failed"
    assert await _my_reservations(client, token) == []


async def test_a_valid_bearer_is_exempt_and_alone_decides_who_is_calling(
    client: httpx.AsyncClient, make_user: UserFactory, make_room: RoomFactory, tomorrow: date
) -> None:
    bearer_user = await make_user()
    bearer = await _cookie_login(client, bearer_user)
    client.cookies.clear()
    cookie_token = await _cookie_login(client, await make_user())  # the cookie: someone else
    room = await make_room()
    body = {"date": tomorrow.isoformat(), "start_time": "10:00", "end_time": "11:00"}
    response = await client.post(
        f"/api/rooms/{room}/reservations",
        json=body,
        headers={"Authorization": f"Bearer {bearer}", "Origin": EVIL_ORIGIN},
    )
    assert response.status_code == 201, response.text
    assert response.json()["user_id"] == bearer_user
    assert await _my_reservations(client, cookie_token) == []

    # The bearer's session ends: its token is refused, and the cookie does not step in.
    logout = await client.post("/api/auth/logout", headers={"Authorization": f"Bearer {bearer}"})
    assert logout.status_code == 204
    client.cookies.clear()
    await _cookie_login(client, (await _whoami(client, cookie_token)))
    response = await client.post(
        f"/api/rooms/{room}/reservations",
        json={**body, "start_time": "12:00", "end_time": "13:00"},
        headers={"Authorization": f"Bearer {bearer}", "Origin": EVIL_ORIGIN},
    )
    assert response.status_code in (401, 403), response.text
    assert await _my_reservations(client, cookie_token) == []


async def _whoami(client: httpx.AsyncClient, token: str) -> str:
    response = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return str(response.json()["user_id"])
