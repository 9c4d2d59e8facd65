"""Attacks on the account doors, for real: parallel password guesses, registration floods,
a mail bomb, and a mail server that answers after our timeout."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import httpx
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import func, select

from mrs.accounts.models import LoginAttempt, LoginOutcome, RegistrationAttempt, Role
from mrs.clock import system_clock
from mrs.notifications import service as outbox
from mrs.notifications.models import OutboxMail
from mrs.settings import Settings
from tests.accounts.conftest import STRONG_PASSWORD, Register, SmtpServer, _Collector, deliver
from tests.conftest import DEFAULT_PASSWORD, UserFactory

WRONG = "definitely-not-it-1"
# Outcomes that mean "the password was verified".
CHECKED = (
    LoginOutcome.FAILED.value,
    LoginOutcome.SUCCEEDED.value,
    LoginOutcome.REFUSED.value,
    LoginOutcome.CHECKING.value,
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Small registration limits and mail cap, a short SMTP timeout."""
    return settings.model_copy(
        update={
            "registration_max_per_address": 3,
            "registration_max_per_domain": 4,
            "mail_max_per_recipient": 2,
            "smtp_timeout_seconds": 1.0,
        }
    )


def _client_from(app: Any, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def _checked(app: Any, *where: Any) -> int:
    async with app.state.db.snapshot() as session:
        count = await session.scalar(
            select(func.count()).where(LoginAttempt.outcome.in_(CHECKED), *where)
        )
    return int(count or 0)


# --- parallel guesses -----------------------------------------------------------


async def test_parallel_guesses_at_one_account_get_at_most_the_limit_checked(
    client: httpx.AsyncClient, make_user: UserFactory, app: Any
) -> None:
    await make_user("target")
    limit = app.state.settings.login_max_failures_per_account
    assert limit == 5
    # 25 wrong guesses, then the right password among the late ones.
    guesses = [WRONG] * 25 + [DEFAULT_PASSWORD] * 5
    answers = await asyncio.gather(
        *(
            client.post("/api/auth/login", json={"user_id": "target", "password": guess})
            for guess in guesses
        )
    )
    codes = [answer.status_code for answer in answers]
    assert await _checked(app, LoginAttempt.account_key == "target") <= limit
    assert 200 not in codes, codes
    assert codes.count(429) >= len(guesses) - limit
    throttled = next(answer for answer in answers if answer.status_code == 429)
    assert int(throttled.headers["Retry-After"]) > 0


async def test_parallel_guesses_from_one_address_get_at_most_the_limit_checked(
    app: Any,
) -> None:
    limit = app.state.settings.login_max_failures_per_address
    assert limit == 20
    async with _client_from(app, "198.51.100.9") as http:
        answers = await asyncio.gather(
            *(
                http.post("/api/auth/login", json={"user_id": f"spray{n}", "password": WRONG})
                for n in range(40)
            )
        )
    assert await _checked(app, LoginAttempt.client_address == "198.51.100.9") <= limit
    assert [a.status_code for a in answers].count(429) >= 40 - limit


async def test_an_office_logging_in_at_once_from_one_address_is_not_refused(
    app: Any, make_user: UserFactory
) -> None:
    """More people than the per-address failure limit log in together from one address
    (an office behind NAT): checks still running hold the budget for a moment, they never
    turn away a right password."""
    app.state.settings.login_max_failures_per_address = 3
    people = [await make_user(f"staff{n}") for n in range(15)]
    async with _client_from(app, "198.51.100.20") as http:
        answers = await asyncio.gather(
            *(
                http.post("/api/auth/login", json={"user_id": person, "password": DEFAULT_PASSWORD})
                for person in people
            )
        )
    assert [a.status_code for a in answers] == [200] * len(people)


# --- the current password of a password change -------------------------------------


async def test_parallel_current_password_guesses_with_a_stolen_session_are_throttled(
    client: httpx.AsyncClient, make_user: UserFactory, app: Any
) -> None:
    await make_user("robbed")
    token = (
        await client.post(
            "/api/auth/login", json={"user_id": "robbed", "password": DEFAULT_PASSWORD}
        )
    ).json()["access_token"]
    client.cookies.clear()
    stolen = {"Authorization": f"Bearer {token}"}

    def change(current: str) -> Any:
        body = {"current_password": current, "new_password": "fresh-meadow-lantern-42"}
        return client.post("/api/me/password", json=body, headers=stolen)

    answers = await asyncio.gather(*(change(f"guess-number-{n:04d}") for n in range(40)))
    codes = [answer.status_code for answer in answers]
    limit = app.state.settings.login_max_failures_per_account
    # The login that opened the session was one check too (it succeeded).
    assert await _checked(app, LoginAttempt.account_key == "robbed") <= limit + 1
    assert codes.count(422) <= limit
    assert codes.count(429) >= 40 - limit
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert refused.json()["error"]["code"] == "password_check_throttled"
    assert int(refused.headers["Retry-After"]) > 0
    # Now even the right current password waits: the guesses were not free.
    assert (await change(DEFAULT_PASSWORD)).status_code == 429
    # And the login of the account is locked by the same counter.
    login = await client.post(
        "/api/auth/login", json={"user_id": "robbed", "password": DEFAULT_PASSWORD}
    )
    assert login.status_code == 429


# --- registration flood, probing, closing, allowed domains, mail bomb --------------


def _registration(user_id: str, domain: str = "example.com") -> dict[str, str]:
    return {
        "user_id": user_id,
        "first_name": "Flood",
        "last_name": "Er",
        "email": f"{user_id}@{domain}",
        "password": STRONG_PASSWORD,
    }


async def test_registrations_from_one_address_are_limited_even_in_parallel(app: Any) -> None:
    async with _client_from(app, "203.0.113.5") as http:
        answers = await asyncio.gather(
            *(
                http.post(
                    "/api/users/register", json=_registration(f"flood{n}", f"d{n}.example.com")
                )
                for n in range(12)
            )
        )
        codes = [answer.status_code for answer in answers]
        assert codes.count(201) == 3, codes
        assert codes.count(429) == 9
        refused = next(answer for answer in answers if answer.status_code == 429)
        assert refused.json()["error"]["code"] == "registration_throttled"
        assert 0 < int(refused.headers["Retry-After"]) <= 3600
        # The "taken" answer is behind the same limit: it reveals nothing past it.
        taken = await http.post("/api/users/register", json=_registration("flood0"))
        assert taken.status_code == 429
    async with app.state.db.snapshot() as session:
        logged = await session.scalar(
            select(func.count()).where(RegistrationAttempt.client_address == "203.0.113.5")
        )
    assert logged == 3


async def test_probing_which_ids_are_taken_is_limited(app: Any, make_user: UserFactory) -> None:
    await make_user("existing")
    async with _client_from(app, "203.0.113.6") as http:
        codes = [
            (
                await http.post(
                    "/api/users/register", json=_registration("existing", "x.example.com")
                )
            ).status_code
            for _ in range(5)
        ]
    assert codes == [409, 409, 409, 429, 429]


async def test_registrations_per_email_domain_are_limited_across_addresses(app: Any) -> None:
    codes = []
    for n in range(6):
        async with _client_from(app, f"192.0.2.{n + 10}") as http:
            answer = await http.post(
                "/api/users/register", json=_registration(f"dom{n}", "victim.example.com")
            )
            codes.append(answer.status_code)
    assert codes == [201, 201, 201, 201, 429, 429]


async def test_registration_can_be_turned_off_and_restricted_to_domains(
    settings: Settings, app: Any
) -> None:
    from mrs.app import create_app

    closed = create_app(settings.model_copy(update={"registration_enabled": False}))
    try:
        async with _client_from(closed, "192.0.2.50") as http:
            answer = await http.post("/api/users/register", json=_registration("shut"))
            assert answer.status_code == 403
            assert answer.json()["error"]["code"] == "registration_closed"
            ja = await http.post(
                "/api/users/register",
                json=_registration("shut"),
                headers={"Accept-Language": "ja"},
            )
            assert ja.json()["error"]["message"] != answer.json()["error"]["message"]
    finally:
        await closed.state.db.dispose()
    only = create_app(
        settings.model_copy(update={"registration_allowed_domains": "corp.example.com"})
    )
    try:
        async with _client_from(only, "192.0.2.51") as http:
            outside = await http.post(
                "/api/users/register", json=_registration("outsider", "mail.example.org")
            )
            assert outside.status_code == 422
            assert outside.json()["error"]["code"] == "email_domain_not_allowed"
            assert "corp.example.com" in outside.json()["error"]["message"]
            # Exact domains only: a look-alike subdomain is not the company's.
            sub = await http.post(
                "/api/users/register",
                json=_registration("subby", "corp.example.com.evil.example.org"),
            )
            assert sub.status_code == 422
            inside = await http.post(
                "/api/users/register", json=_registration("insider", "Corp.Example.com")
            )
            assert inside.status_code == 201, inside.text
    finally:
        await only.state.db.dispose()


async def test_mails_to_one_recipient_are_capped_without_an_error(
    app: Any, make_user: UserFactory, smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    await make_user("boss", role=Role.ADMIN)
    caplog.set_level(logging.INFO)
    for n in range(4):
        async with _client_from(app, f"192.0.2.{n + 100}") as http:
            answer = await http.post(
                "/api/users/register", json=_registration(f"bomb{n}", f"b{n}.example.com")
            )
            assert answer.status_code == 201
    await deliver(app)
    assert len(smtp_server.to("boss@example.com")) == 2  # the cap, not 4
    assert any("not queued" in record.getMessage() for record in caplog.records)


# --- no email addresses in the logs -----------------------------------------


async def test_logs_name_no_email_address(
    register: Register,
    app: Any,
    make_user: UserFactory,
    smtp_server: SmtpServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await make_user("chief", role=Role.ADMIN)
    caplog.set_level(logging.DEBUG)
    assert (await register("privacy")).status_code == 201
    await deliver(app)
    assert len(smtp_server.messages) == 2
    # Our own loggers (the test SMTP server's "mail.log" shows the whole conversation).
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("mrs")]
    assert any("mail queued for rcpt-" in message for message in messages)
    leaked = [m for m in messages if "privacy@example.com" in m or "chief@example.com" in m]
    assert leaked == []


# --- an answer that comes after our timeout ----------------------------------------


class _SlowCollector(_Collector):
    """Takes the message, then answers only after the client has given up waiting."""

    delay = 2.5

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(self.delay)
        return answer


@pytest.fixture
def slow_smtp(smtp_server: SmtpServer) -> SmtpServer:
    """The test SMTP server, answering DATA late (smtp_server's teardown stops it)."""
    smtp_server.stop()
    smtp_server.collector = _SlowCollector()
    smtp_server.start()
    return smtp_server


async def test_a_late_answer_to_data_is_retried_later_once_with_the_same_message_id(
    app: Any, slow_smtp: SmtpServer, admin_headers: dict[str, str], client: httpx.AsyncClient
) -> None:
    db, settings = app.state.db, app.state.settings
    async with db.transaction() as session:
        await outbox.enqueue_mail(session, to=["late@example.com"], subject="Hi", body="Body")
    now = system_clock()
    await outbox.deliver_due(db, settings, now=now)
    assert len(slow_smtp.messages) == 1
    # Not retried at once: the server probably has it.
    await outbox.deliver_due(db, settings, now=now)
    assert len(slow_smtp.messages) == 1
    for _ in range(4):  # later rounds, each past the longest backoff
        now += timedelta(seconds=settings.mail_retry_max_seconds + 1)
        await outbox.deliver_due(db, settings, now=now)
    assert len(slow_smtp.messages) == 2  # at most twice, never four times
    assert len({message["Message-ID"] for message in slow_smtp.messages}) == 1
    async with db.snapshot() as session:
        row = (await session.scalars(select(OutboxMail))).one()
    assert (row.state, row.attempts, row.unclear_attempts) == ("FAILED", 2, 2)
    listed = (await client.get("/api/admin/mail-outbox", headers=admin_headers)).json()
    late = next(mail for mail in listed["mails"] if mail["recipient"] == "late@example.com")
    assert (late["attempts"], late["unclear_attempts"]) == (2, 2)
    assert listed["summary"]["unclear"] == 1
    assert "probably received" in late["last_error"]
