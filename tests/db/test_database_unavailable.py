"""When the database cannot be reached, requests get a 503 with a retry hint, never a 500;
when it stops answering, within the request deadline; when it returns, at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from mrs.accounts.tokens import issue_token
from mrs.app import create_app
from mrs.clock import system_clock
from mrs.settings import Settings
from tests.conftest import RoomFactory
from tests.faults import FaultProxy, fault_proxy
from tests.support import free_port


@pytest.fixture
async def unreachable_client(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    # Nothing listens on this port: every connection attempt is refused.
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/mrs",
        secret_key="k" * 48,
        pool_timeout_seconds=1,
        run_background_jobs=False,
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http, app
    await app.state.db.dispose()


def _token(app: Any) -> str:
    return issue_token(
        user_id="alice",
        secret=app.state.settings.effective_secret_key,
        now=system_clock(),
        lifetime=timedelta(minutes=5),
        session_id="some-session",
    ).token


async def test_an_api_call_says_try_again_later(
    unreachable_client: tuple[httpx.AsyncClient, Any], caplog: pytest.LogCaptureFixture
) -> None:
    client, app = unreachable_client
    response = await client.get(
        "/api/rooms/1/reservations?date=2030-01-08",
        headers={"Authorization": f"Bearer {_token(app)}", "Accept-Language": "ja"},
    )
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["error"]["code"] == "service_unavailable"
    assert "一時的に" in response.json()["error"]["message"]
    # The operator's log says why, in the driver's words.
    logged = [r.getMessage() for r in caplog.records if "database unavailable" in r.getMessage()]
    assert logged
    assert "TimeoutError" in logged[0]


async def test_a_registration_says_try_again_later(
    unreachable_client: tuple[httpx.AsyncClient, Any],
) -> None:
    client, _app = unreachable_client
    response = await client.post(
        "/api/users/register",
        json={
            "user_id": "newbie",
            "email": "newbie@example.com",
            "password": "a-long-enough-passphrase-7",
            "first_name": "New",
            "last_name": "Bie",
        },
    )
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"


# --- a database that stops answering: a real TCP proxy in front of PostgreSQL ---

DEADLINE_SECONDS = 2.0
HEALTH_CHECK_SECONDS = 1.0
# Scheduling slack on a busy 2-core machine; the outage itself lasts far longer.
MARGIN_SECONDS = 1.5
TOKEN = "management-token-for-fault-tests-0123456789"


@pytest.fixture
def proxy(database_url: str) -> Iterator[FaultProxy]:
    url = make_url(database_url)
    with fault_proxy(url.host or "127.0.0.1", url.port or 5432) as running:
        yield running


@pytest.fixture
def settings(tmp_path: Path, database_url: str, proxy: FaultProxy) -> Settings:
    """The shared fixtures' settings, with the database reached through the proxy."""
    proxied = make_url(database_url).set(port=proxy.port).render_as_string(hide_password=False)
    return Settings(
        data_dir=tmp_path / "data",
        database_url=proxied,
        secret_key="test-secret-key-0123456789-0123456789-0123456789",
        request_timeout_seconds=DEADLINE_SECONDS,
        health_db_timeout_seconds=HEALTH_CHECK_SECONDS,
        pool_timeout_seconds=3,
        management_token=TOKEN,
        run_background_jobs=False,
    )


async def timed(
    requests: Sequence[Awaitable[httpx.Response]], limit: float
) -> tuple[float, list[httpx.Response]]:
    """Send the requests concurrently; their answers and the seconds until the last one.
    Fails (instead of hanging) when they are not all answered within `limit`."""
    started = time.monotonic()
    tasks = [asyncio.ensure_future(request) for request in requests]
    _done, pending = await asyncio.wait(tasks, timeout=limit)
    for task in pending:
        task.cancel()
    assert not pending, f"{len(pending)} of {len(tasks)} requests still unanswered after {limit} s"
    return time.monotonic() - started, [task.result() for task in tasks]


