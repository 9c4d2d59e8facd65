"""The registration story (registration.feature), through the HTTP API, with real
PostgreSQL and a real SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pytest_bdd import given, parsers, scenarios, then, when

from mrs.accounts import users
from mrs.accounts.models import Role
from mrs.app import create_app
from mrs.clock import FixedClock, system_clock
from mrs.rooms import service as rooms_service
from mrs.settings import Settings
from tests.accounts.conftest import STRONG_PASSWORD, SmtpServer
from tests.conftest import DEFAULT_PASSWORD, PINNED_NOW

scenarios("registration.feature")


class Story:
    """What the scenario has built so far."""

    def __init__(self, client: TestClient, smtp: SmtpServer, tomorrow: date) -> None:
        self.client = client
        self.smtp = smtp
        self.tomorrow = tomorrow
        self.admin_headers: dict[str, str] = {}
        self.user_headers: dict[str, dict[str, str]] = {}
        self.rooms: dict[str, int] = {}

    def login(self, user_id: str, password: str) -> Any:
        return self.client.post("/api/auth/login", json={"user_id": user_id, "password": password})

    def deliver_mail(self) -> None:
        app = self.client.app
        self.client.portal.call(app.state.background.run_once, "mail-outbox")  # type: ignore[union-attr,attr-defined]


@pytest.fixture
def story(tmp_path: Path, database_url: str) -> Iterator[Story]:
    smtp = SmtpServer()
    smtp.start()
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="feature-secret-key-0123456789-0123456789-0123",
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        run_background_jobs=False,
    )
    clock = FixedClock(PINNED_NOW)
    app = create_app(settings, clock=clock)
    tomorrow = clock().astimezone(settings.tz).date() + timedelta(days=1)
    try:
        with TestClient(app) as client:
            yield Story(client, smtp, tomorrow)
    finally:
        smtp.stop()


@given(parsers.parse('an administrator "{admin_id}" is logged in'))
def admin_logged_in(story: Story, admin_id: str) -> None:
    story.client.portal.call(  # type: ignore[union-attr]
        lambda: users.create_user(
            story.client.app.state.db,  # type: ignore[attr-defined]
            user_id=admin_id,
            password=DEFAULT_PASSWORD,
            email=f"{admin_id}@example.com",
            first_name="Chief",
            last_name="Admin",
            role=Role.ADMIN,
            now=system_clock(),
        )
    )
    response = story.login(admin_id, DEFAULT_PASSWORD)
    assert response.status_code == 200
    story.admin_headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    story.client.cookies.clear()


@given(parsers.parse('the room "{name}" is open for reservations tomorrow'))
def room_open(story: Story, name: str) -> None:
    db = story.client.app.state.db  # type: ignore[attr-defined]

    async def make() -> int:
        room = await rooms_service.create_room(db, room_name=name, capacity=6, location="3F")
        await rooms_service.open_room(
            db,
            room_id=room.room_id,
            from_date=story.tomorrow,
            to_date=story.tomorrow,
            weekdays=None,
        )
        return room.room_id

    story.rooms[name] = story.client.portal.call(make)  # type: ignore[union-attr]


@when(parsers.parse('"{user_id}" registers with a valid form'))
def registers(story: Story, user_id: str) -> None:
    response = story.client.post(
        "/api/users/register",
        json={
            "user_id": user_id,
            "first_name": user_id.capitalize(),
            "last_name": "Tanaka",
            "email": f"{user_id}@example.com",
            "password": STRONG_PASSWORD,
        },
    )
    assert response.status_code == 201, response.text


@then(parsers.parse('the registration of "{user_id}" is pending'))
def is_pending(story: Story, user_id: str) -> None:
    users = story.client.get("/api/admin/users", headers=story.admin_headers).json()
    assert {u["user_id"]: u["status"] for u in users}[user_id] == "PENDING"


@then(parsers.parse('"{user_id}" cannot log in yet because the registration is pending'))
def cannot_log_in_pending(story: Story, user_id: str) -> None:
    response = story.login(user_id, STRONG_PASSWORD)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "account_pending"


@then(parsers.parse('the administrator sees "{user_id}" among the pending users'))
def sees_pending(story: Story, user_id: str) -> None:
    pending = story.client.get("/api/admin/pending-users", headers=story.admin_headers)
    assert user_id in [u["user_id"] for u in pending.json()]


@when(parsers.parse('the administrator approves "{user_id}"'))
def approves(story: Story, user_id: str) -> None:
    response = story.client.post(f"/api/admin/approve-user/{user_id}", headers=story.admin_headers)
    assert response.status_code == 200, response.text


@when(parsers.parse('the administrator rejects "{user_id}" with the reason "{reason}"'))
def rejects(story: Story, user_id: str, reason: str) -> None:
    response = story.client.post(
        f"/api/admin/reject-user/{user_id}",
        json={"reason": reason},
        headers=story.admin_headers,
    )
    assert response.status_code == 200, response.text


@then(parsers.parse('"{user_id}" can log in'))
def can_log_in(story: Story, user_id: str) -> None:
    response = story.login(user_id, STRONG_PASSWORD)
    assert response.status_code == 200, response.text
    story.user_headers[user_id] = {"Authorization": f"Bearer {response.json()['access_token']}"}
    story.client.cookies.clear()


@then(parsers.parse('"{user_id}" can reserve "{room}" tomorrow from "{start}" to "{end}"'))
def can_reserve(story: Story, user_id: str, room: str, start: str, end: str) -> None:
    response = story.client.post(
        f"/api/rooms/{story.rooms[room]}/reservations",
        json={"date": story.tomorrow.isoformat(), "start_time": start, "end_time": end},
        headers=story.user_headers[user_id],
    )
    assert response.status_code == 201, response.text
    mine = story.client.get("/api/reservations/mine", headers=story.user_headers[user_id])
    assert len(mine.json()) == 1


@then(parsers.parse('"{user_id}" cannot log in because the registration was not approved'))
def cannot_log_in_rejected(story: Story, user_id: str) -> None:
    response = story.login(user_id, STRONG_PASSWORD)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "account_rejected"


@then(parsers.parse('"{user_id}" has received the mails "{first}" and "{second}"'))
def received_mails(story: Story, user_id: str, first: str, second: str) -> None:
    story.deliver_mail()
    assert [m["Subject"] for m in story.smtp.to(f"{user_id}@example.com")] == [first, second]


@then(parsers.parse('the administrator has been told about the registration of "{user_id}"'))
def admin_told(story: Story, user_id: str) -> None:
    story.deliver_mail()
    [mail] = story.smtp.to("chief@example.com")
    assert f"registered as {user_id}" in mail.get_content()
