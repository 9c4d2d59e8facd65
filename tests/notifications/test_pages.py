"""The administrators' mail page: SMTP status, the outbox page by page, past decisions."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from mrs.accounts import registration
from mrs.accounts.models import Role, UserStatus
from mrs.clock import system_clock
from mrs.notifications.models import MailState, OutboxMail
from tests.conftest import DEFAULT_PASSWORD, UserFactory, browser_like_client

JA = {"accept-language": "ja"}


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_like_client(app) as http:
        yield http


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def _log_in(client: httpx.AsyncClient, user_id: str) -> None:
    response = await client.post("/login", data={"user_id": user_id, "password": DEFAULT_PASSWORD})
    assert response.status_code == 303, response.text


async def test_the_mail_page_shows_smtp_status_outbox_pages_and_decisions(
    client: httpx.AsyncClient, make_user: UserFactory, app: Any
) -> None:
    admin = await make_user("chief", role=Role.ADMIN)
    await make_user("refused1", status=UserStatus.PENDING, email="refused1@example.com")
    await registration.reject_user(
        app.state.db,
        user_id="refused1",
        admin_id=admin,
        now=system_clock(),
        reason="Not an employee",
    )
    start = system_clock()
    async with app.state.db.transaction() as session:
        for number in range(55):
            session.add(
                OutboxMail(
                    recipient=f"person{number}@example.com",
                    subject=f"Message {number}",
                    body="-",
                    state=MailState.FAILED.value if number == 54 else MailState.PENDING.value,
                    attempts=8 if number == 54 else 0,
                    unclear_attempts=2 if number == 54 else 0,
                    created_at=start + timedelta(seconds=number),
                    next_attempt_at=start,
                    last_error="550 mailbox unavailable" if number == 54 else None,
                )
            )
    await _log_in(client, admin)

    home = await client.get("/rooms")
    assert 'href="/admin/mail"' in home.text  # linked from the admin navigation

    page = await client.get("/admin/mail")
    assert page.status_code == 200
    text = _text(page.text)
    assert "SMTP Not configured" in text  # the tests run without a mail server
    assert "Last failure 550 mailbox unavailable" in text
    # Newest first, recipients shown to the admin, with attempts and unclear attempts.
    assert "person54@example.com Message 54 FAILED 8 2 550 mailbox unavailable" in text
    assert "person4@example.com" not in text  # on the second page (the rejection mail is newest)
    assert 'href="/admin/mail?page=2"' in page.text
    assert "(refused1) Rejected chief Not an employee" in text

    second = _text((await client.get("/admin/mail?page=2")).text)
    assert "person4@example.com Message 4 PENDING" in second
    assert "person54@example.com" not in second

    japanese = _text((await client.get("/admin/mail", headers=JA)).text)
    assert "SMTP 未設定" in japanese
    assert "送信待ちメール" in japanese
    assert "登録申請の判断" in japanese


async def test_the_mail_page_is_for_admins_and_checks_its_input(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    anonymous = await client.get("/admin/mail")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login")
    await _log_in(client, await make_user())
    refused = await client.get("/admin/mail", headers=JA)
    assert refused.status_code == 403
    assert "このページは管理者専用です。" in refused.text
    await _log_in(client, await make_user("chief2", role=Role.ADMIN))
    for bad in ("0", "-1", "abc", "9" * 30):
        response = await client.get(f"/admin/mail?page={bad}")
        assert 400 <= response.status_code < 500, (bad, response.status_code)
