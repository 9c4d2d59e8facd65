"""The embedded default (SQLite): migration 0002 both ways, and the account flow on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import inspect

from mrs.accounts import users
from mrs.accounts.models import Role
from mrs.app import create_app
from mrs.clock import system_clock
from mrs.db.engine import make_sync_engine
from mrs.db.migrate import downgrade, upgrade
from mrs.settings import Settings
from tests.accounts.conftest import STRONG_PASSWORD, SmtpServer, deliver
from tests.conftest import DEFAULT_PASSWORD


def test_migration_0002_goes_down_and_up_again_on_sqlite(sqlite_url: str, tmp_path: Path) -> None:
    engine = make_sync_engine(Settings(data_dir=tmp_path, database_url=sqlite_url))
    try:
        tables = set(inspect(engine).get_table_names())
        assert {"user_session", "login_attempt", "registration_attempt", "mail_outbox"} <= tables
        downgrade(engine, "0001")
        assert "mail_outbox" not in set(inspect(engine).get_table_names())
        assert "decision_reason" not in {c["name"] for c in inspect(engine).get_columns("usr")}
        upgrade(engine)
        assert "decision_reason" in {c["name"] for c in inspect(engine).get_columns("usr")}
    finally:
        engine.dispose()


@pytest.fixture
async def sqlite_app(
    sqlite_url: str, tmp_path: Path, smtp_server: SmtpServer
) -> AsyncIterator[Any]:
    settings = Settings(
        data_dir=tmp_path,
        database_url=sqlite_url,
        secret_key="sqlite-secret-key-0123456789-0123456789-01234",
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
    )
    application = create_app(settings)
    yield application
    await application.state.db.dispose()


async def test_register_approve_login_and_throttle_on_sqlite(
    sqlite_app: Any, smtp_server: SmtpServer
) -> None:
    await users.create_user(
        sqlite_app.state.db,
        user_id="root",
        password=DEFAULT_PASSWORD,
        email="root@example.com",
        first_name="Root",
        last_name="Admin",
        role=Role.ADMIN,
        now=system_clock(),
    )
    transport = httpx.ASGITransport(app=sqlite_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        login = await client.post(
            "/api/auth/login", json={"user_id": "root", "password": DEFAULT_PASSWORD}
        )
        admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
        registered = await client.post(
            "/api/users/register",
            json={
                "user_id": "lite",
                "first_name": "Lite",
                "last_name": "User",
                "email": "lite@example.com",
                "password": STRONG_PASSWORD,
            },
        )
        assert registered.status_code == 201
        assert (await client.post("/api/admin/approve-user/lite", headers=admin)).status_code == 200
        user_login = await client.post(
            "/api/auth/login", json={"user_id": "lite", "password": STRONG_PASSWORD}
        )
        assert user_login.status_code == 200
        user = {"Authorization": f"Bearer {user_login.json()['access_token']}"}
        assert (await client.post("/api/auth/logout", headers=user)).status_code == 204
        assert (await client.get("/api/me", headers=user)).status_code == 401
        for _ in range(5):
            await client.post(
                "/api/auth/login", json={"user_id": "lite", "password": "nope-nope-1"}
            )
        throttled = await client.post(
            "/api/auth/login", json={"user_id": "lite", "password": STRONG_PASSWORD}
        )
        assert throttled.status_code == 429
        assert int(throttled.headers["Retry-After"]) > 0
    await deliver(sqlite_app)
    assert sorted(m["To"] for m in smtp_server.messages) == [
        "lite@example.com",
        "lite@example.com",
        "root@example.com",
    ]
