"""When the database cannot be reached, requests get a 503 with a retry hint, never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from mrs.accounts.tokens import issue_token
from mrs.app import create_app
from mrs.clock import system_clock
from mrs.settings import Settings
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
