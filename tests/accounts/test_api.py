"""Logging in and out, and who am I."""

from __future__ import annotations

import httpx

from mrs.accounts.models import Role, UserStatus
from tests.conftest import DEFAULT_PASSWORD, LoginFactory, UserFactory


async def test_login_returns_a_bearer_token_and_an_httponly_cookie(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    user_id = await make_user("carol")
    response = await client.post(
        "/api/auth/login", json={"user_id": "carol", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] > 0
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    me = await client.get("/api/me")  # the cookie alone authenticates
    assert me.status_code == 200
    assert me.json()["user_id"] == user_id


async def test_wrong_password_and_unknown_user_get_the_same_answer(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await make_user("dave")
    wrong = await client.post(
        "/api/auth/login", json={"user_id": "dave", "password": "not-the-password"}
    )
    unknown = await client.post(
        "/api/auth/login", json={"user_id": "nobody", "password": "not-the-password"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "invalid_credentials"


async def test_user_ids_are_case_insensitive_at_login(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await make_user("erin")
    response = await client.post(
        "/api/auth/login", json={"user_id": "ERIN", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200


async def test_inactive_users_cannot_log_in(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await make_user("pending1", status=UserStatus.PENDING)
    response = await client.post(
        "/api/auth/login", json={"user_id": "pending1", "password": DEFAULT_PASSWORD}
    )
    # Told why (only after the right password), and no token is issued.
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "account_pending"
    assert "set-cookie" not in response.headers


async def test_logout_revokes_the_token_at_once(
    client: httpx.AsyncClient, make_user: UserFactory, login: LoginFactory
) -> None:
    headers = await login(await make_user())
    assert (await client.get("/api/me", headers=headers)).status_code == 200
    assert (await client.post("/api/auth/logout", headers=headers)).status_code == 204
    after = await client.get("/api/me", headers=headers)
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "invalid_token"


async def test_requests_without_a_token_are_unauthenticated(client: httpx.AsyncClient) -> None:
    for method, path in [
        ("GET", "/api/me"),
        ("GET", "/api/rooms"),
        ("GET", "/api/reservations/mine"),
    ]:
        response = await client.request(method, path)
        assert response.status_code == 401, path
        assert response.json()["error"]["code"] == "unauthenticated"


async def test_a_garbage_token_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/me", headers={"Authorization": "Bearer not.a.jwt"})
    assert response.status_code == 401


async def test_admins_list_users_and_users_may_not(
    client: httpx.AsyncClient, make_user: UserFactory, login: LoginFactory
) -> None:
    admin = await login(await make_user(role=Role.ADMIN))
    user = await login(await make_user())
    listed = await client.get("/api/admin/users", headers=admin)
    assert listed.status_code == 200
    assert len(listed.json()) == 2
    assert "password_hash" not in listed.json()[0]
    assert (await client.get("/api/admin/users", headers=user)).status_code == 403


async def test_login_body_is_validated(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/auth/login", json={"user_id": "x"})
    assert response.status_code == 422
    assert response.json()["error"]["details"] == [
        {"field": "password", "message": "This field is required."}
    ]
