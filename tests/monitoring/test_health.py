"""Health: UP normally; DOWN with a 503 readiness while the database is unreachable, and
back UP after; details only for admins and the management token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from mrs.app import create_app
from mrs.clock import FixedClock
from mrs.settings import Settings
from tests.faults import FaultProxy
from tests.support import free_port

TOKEN = "management-token-for-tests-0123456789"
MANAGEMENT = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def token_client(settings: Settings, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"management_token": TOKEN}), clock=clock)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        yield client
    await app.state.db.dispose()


async def test_health_is_up_with_every_component(token_client: httpx.AsyncClient) -> None:
    response = await token_client.get("/health", headers=MANAGEMENT)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "UP"
    components = body["components"]
    assert set(components) == {"db", "diskSpace", "memory", "backup", "reservations"}
    assert components["db"]["status"] == "UP"
    assert components["db"]["details"]["latencyMs"] >= 0
    assert set(components["db"]["details"]["pool"]) == {"size", "inUse", "idle", "overflow"}
    request_pool = components["db"]["details"]["requestPool"]
    assert request_pool["max"] == 10
    assert 0 <= request_pool["idle"] <= request_pool["open"] <= request_pool["max"]
    assert components["diskSpace"]["details"]["data"]["free"] > 0
    assert components["memory"]["details"]["processRss"] > 0
    assert components["backup"]["status"] == "UNKNOWN"  # until the backup issue lands
    assert components["reservations"]["details"]["migrationsAtHead"] is True


async def test_anonymous_callers_see_only_the_status(token_client: httpx.AsyncClient) -> None:
    # Not even the components' names: they tell an outsider what runs here.
    assert (await token_client.get("/health")).json() == {"status": "UP"}
    wrong = await token_client.get("/health", headers={"Authorization": "Bearer nope"})
    assert wrong.json() == {"status": "UP"}


async def test_users_who_are_not_admins_see_only_the_status(
    client: httpx.AsyncClient, user_headers: Any
) -> None:
    assert (await client.get("/health", headers=user_headers)).json() == {"status": "UP"}


async def test_admins_see_details(client: httpx.AsyncClient, admin_headers: Any) -> None:
    body = (await client.get("/health", headers=admin_headers)).json()
    assert "details" in body["components"]["db"]


async def test_liveness_and_readiness_are_up(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health/liveness")).json() == {"status": "UP"}
    ready = await client.get("/health/readiness")
    assert ready.status_code == 200
    assert ready.json()["status"] == "UP"


async def test_an_unreachable_database_is_down_and_not_ready(tmp_path: Path) -> None:
    closed = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing"
    app = create_app(
        Settings(
            data_dir=tmp_path,
            database_url=closed,
            management_token=TOKEN,
            secret_key="x" * 48,
        )
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        health = await client.get("/health", headers=MANAGEMENT)
        ready = await client.get("/health/readiness")
        live = await client.get("/health/liveness")
    await app.state.db.dispose()
    assert health.status_code == 503
    assert health.json()["status"] == "DOWN"
    assert health.json()["components"]["db"]["status"] == "DOWN"
    assert "error" in health.json()["components"]["db"]["details"]
    assert ready.status_code == 503
    assert ready.json()["status"] == "DOWN"
    assert live.status_code == 200  # the process itself is fine


async def test_down_while_the_database_is_away_then_up_again(
    settings: Settings, pg_proxy: tuple[FaultProxy, str]
) -> None:
    proxy, url = pg_proxy
    app: FastAPI = create_app(settings.model_copy(update={"database_url": url}))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        assert (await client.get("/health/readiness")).status_code == 200
        proxy.drop()
        assert (await client.get("/health/readiness")).status_code == 503
        assert (await client.get("/health")).json()["status"] == "DOWN"
        proxy.pass_through()
        assert (await client.get("/health/readiness")).status_code == 200
        assert (await client.get("/health")).json()["status"] == "UP"
    await app.state.db.dispose()
