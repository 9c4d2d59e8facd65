"""Sessions: every kind of revocation, the timeouts, and users' own session list."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mrs.accounts.errors import InvalidToken
from mrs.accounts.models import Role, UserSession
from mrs.accounts.tokens import decode_token, issue_token
from mrs.clock import FixedClock, system_clock
from tests.conftest import DEFAULT_PASSWORD, LoginFactory, UserFactory

NEW_PASSWORD = "a-brand-new-passphrase-9"


async def _ok(client: httpx.AsyncClient, headers: dict[str, str]) -> bool:
    response = await client.get("/api/me", headers=headers)
    assert response.status_code in (200, 401), response.text
    return response.status_code == 200


async def test_the_token_carries_a_session_backed_by_a_row(
    make_user: UserFactory, login: LoginFactory, app: Any
) -> None:
    headers = await login(await make_user("tomo"))
    claims = decode_token(
        headers["Authorization"].removeprefix("Bearer "),
        secret=app.state.settings.effective_secret_key,
    )
    async with app.state.db.snapshot() as session:
        row = await session.get(UserSession, claims.session_id)
    assert row is not None
    assert row.user_id == "tomo"
    assert row.revoked_at is None


async def test_a_token_without_a_session_is_refused(
    client: httpx.AsyncClient, make_user: UserFactory, app: Any
) -> None:
    await make_user("nosid")
    forged = issue_token(
        user_id="nosid",
        secret=app.state.settings.effective_secret_key,
        now=system_clock(),
        lifetime=timedelta(hours=1),
    )
    assert not await _ok(client, {"Authorization": f"Bearer {forged.token}"})
    unknown = issue_token(
        user_id="nosid",
        secret=app.state.settings.effective_secret_key,
        now=system_clock(),
        lifetime=timedelta(hours=1),
        session_id="made-up-session",
    )
    assert not await _ok(client, {"Authorization": f"Bearer {unknown.token}"})


async def test_logout_ends_only_the_current_session(
    client: httpx.AsyncClient, make_user: UserFactory, login: LoginFactory
) -> None:
    uid = await make_user()
    laptop, phone = await login(uid), await login(uid)
    assert (await client.post("/api/auth/logout", headers=laptop)).status_code == 204
    assert not await _ok(client, laptop)
    assert await _ok(client, phone)


async def test_a_password_change_ends_every_session_but_renews_the_callers(
    client: httpx.AsyncClient, make_user: UserFactory, login: LoginFactory
) -> None:
    uid = await make_user()
    laptop, phone = await login(uid), await login(uid)
    changed = await client.post(
        "/api/me/password",
        json={"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
        headers=laptop,
    )
    assert changed.status_code == 200, changed.text
    renewed = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert not await _ok(client, laptop)
    assert not await _ok(client, phone)
    assert await _ok(client, renewed)
    old = await client.post("/api/auth/login", json={"user_id": uid, "password": DEFAULT_PASSWORD})
    assert old.status_code == 401
    new = await client.post("/api/auth/login", json={"user_id": uid, "password": NEW_PASSWORD})
    assert new.status_code == 200


async def test_a_password_change_needs_the_current_password_and_obeys_the_policy(
    client: httpx.AsyncClient, make_user: UserFactory, login: LoginFactory
) -> None:
    uid = await make_user("policy1")
    headers = await login(uid)
    wrong = await client.post(
        "/api/me/password",
        json={"current_password": "not-my-password", "new_password": NEW_PASSWORD},
        headers=headers,
    )
    assert wrong.status_code == 422
    assert wrong.json()["error"]["code"] == "wrong_current_password"
    for weak, message in [
        ("short", "The password must be at least 12 characters long."),
        ("policy1-is-my-name", "The password must not contain your user ID."),
        ("qwertyuiop123", "This password is too common. Choose another one."),
    ]:
        response = await client.post(
            "/api/me/password",
            json={"current_password": DEFAULT_PASSWORD, "new_password": weak},
            headers=headers,
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "weak_password"
        assert response.json()["error"]["message"] == message
    assert await _ok(client, headers)  # nothing changed


async def test_disabling_a_user_ends_their_sessions_and_refuses_login(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    login: LoginFactory,
    admin_headers: dict[str, str],
) -> None:
    uid = await make_user("leaver")
    headers = await login(uid)
    disabled = await client.post(f"/api/admin/users/{uid}/disable", headers=admin_headers)
    assert disabled.status_code == 200
    assert disabled.json()["status"] == "DISABLED"
    assert not await _ok(client, headers)
    refused = await client.post(
        "/api/auth/login", json={"user_id": uid, "password": DEFAULT_PASSWORD}
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "account_disabled"
    again = await client.post(f"/api/admin/users/{uid}/disable", headers=admin_headers)
    assert again.status_code == 409
    enabled = await client.post(f"/api/admin/users/{uid}/enable", headers=admin_headers)
    assert enabled.json()["status"] == "ACTIVE"
    assert not await _ok(client, headers)  # the old session stays ended
    assert await _ok(client, await login(uid))


async def test_admins_cannot_disable_themselves(
    client: httpx.AsyncClient, make_user: UserFactory, login: LoginFactory
) -> None:
    admin = await make_user("selfish", role=Role.ADMIN)
    headers = await login(admin)
    response = await client.post(f"/api/admin/users/{admin}/disable", headers=headers)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "own_account"


async def test_an_admin_can_end_all_of_a_users_sessions(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    login: LoginFactory,
    admin_headers: dict[str, str],
) -> None:
    uid = await make_user()
    first, second = await login(uid), await login(uid)
    ended = await client.post(f"/api/admin/users/{uid}/end-sessions", headers=admin_headers)
    assert ended.json() == {"ended": 2}
    assert not await _ok(client, first)
    assert not await _ok(client, second)
    assert await _ok(client, await login(uid))  # they may log in again
    missing = await client.post("/api/admin/users/ghost/end-sessions", headers=admin_headers)
    assert missing.status_code == 404


async def test_an_idle_session_times_out(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    login: LoginFactory,
    auth_clock: FixedClock,
    app: Any,
) -> None:
    headers = await login(await make_user())
    idle = timedelta(minutes=app.state.settings.session_idle_minutes)
    auth_clock.now += idle - timedelta(minutes=1)
    assert await _ok(client, headers)  # activity moves last_seen_at on
    auth_clock.now += idle - timedelta(minutes=1)
    assert await _ok(client, headers)
    auth_clock.now += idle + timedelta(seconds=1)
    assert not await _ok(client, headers)


async def test_a_session_ends_at_its_absolute_timeout_despite_activity(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    login: LoginFactory,
    auth_clock: FixedClock,
    app: Any,
) -> None:
    settings = app.state.settings
    headers = await login(await make_user())
    absolute = timedelta(minutes=settings.session_absolute_minutes)
    step = timedelta(minutes=settings.session_idle_minutes - 1)
    elapsed = timedelta(0)
    for _ in range(100):
        if elapsed + step >= absolute:
            break
        auth_clock.now += step
        elapsed += step
        assert await _ok(client, headers)
    auth_clock.now += absolute - elapsed
    assert not await _ok(client, headers)


async def test_last_seen_is_written_at_most_once_a_minute(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    login: LoginFactory,
    auth_clock: FixedClock,
    app: Any,
) -> None:
    headers = await login(await make_user("seen"))
    start = auth_clock.now

    async def last_seen() -> Any:
        async with app.state.db.snapshot() as session:
            return await session.scalar(
                select(UserSession.last_seen_at).where(UserSession.user_id == "seen")
            )

    auth_clock.now = start + timedelta(seconds=30)
    assert await _ok(client, headers)
    assert await last_seen() == start
    auth_clock.now = start + timedelta(seconds=61)
    assert await _ok(client, headers)
    assert await last_seen() == auth_clock.now


async def test_users_list_and_end_their_own_sessions(
    client: httpx.AsyncClient, make_user: UserFactory, login: LoginFactory
) -> None:
    uid = await make_user()
    other_user = await login(await make_user())
    first, second, third = await login(uid), await login(uid), await login(uid)
    listed = await client.get("/api/me/sessions", headers=first)
    assert listed.status_code == 200
    sessions = listed.json()
    assert len(sessions) == 3
    assert sum(s["current"] for s in sessions) == 1
    second_view = (await client.get("/api/me/sessions", headers=second)).json()
    second_id = next(s["session_id"] for s in second_view if s["current"])
    # Someone else cannot end it; its owner can.
    assert (
        await client.delete(f"/api/me/sessions/{second_id}", headers=other_user)
    ).status_code == 404
    assert (await client.delete(f"/api/me/sessions/{second_id}", headers=first)).status_code == 204
    assert not await _ok(client, second)
    assert await _ok(client, third)
    ended = await client.delete("/api/me/sessions", headers=first)
    assert ended.json() == {"ended": 1}
    assert not await _ok(client, third)
    assert await _ok(client, first)


async def test_service_callers_without_a_clock_or_settings_still_resolve_tokens(
    make_user: UserFactory, login: LoginFactory, app: Any
) -> None:
    """Other domains call user_for_token(db, claims=...) alone: real time, db settings."""
    from mrs.accounts import sessions

    headers = await login(await make_user("plain"))
    claims = decode_token(
        headers["Authorization"].removeprefix("Bearer "),
        secret=app.state.settings.effective_secret_key,
    )
    user = await sessions.user_for_token(app.state.db, claims=claims)
    assert (user.user_id, user.session_id) == ("plain", claims.session_id)
    await sessions.end_other_sessions(app.state.db, user_id="plain", keep="", now=system_clock())
    with pytest.raises(InvalidToken):
        await sessions.user_for_token(app.state.db, claims=claims)
