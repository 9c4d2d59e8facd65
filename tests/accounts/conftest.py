"""Fixtures for account tests: a real SMTP server (aiosmtpd), a movable auth clock,
and helpers to register and decide users through the API."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from mrs.clock import FixedClock, system_clock
from mrs.settings import Settings
from tests.support import free_port

STRONG_PASSWORD = "plum-lantern-orbit-7"


@dataclass
class _Collector:
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_RCPT(
        self, _server: SMTP, _session: Session, envelope: Envelope, address: str, _options: Any
    ) -> str:
        # Like a real server: an unknown mailbox is refused for good (5xx).
        if address.startswith("nosuchuser@"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:
        raw = envelope.content if isinstance(envelope.content, bytes) else b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"


class SmtpServer:
    """A real SMTP server on 127.0.0.1 that can be stopped and started again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.collector = _Collector()
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[EmailMessage]:
        return self.collector.messages

    def start(self) -> None:
        self._controller = Controller(self.collector, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if message["To"] == address]


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path: Path, database_url: str, smtp_server: SmtpServer) -> Settings:
    """The shared test settings plus SMTP pointing at the local test server."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-secret-key-0123456789-0123456789-0123456789",
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_from="mrs@example.com",
        smtp_timeout_seconds=5,
    )


@pytest.fixture(autouse=True)
def auth_clock(request: pytest.FixtureRequest) -> FixedClock:
    """Sessions and throttling follow this clock; it starts at the real now.

    Set on the app of every test here that has one; pure tests (no app) get no database.
    """
    clock = FixedClock(system_clock())
    if "app" in request.fixturenames:
        request.getfixturevalue("app").state.auth_clock = clock
    return clock


Register = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture
def register(client: httpx.AsyncClient) -> Register:
    """POST a registration; fields default to a valid one for `user_id`."""

    async def factory(user_id: str = "hanako", **fields: Any) -> httpx.Response:
        body: dict[str, Any] = {
            "user_id": user_id,
            "first_name": "Hanako",
            "last_name": "Yamada",
            "email": f"{user_id}@example.com",
            "password": STRONG_PASSWORD,
        }
        body.update(fields)
        return await client.post("/api/users/register", json=body)

    return factory


async def deliver(app: Any) -> None:
    """Run the outbox worker once, as `mrs serve` does every few seconds."""
    await app.state.background.run_once("mail-outbox")