async def test_requests_get_503_within_the_deadline_while_the_database_is_silent(
    client: httpx.AsyncClient,
    user_headers: dict[str, str],
    make_room: RoomFactory,
    tomorrow: date,
    proxy: FaultProxy,
) -> None:
    room = await make_room()
    day = f"/api/rooms/{room}/reservations?date={tomorrow}"
    assert (await client.get(day, headers=user_headers)).status_code == 200
    proxy.black_hole()
    try:
        reserve = {"date": str(tomorrow), "start_time": "10:00", "end_time": "10:30"}
        page_headers = {"Accept": "text/html", "Accept-Language": "ja"}
        elapsed, responses = await timed(
            [
                *(client.get(day, headers=user_headers) for _ in range(4)),
                client.post(f"/api/rooms/{room}/reservations", json=reserve, headers=user_headers),
                client.get(f"/rooms?date={tomorrow}", headers=page_headers | user_headers),
            ],
            limit=DEADLINE_SECONDS + 10,
        )
        print(f"\nblack-holed database: 6 requests answered in {elapsed:.2f} s")
        assert elapsed <= DEADLINE_SECONDS + MARGIN_SECONDS
        for response in responses:
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "5"
        for response in responses[:5]:
            assert response.json()["error"]["code"] == "service_unavailable"
        page = responses[5]
        assert page.headers["content-type"].startswith("text/html")
        assert "一時的に" in page.text

        health_elapsed, [health, details] = await timed(
            [
                client.get("/health"),
                client.get("/health", headers={"Authorization": f"Bearer {TOKEN}"}),
            ],
            limit=DEADLINE_SECONDS + 10,
        )
        print(f"black-holed database: /health answered in {health_elapsed:.2f} s")
        # Every component's check is bounded on its own; they run partly side by side.
        assert health_elapsed <= 2 * HEALTH_CHECK_SECONDS + MARGIN_SECONDS
        assert health.status_code == 503
        assert health.json() == {"status": "DOWN"}
        db_part = details.json()["components"]["db"]
        assert db_part["status"] == "DOWN"
        assert "no answer within" in db_part["details"]["error"]
    finally:
        proxy.pass_through()
    # Nothing was written by the reservation that was cut short.
    assert (await client.get(day, headers=user_headers)).json() == []


async def test_requests_succeed_within_a_second_or_two_after_the_database_returns(
    client: httpx.AsyncClient,
    user_headers: dict[str, str],
    make_room: RoomFactory,
    tomorrow: date,
    proxy: FaultProxy,
) -> None:
    room = await make_room()
    day = f"/api/rooms/{room}/reservations?date={tomorrow}"
    assert (await client.get(day, headers=user_headers)).status_code == 200
    proxy.drop()
    # Keep asking during the outage, as clients do: the pool's connection attempts fail.
    outage_ends = time.monotonic() + 12
    while time.monotonic() < outage_ends:
        _elapsed, [answer] = await timed([client.get(day, headers=user_headers)], limit=15)
        assert answer.status_code == 503
        await asyncio.sleep(0.2)

    proxy.pass_through()
    back = time.monotonic()
    ready_at = served_at = None
    for _ in range(200):
        _elapsed, [ready, answer] = await timed(
            [client.get("/health/readiness"), client.get(day, headers=user_headers)], limit=15
        )
        now = time.monotonic() - back
        if ready.status_code == 200 and ready_at is None:
            ready_at = now
        if answer.status_code == 200:
            served_at = now
            break
        if now > 15:
            break
        await asyncio.sleep(0.05)
    print(f"\ndatabase back: ready after {ready_at} s, a room's day served after {served_at} s")
    assert served_at is not None
    assert served_at <= 1.5
    assert ready_at is not None
    # Readiness checks the pool the requests use: never "ready" while they still fail.
    assert ready_at >= served_at - 0.5
