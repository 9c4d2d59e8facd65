"""Mail through the outbox and a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from mrs.accounts.models import Role
from mrs.clock import system_clock
from mrs.db.engine import Database
from mrs.notifications import service
from mrs.notifications.models import MailState, OutboxMail
from mrs.settings import Settings
from tests.accounts.conftest import Register, SmtpServer, deliver
from tests.conftest import UserFactory


async def _states(app: Any) -> list[tuple[str, str, int]]:
    async with app.state.db.snapshot() as session:
        rows = await session.execute(
            select(OutboxMail.recipient, OutboxMail.state, OutboxMail.attempts).order_by(
                OutboxMail.mail_id
            )
        )
        return [(r.recipient, r.state, r.attempts) for r in rows]


async def test_registration_mails_reach_the_admins_and_the_user(
    register: Register, app: Any, make_user: UserFactory, smtp_server: SmtpServer
) -> None:
    await make_user("admin1", role=Role.ADMIN)
    await make_user("admin2", role=Role.ADMIN)
    await make_user("plainuser")
    await register("mika", first_name="Mika")
    await deliver(app)
    assert sorted(m["To"] for m in smtp_server.messages) == [
        "admin1@example.com",
        "admin2@example.com",
        "mika@example.com",
    ]
    receipt = smtp_server.to("mika@example.com")[0]
    assert receipt["From"] == "mrs@example.com"
    assert receipt["Subject"] == "We received your registration"
    assert "Hello Mika" in receipt.get_content()
    assert receipt["Message-ID"].startswith("<mrs-outbox-")
    to_admin = smtp_server.to("admin1@example.com")[0]
    assert "mika@example.com" in to_admin.get_content()
    assert "承認を待っています" in to_admin.get_content()  # Japanese first, then English
    assert {state for _, state, _ in await _states(app)} == {"SENT"}
    await deliver(app)  # nothing is sent twice
    assert len(smtp_server.messages) == 3


async def test_user_mails_use_the_language_of_the_registration(
    client: httpx.AsyncClient, app: Any, smtp_server: SmtpServer
) -> None:
    response = await client.post(
        "/api/users/register",
        json={
            "user_id": "kenji",
            "first_name": "健二",
            "last_name": "山田",
            "email": "kenji@example.com",
            "password": "plum-lantern-orbit-7",
        },
        headers={"Accept-Language": "ja"},
    )
    assert response.status_code == 201
    await deliver(app)
    assert smtp_server.to("kenji@example.com")[0]["Subject"] == "ご登録を受け付けました"


async def test_configured_admin_addresses_replace_the_admin_users(
    tmp_path: Path, database_url: str, smtp_server: SmtpServer, make_user: UserFactory
) -> None:
    settings = Settings(
        data_dir=tmp_path / "d2",
        database_url=database_url,
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        admin_notification_emails="desk@example.com, it@example.com",
    )
    await make_user("admin9", role=Role.ADMIN)
    db = Database(settings)
    try:
        from mrs.accounts import registration

        await registration.register_user(
            db,
            settings,
            user_id="yui",
            first_name="Yui",
            last_name="Ito",
            email="yui@example.com",
            password="plum-lantern-orbit-7",
            now=system_clock(),
        )
        await service.deliver_due(db, settings, now=system_clock())
    finally:
        await db.dispose()
    assert sorted(m["To"] for m in smtp_server.messages) == [
        "desk@example.com",
        "it@example.com",
        "yui@example.com",
    ]


async def test_an_smtp_outage_neither_fails_registration_nor_loses_mail(
    register: Register, app: Any, smtp_server: SmtpServer
) -> None:
    smtp_server.stop()
    response = await register("during-outage")
    assert response.status_code == 201
    await deliver(app)  # the server is down: the attempt fails and is rescheduled
    [(recipient, state, attempts)] = await _states(app)
    assert (recipient, state, attempts) == ("during-outage@example.com", "PENDING", 1)
    async with app.state.db.snapshot() as session:
        mail = (await session.scalars(select(OutboxMail))).one()
    assert mail.last_error
    assert mail.next_attempt_at > system_clock()  # backed off
    await deliver(app)  # not due yet: no new attempt
    assert (await _states(app))[0][2] == 1
    smtp_server.start()
    report = await service.deliver_due(
        app.state.db, app.state.settings, now=system_clock() + timedelta(minutes=2)
    )
    assert report.sent == 1
    assert [m["To"] for m in smtp_server.messages] == ["during-outage@example.com"]
    assert (await _states(app))[0][1] == "SENT"


async def test_backoff_grows_and_gives_up_after_the_maximum_attempts(
    app: Any, smtp_server: SmtpServer
) -> None:
    settings = app.state.settings
    smtp_server.stop()
    async with app.state.db.transaction() as session:
        await service.enqueue_mail(session, to=["late@example.com"], subject="Hi", body="Body")
    now = system_clock()
    delays = []
    for _ in range(settings.mail_max_attempts):
        await service.deliver_due(app.state.db, settings, now=now)
        async with app.state.db.snapshot() as session:
            mail = (await session.scalars(select(OutboxMail))).one()
        if mail.state == MailState.FAILED:
            break
        delays.append((mail.next_attempt_at - now).total_seconds())
        now = mail.next_attempt_at
    assert mail.state == MailState.FAILED
    assert mail.attempts == settings.mail_max_attempts
    assert delays[0] == settings.mail_retry_base_seconds
    assert delays[1] == 2 * settings.mail_retry_base_seconds
    assert max(delays) <= settings.mail_retry_max_seconds
    summary = await service.outbox_summary(app.state.db)
    assert summary["failed"] == 1
    assert summary["pending"] == 0


async def test_a_permanent_refusal_fails_at_once_and_others_still_go(
    app: Any, smtp_server: SmtpServer
) -> None:
    async with app.state.db.transaction() as session:
        await service.enqueue_mail(
            session,
            to=["nosuchuser@example.com", "bad address@", "fine@example.com"],
            subject="Hi",
            body="Body",
        )
    report = await service.deliver_due(app.state.db, app.state.settings, now=system_clock())
    assert (report.failed, report.sent) == (2, 1)
    assert await _states(app) == [
        ("nosuchuser@example.com", "FAILED", 1),
        ("bad address@", "FAILED", 1),
        ("fine@example.com", "SENT", 1),
    ]
    assert [m["To"] for m in smtp_server.messages] == ["fine@example.com"]


async def test_without_smtp_mail_waits_in_the_outbox(tmp_path: Path, database_url: str) -> None:
    settings = Settings(data_dir=tmp_path / "d3", database_url=database_url)
    db = Database(settings)
    try:
        async with db.transaction() as session:
            await service.enqueue_mail(session, to=["a@example.com"], subject="S", body="B")
        report = await service.deliver_due(db, settings, now=system_clock())
        summary = await service.outbox_summary(db)
    finally:
        await db.dispose()
    assert report.claimed == 0
    assert summary["pending"] == 1
    assert summary["sent"] == 0
    assert summary["oldest_pending_seconds"] >= 0


async def test_admins_see_the_outbox(
    register: Register,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    user_headers: dict[str, str],
    app: Any,
) -> None:
    await register("visible")
    outbox = await client.get("/api/admin/mail-outbox", headers=admin_headers)
    assert outbox.status_code == 200
    body = outbox.json()
    assert body["summary"]["pending"] >= 1
    assert "visible@example.com" in {m["recipient"] for m in body["mails"]}
    assert "body" not in body["mails"][0]
    assert (await client.get("/api/admin/mail-outbox", headers=user_headers)).status_code == 403


async def test_two_workers_never_send_one_message_twice(
    app: Any, settings: Settings, smtp_server: SmtpServer
) -> None:
    """Two processes deliver the same outbox at once: every mail arrives exactly once."""
    import asyncio

    async with app.state.db.transaction() as session:
        await service.enqueue_mail(
            session, to=[f"r{i}@example.com" for i in range(30)], subject="S", body="B"
        )
    other = Database(settings)
    try:
        now = system_clock()
        await asyncio.gather(
            service.deliver_due(app.state.db, settings, now=now),
            service.deliver_due(other, settings, now=now),
        )
    finally:
        await other.dispose()
    recipients = [m["To"] for m in smtp_server.messages]
    assert sorted(recipients) == sorted(f"r{i}@example.com" for i in range(30))


def test_mrs_mail_test_sends_through_the_configured_server(
    smtp_server: SmtpServer, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "MRS_DATA_DIR": str(tmp_path),
        "MRS_SMTP_HOST": "127.0.0.1",
        "MRS_SMTP_PORT": str(smtp_server.port),
        "MRS_SMTP_FROM": "mrs@example.com",
    }
    result = subprocess.run(
        [sys.executable, "-m", "mrs", "mail", "test", "ops@example.com"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "test message sent to ops@example.com" in result.stdout
    assert [m["Subject"] for m in smtp_server.to("ops@example.com")] == ["MRS test message"]
    smtp_server.stop()
    down = subprocess.run(
        [sys.executable, "-m", "mrs", "mail", "test", "ops@example.com"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert down.returncode == 1
    assert "sending failed" in down.stderr


async def test_mail_claimed_by_a_worker_that_died_is_sent_after_its_lease(
    app: Any, smtp_server: SmtpServer
) -> None:
    from mrs.notifications.service import _claim

    settings = app.state.settings
    async with app.state.db.transaction() as session:
        await service.enqueue_mail(session, to=["orphan@example.com"], subject="S", body="B")
    now = system_clock()
    assert len(await _claim(app.state.db, settings, now=now, limit=10)) == 1  # then "crashes"
    assert (await service.deliver_due(app.state.db, settings, now=now)).claimed == 0
    later = now + timedelta(minutes=6)
    assert (await service.deliver_due(app.state.db, settings, now=later)).sent == 1
    assert [m["To"] for m in smtp_server.messages] == ["orphan@example.com"]
