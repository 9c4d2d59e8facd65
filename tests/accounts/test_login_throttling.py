"""Login protection: throttling per account and per address, its reset, no enumeration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from mrs.app import create_app
from mrs.clock import FixedClock
from tests.conftest import DEFAULT_PASSWORD, UserFactory

WRONG = "definitely-not-it-1"


async def _login(
    client: httpx.AsyncClient, user_id: str, password: str = DEFAULT_PASSWORD
) -> httpx.Response:
    return await client.post("/api/auth/login", json={"user_id": user_id, "password": password})


async def _fail(client: httpx.AsyncClient, user_id: str, times: int) -> None:
    for _ in range(times):
        assert (await _login(client, user_id, WRONG)).status_code == 401


@pytest.fixture
async def other_client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client calling from another address."""
    transport = httpx.ASGITransport(app=app, client=("192.0.2.77", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_five_failures_lock_the_account_with_retry_after(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await make_user("target")
    await _fail(client, "target", 5)
    locked = await _login(client, "target")  # even the right password
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "login_throttled"
    retry_after = int(locked.headers["Retry-After"])
    assert 0 < retry_after <= 15 * 60
    assert str(retry_after) in locked.json()["error"]["message"]
    assert "access_token" not in locked.text


async def test_the_lock_lifts_when_the_window_has_passed(
    client: httpx.AsyncClient, make_user: UserFactory, auth_clock: FixedClock
) -> None:
    await make_user("patient")
    await _fail(client, "patient", 5)
    locked = await _login(client, "patient")
    assert locked.status_code == 429
    auth_clock.now += timedelta(seconds=int(locked.headers["Retry-After"]) - 2)
    assert (await _login(client, "patient")).status_code == 429
    auth_clock.now += timedelta(seconds=3)
    assert (await _login(client, "patient")).status_code == 200


async def test_a_successful_login_resets_the_account_counter(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await make_user("clumsy")
    await _fail(client, "clumsy", 4)
    assert (await _login(client, "clumsy")).status_code == 200
    await _fail(client, "clumsy", 4)  # would be 429 without the reset
    assert (await _login(client, "clumsy")).status_code == 200


async def test_the_lock_is_per_account(client: httpx.AsyncClient, make_user: UserFactory) -> None:
    await make_user("victim")
    await make_user("bystander")
    await _fail(client, "victim", 5)
    assert (await _login(client, "victim")).status_code == 429
    assert (await _login(client, "bystander")).status_code == 200


async def test_many_failures_from_one_address_lock_that_address_only(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    make_user: UserFactory,
    app: Any,
) -> None:
    await make_user("fresh")
    limit = app.state.settings.login_max_failures_per_address
    for index in range(limit):  # spraying: one failure each on many accounts
        assert (await _login(client, f"spray{index}", WRONG)).status_code == 401
    blocked = await _login(client, "fresh")
    assert blocked.status_code == 429
    assert (await _login(other_client, "fresh")).status_code == 200


async def test_unknown_and_known_accounts_are_throttled_alike(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await make_user("realone")
    await _fail(client, "realone", 5)
    await _fail(client, "ghostuser", 5)
    real, ghost = await _login(client, "realone", WRONG), await _login(client, "ghostuser", WRONG)
    assert real.status_code == ghost.status_code == 429
    assert real.json()["error"]["code"] == ghost.json()["error"]["code"]


async def test_wrong_password_of_an_inactive_account_reveals_nothing(
    client: httpx.AsyncClient, make_user: UserFactory, admin_headers: dict[str, str]
) -> None:
    uid = await make_user("gone")
    await client.post(f"/api/admin/users/{uid}/disable", headers=admin_headers)
    wrong = await _login(client, "gone", WRONG)
    unknown = await _login(client, "neverexisted", WRONG)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


async def test_every_process_sees_the_same_counters(
    client: httpx.AsyncClient, make_user: UserFactory, settings: Any, auth_clock: FixedClock
) -> None:
    """A second app on the same database (another process) honours the same lock."""
    await make_user("shared")
    await _fail(client, "shared", 5)
    second = create_app(settings)
    second.state.auth_clock = auth_clock
    try:
        transport = httpx.ASGITransport(app=second)
        async with httpx.AsyncClient(transport=transport, base_url="http://other") as http:
            assert (await _login(http, "shared")).status_code == 429
    finally:
        await second.state.db.dispose()


async def test_login_outcomes_are_counted(
    client: httpx.AsyncClient, make_user: UserFactory, admin_headers: dict[str, str]
) -> None:
    def sample(outcome: str) -> float:
        return REGISTRY.get_sample_value("mrs_logins_total", {"outcome": outcome}) or 0.0

    before = {outcome: sample(outcome) for outcome in ("succeeded", "failed", "throttled")}
    await make_user("counted")
    await _fail(client, "counted", 5)
    assert (await _login(client, "counted")).status_code == 429
    assert sample("failed") - before["failed"] == 5
    assert sample("throttled") - before["throttled"] == 1
    stats = (await client.get("/api/admin/account-stats", headers=admin_headers)).json()
    assert stats["logins_failed"] == 5
    assert stats["logins_throttled"] == 1
    assert stats["logins_succeeded"] == 1  # the admin's own login
