"""The password reset pages (driven over HTTP as a browser posts forms), the admin's
button, and `mrs user set-password`."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from mrs.accounts import passwords, users
from mrs.accounts.models import Role, User, UserSession
from mrs.accounts.sessions import open_session
from mrs.audit.models import AuditEntry
from mrs.cli import app as cli_app
from mrs.clock import system_clock
from mrs.db.engine import Database
from mrs.notifications.models import OutboxMail
from mrs.settings import Settings
from tests.conftest import DEFAULT_PASSWORD, UserFactory, browser_like_client

pytestmark = pytest.mark.both_databases

JA = {"accept-language": "ja"}
NEW_PASSWORD = "amber-harbour-violin-58"
_TOKEN = re.compile(r"/password/reset\?token=([A-Za-z0-9_-]{43})")


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_like_client(app) as http:
        yield http


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def _token(app: Any, address: str) -> str:
    async with app.state.db.snapshot() as session:
        bodies = (
            await session.scalars(
                select(OutboxMail.body)
                .where(OutboxMail.recipient == address)
                .order_by(OutboxMail.mail_id)
            )
        ).all()
    assert bodies, f"no mail to {address}"
    match = _TOKEN.search(bodies[-1])
    assert match is not None
    return match.group(1)


async def test_the_login_page_links_to_forgot_password(client: httpx.AsyncClient) -> None:
    page = await client.get("/login")
    assert 'href="/password/forgot"' in page.text
    form = await client.get("/password/forgot", headers=JA)
    assert form.status_code == 200
    assert "パスワードをお忘れですか" in form.text
    assert 'name="email"' in form.text


async def test_the_same_page_whether_or_not_the_account_exists(
    client: httpx.AsyncClient, app: Any, make_user: UserFactory
) -> None:
    await make_user("pageuser")
    answers = [
        await client.post("/password/forgot", data={"email": account})
        for account in ("pageuser@example.com", "nobody@example.com")
    ]
    assert [a.status_code for a in answers] == [303, 303]
    assert {a.headers["location"] for a in answers} == {"/password/forgot/sent"}
    sent = await client.get("/password/forgot/sent")
    assert "If an active account matches" in _text(sent.text)
    await _token(app, "pageuser@example.com")  # the real one got its mail


async def test_an_empty_form_says_what_to_type(client: httpx.AsyncClient) -> None:
    refused = await client.post("/password/forgot", data={"email": "  "})
    assert refused.status_code == 422
    assert "Enter your email address or user ID." in refused.text


async def test_the_forgot_form_is_throttled(client: httpx.AsyncClient, app: Any) -> None:
    limit = app.state.settings.password_reset_max_per_account
    for _ in range(limit):
        await client.post("/password/forgot", data={"email": "someone@example.com"})
    refused = await client.post("/password/forgot", data={"email": "someone@example.com"})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Too many password reset requests" in refused.text


async def test_choosing_a_new_password_with_the_link_ends_every_session(
    client: httpx.AsyncClient, app: Any, make_user: UserFactory
) -> None:
    await make_user("walker")
    async with browser_like_client(app) as elsewhere:
        logged_in = await elsewhere.post(
            "/login", data={"user_id": "walker", "password": DEFAULT_PASSWORD}
        )
        assert logged_in.status_code == 303
        assert (await elsewhere.get("/account/password")).status_code == 200
        await client.post("/password/forgot", data={"email": "walker"})
        token = await _token(app, "walker@example.com")

        form = await client.get(f"/password/reset?token={token}")
        assert form.status_code == 200
        assert f'value="{token}"' in form.text
        mismatch = await client.post(
            "/password/reset",
            data={
                "token": token,
                "new_password": NEW_PASSWORD,
                "new_password_confirm": "something-else-entirely",
            },
        )
        assert mismatch.status_code == 422
        assert "The two passwords do not match." in mismatch.text
        done = await client.post(
            "/password/reset",
            data={
                "token": token,
                "new_password": NEW_PASSWORD,
                "new_password_confirm": NEW_PASSWORD,
            },
        )
        assert done.status_code == 303
        assert done.headers["location"] == "/password/reset/done"
        assert "every session" in _text((await client.get("/password/reset/done")).text)
        # The other browser's session has ended.
        assert (await elsewhere.get("/account/password")).status_code in (302, 303, 401)

    used = await client.get(f"/password/reset?token={token}")
    assert used.status_code == 410
    assert "already been used" in used.text
    assert 'href="/password/forgot"' in used.text
    again = await client.post(
        "/password/reset",
        data={"token": token, "new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD},
    )
    assert again.status_code == 410
    assert "already been used" in again.text


async def test_an_unknown_link_gets_a_clear_page_in_japanese(client: httpx.AsyncClient) -> None:
    page = await client.get("/password/reset?token=" + "A" * 43, headers=JA)
    assert page.status_code == 400
    assert "このパスワード再設定リンクは無効です" in page.text
    missing = await client.get("/password/reset")
    assert missing.status_code == 400


async def test_the_admin_button_sends_the_reset_mail(
    client: httpx.AsyncClient, app: Any, make_user: UserFactory
) -> None:
    await make_user("boss", role=Role.ADMIN)
    await make_user("staffer")
    logged_in = await client.post("/login", data={"user_id": "boss", "password": DEFAULT_PASSWORD})
    assert logged_in.status_code == 303
    listing = await client.get("/admin/users")
    assert 'action="/admin/users/staffer/password-reset"' in listing.text
    sent = await client.post("/admin/users/staffer/password-reset")
    assert sent.status_code == 303
    assert sent.headers["location"] == "/admin/users?done=password_reset_sent"
    await _token(app, "staffer@example.com")
    shown = await client.get(sent.headers["location"])
    assert "The password reset mail is on its way to the user." in shown.text


# --- the CLI -----------------------------------------------------------------------------

runner = CliRunner()


def _env(tmp_path: Path, database_url: str, password: str) -> dict[str, str]:
    return {
        "MRS_DATA_DIR": str(tmp_path / "data"),
        "MRS_DATABASE_URL": database_url,
        "MRS_PASSWORD": password,
    }


async def _user_with_a_session(settings: Settings) -> None:
    db = Database(settings)
    try:
        await users.create_user(
            db,
            user_id="clier",
            password=DEFAULT_PASSWORD,
            email="clier@example.com",
            first_name="Cli",
            last_name="User",
            now=system_clock(),
        )
        async with db.transaction() as session:
            open_session(
                session,
                settings,
                user_id="clier",
                now=system_clock(),
                client_address=None,
                user_agent=None,
            )
    finally:
        await db.dispose()


async def _state(settings: Settings) -> tuple[str, list[str | None], list[tuple[str, Any, Any]]]:
    db = Database(settings)
    try:
        async with db.snapshot() as session:
            user = await session.get(User, "clier")
            assert user is not None
            reasons = (
                await session.scalars(
                    select(UserSession.revoked_reason).where(UserSession.user_id == "clier")
                )
            ).all()
            audit = (
                await session.execute(
                    select(AuditEntry.action, AuditEntry.actor_id, AuditEntry.after).where(
                        AuditEntry.subject_id == "clier"
                    )
                )
            ).all()
        return user.password_hash, list(reasons), [tuple(row) for row in audit]
    finally:
        await db.dispose()


def test_cli_set_password_ends_sessions_and_is_audited(
    tmp_path: Path, database_url: str, settings: Settings
) -> None:
    asyncio.run(_user_with_a_session(settings))
    result = runner.invoke(
        cli_app, ["user", "set-password", "clier"], env=_env(tmp_path, database_url, NEW_PASSWORD)
    )
    assert result.exit_code == 0, result.output
    assert "1 session(s) ended" in result.output
    password_hash, reasons, audit = asyncio.run(_state(settings))
    assert passwords.verify_password(password_hash, NEW_PASSWORD)
    assert reasons == ["password_set"]
    assert len(audit) == 1
    action, actor, after = audit[0]
    assert action == "user.password_set"
    assert actor is None
    assert '"by": "cli"' in str(after)


def test_cli_set_password_refuses_a_weak_password_or_unknown_user(
    tmp_path: Path, database_url: str, settings: Settings
) -> None:
    asyncio.run(_user_with_a_session(settings))
    weak = runner.invoke(
        cli_app, ["user", "set-password", "clier"], env=_env(tmp_path, database_url, "short")
    )
    assert weak.exit_code != 0
    assert "12" in weak.output
    unknown = runner.invoke(
        cli_app, ["user", "set-password", "nobody"], env=_env(tmp_path, database_url, NEW_PASSWORD)
    )
    assert unknown.exit_code != 0
    assert "nobody" in unknown.output
    password_hash, reasons, _ = asyncio.run(_state(settings))
    assert passwords.verify_password(password_hash, DEFAULT_PASSWORD)
    assert reasons == [None]
