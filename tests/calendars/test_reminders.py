"""Reminders: who gets one, exactly when, once, in their language (PostgreSQL and SQLite).

The job is driven through the app's runner with the app's clock pinned and moved.
"""

from __future__ import annotations

import string
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import func, select, update

from mrs.accounts import users
from mrs.accounts.models import User
from mrs.calendars import preferences, reminder_texts, reminders
from mrs.calendars.models import ReminderSent
from mrs.clock import FixedClock
from mrs.i18n import _catalog
from mrs.notifications import service as notifications_service
from mrs.notifications.models import OutboxMail
from mrs.settings import Settings
from tests.conftest import DEFAULT_PASSWORD, PINNED_NOW, TOKYO, LoginFactory, RoomFactory
from tests.mail import SmtpReceiver

pytestmark = pytest.mark.both_databases

# --- the rule, without a database ---


def test_exactly_n_minutes_before_is_due_and_one_more_is_not_yet() -> None:
    start = datetime(2030, 1, 7, 1, 0, tzinfo=UTC)
    assert reminders.reminder_due(start, start - timedelta(minutes=15), 15)
    assert not reminders.reminder_due(start, start - timedelta(minutes=16), 15)
    assert not reminders.reminder_due(start, start - timedelta(minutes=15, seconds=1), 15)
    assert reminders.reminder_due(start, start - timedelta(seconds=1), 15)
    assert not reminders.reminder_due(start, start, 15)  # started: too late
    assert not reminders.reminder_due(start, start + timedelta(minutes=1), 15)


def test_the_search_covers_the_next_hour_across_midnight() -> None:
    late = datetime(2030, 1, 7, 23, 30, tzinfo=TOKYO)
    assert reminders.search_windows(late, TOKYO) == [
        (date(2030, 1, 7), 23 * 60 + 30, 23 * 60 + 59),
        (date(2030, 1, 8), 0, 30),
    ]
    morning = datetime(2030, 1, 7, 9, 0, 30, tzinfo=TOKYO)
    assert reminders.search_windows(morning, TOKYO) == [(date(2030, 1, 7), 9 * 60 + 1, 10 * 60 + 1)]


def test_the_search_uses_real_time_on_a_clock_change() -> None:
    new_york = ZoneInfo("America/New_York")
    # 01:30 EST on the spring-forward day: an hour later it is 03:30 EDT.
    now = datetime(2030, 3, 10, 6, 30, tzinfo=UTC)
    [(day, first, last)] = reminders.search_windows(now, new_york)
    assert (day, first) == (date(2030, 3, 10), 90)
    assert last >= 3 * 60 + 30


def test_every_reminder_text_has_a_japanese_translation_with_its_fields() -> None:
    catalog = _catalog("ja")
    for msgid in reminder_texts.MSGIDS:
        assert msgid in catalog, msgid
        fields = {name for _, name, _, _ in string.Formatter().parse(msgid) if name}
        assert fields == {
            name for _, name, _, _ in string.Formatter().parse(catalog[msgid]) if name
        }


def test_links_in_mail_use_the_public_url_else_the_servers_own_address(tmp_path: Path) -> None:
    base = {"data_dir": tmp_path, "secret_key": "x" * 40}
    assert Settings(**base, public_url=" https://rooms.example.com/ ").site_url == (
        "https://rooms.example.com"
    )
    assert Settings(**base, host="10.0.0.5", port=8001).site_url == "http://10.0.0.5:8001"
    assert Settings(**base, https=True, https_port=9443).site_url == "https://127.0.0.1:9443"
    for wrong in ("rooms.example.com", "ftp://rooms.example.com", "https://", "https://a b"):
        with pytest.raises(ValidationError):
            Settings(**base, public_url=wrong)


# --- the job, on a database ---

START = PINNED_NOW.replace(hour=10)  # the meetings below start at 10:00 Tokyo


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """The shared test settings, with the public address links in mail are made from."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-secret-key-0123456789-0123456789-0123456789",
        public_url="https://rooms.example.com/",
    )


People = Callable[..., Awaitable[dict[str, dict[str, str]]]]


@pytest.fixture
def people(app: Any, clock: FixedClock, login: LoginFactory) -> People:
    """Create users from (user id, language, reminder minutes); returns their API headers."""

    async def create(*specs: tuple[str, str | None, int | None]) -> dict[str, dict[str, str]]:
        headers = {}
        for user_id, locale, minutes in specs:
            await users.create_user(
                app.state.db,
                user_id=user_id,
                password=DEFAULT_PASSWORD,
                email=f"{user_id}@example.com",
                first_name=user_id.capitalize(),
                last_name="Test",
                now=clock(),
                locale=locale,
            )
            await preferences.save_preferences(
                app.state.db,
                user_id=user_id,
                own_bookings=True,
                invitations=True,
                reminder_minutes=minutes,
            )
            headers[user_id] = await login(user_id)
        return headers

    return create


async def _reserve(
    client: httpx.AsyncClient,
    room: int,
    headers: dict[str, str],
    start: str = "10:00",
    end: str = "11:00",
    **meeting: Any,
) -> int:
    response = await client.post(
        f"/api/rooms/{room}/reservations",
        json={
            "date": PINNED_NOW.date().isoformat(),
            "start_time": start,
            "end_time": end,
            **meeting,
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["reservation_id"])


async def _run_at(app: Any, clock: FixedClock, moment: datetime) -> None:
    clock.now = moment
    await app.state.background.run_once(reminders.JOB_NAME)
    state = next(s for s in app.state.background.states() if s.name == reminders.JOB_NAME)
    assert state.last_error is None


async def _outbox(app: Any) -> list[OutboxMail]:
    async with app.state.db.snapshot() as session:
        return list((await session.scalars(select(OutboxMail).order_by(OutboxMail.mail_id))).all())


async def _recipients(app: Any) -> list[str]:
    return [mail.recipient for mail in await _outbox(app)]


async def test_a_reminder_goes_exactly_n_minutes_before_and_once(
    app: Any, client: httpx.AsyncClient, clock: FixedClock, people: People, make_room: RoomFactory
) -> None:
    who = await people(("taro", "en", 15))
    room = await make_room("Sakura")
    rid = await _reserve(client, room, who["taro"], title="Budget review")
    await _run_at(app, clock, START - timedelta(minutes=16))
    assert await _recipients(app) == []  # N+1 minutes before: not yet
    await _run_at(app, clock, START - timedelta(minutes=15))
    assert await _recipients(app) == ["taro@example.com"]
    [mail] = await _outbox(app)
    assert mail.subject == "Reminder: Budget review at 10:00"
    assert "Sakura" in mail.body
    assert "10:00–11:00" in mail.body
    assert f"/reservations/{rid}" in mail.body
    assert mail.html_body is not None
    assert f"/reservations/{rid}" in mail.html_body
    for minutes_before in (10, 1):  # later rounds before the start: never again
        await _run_at(app, clock, START - timedelta(minutes=minutes_before))
    assert await _recipients(app) == ["taro@example.com"]


async def test_cancelled_and_started_meetings_are_never_reminded(
    app: Any, client: httpx.AsyncClient, clock: FixedClock, people: People, make_room: RoomFactory
) -> None:
    who = await people(("taro", "en", 60))
    room = await make_room()
    cancelled = await _reserve(client, room, who["taro"], "10:00", "10:30")
    assert (
        await client.delete(f"/api/reservations/{cancelled}", headers=who["taro"])
    ).status_code == 204
    await _reserve(client, room, who["taro"], "10:30", "11:00")
    # The job was down until the 10:30 meeting had started: no late reminder for it.
    await _run_at(app, clock, START + timedelta(minutes=30))
    await _run_at(app, clock, START + timedelta(minutes=45))
    assert await _recipients(app) == []


async def test_a_job_that_was_down_catches_up_for_meetings_not_yet_started(
    app: Any, client: httpx.AsyncClient, clock: FixedClock, people: People, make_room: RoomFactory
) -> None:
    who = await people(("taro", "en", 30))
    room = await make_room()
    await _reserve(client, room, who["taro"], "10:00", "10:30")
    await _run_at(app, clock, START - timedelta(minutes=5))  # 25 minutes late
    assert await _recipients(app) == ["taro@example.com"]


async def test_a_moved_meeting_is_reminded_again_for_its_new_start(
    app: Any, client: httpx.AsyncClient, clock: FixedClock, people: People, make_room: RoomFactory
) -> None:
    who = await people(("taro", "en", 10))
    room = await make_room()
    rid = await _reserve(client, room, who["taro"], "10:00", "10:30")
    await _run_at(app, clock, START - timedelta(minutes=10))
    assert len(await _recipients(app)) == 1
    moved = await client.patch(
        f"/api/reservations/{rid}",
        json={"start_time": "11:00", "end_time": "11:30"},
        headers=who["taro"],
    )
    assert moved.status_code == 200, moved.text
    await _run_at(app, clock, START + timedelta(minutes=49))  # 11 minutes before 11:00
    assert len(await _recipients(app)) == 1
    await _run_at(app, clock, START + timedelta(minutes=50))
    assert len(await _recipients(app)) == 2
    assert "11:00" in (await _outbox(app))[-1].subject


async def test_attendees_are_reminded_by_their_own_preference_in_their_language(
    app: Any, client: httpx.AsyncClient, clock: FixedClock, people: People, make_room: RoomFactory
) -> None:
    who = await people(
        ("taro", "ja", 10),  # the owner, Japanese
        ("hanako", "en", 60),  # an attendee, English, an hour ahead
        ("ken", None, None),  # an attendee without a reminder
    )
    room = await make_room("Sakura")
    await _reserve(client, room, who["taro"], title="定例会議", attendees=["hanako", "ken"])
    await _run_at(app, clock, START - timedelta(minutes=60))
    assert await _recipients(app) == ["hanako@example.com"]
    await _run_at(app, clock, START - timedelta(minutes=10))
    outbox = await _outbox(app)
    assert [mail.recipient for mail in outbox] == ["hanako@example.com", "taro@example.com"]
    hanako, taro = outbox
    assert hanako.subject == "Reminder: 定例会議 at 10:00"
    assert "60 minutes" in hanako.body
    assert taro.subject == "リマインダー: 10:00 から「定例会議」"
    assert "2030年1月7日(月)" in taro.body
    assert "10 分前" in taro.body


async def test_an_untitled_meeting_is_named_after_its_owner(
    app: Any, client: httpx.AsyncClient, clock: FixedClock, people: People, make_room: RoomFactory
) -> None:
    who = await people(("taro", "en", 10))
    room = await make_room()
    await _reserve(client, room, who["taro"])
    await _run_at(app, clock, START - timedelta(minutes=10))
    [mail] = await _outbox(app)
    assert mail.subject == "Reminder: Taro Test at 10:00"


async def test_a_disabled_user_gets_no_reminder(
    app: Any, client: httpx.AsyncClient, clock: FixedClock, people: People, make_room: RoomFactory
) -> None:
    who = await people(("taro", "en", 10), ("hanako", "en", 10))
    room = await make_room()
    await _reserve(client, room, who["taro"], attendees=["hanako"])
    async with app.state.db.transaction() as session:
        await session.execute(
            update(User).where(User.user_id == "hanako").values(status="DISABLED")
        )
    await _run_at(app, clock, START - timedelta(minutes=10))
    assert await _recipients(app) == ["taro@example.com"]


async def test_the_reminder_arrives_over_smtp_with_text_and_html(
    app: Any,
    client: httpx.AsyncClient,
    clock: FixedClock,
    people: People,
    make_room: RoomFactory,
    settings: Settings,
) -> None:
    who = await people(("taro", "ja", 15))
    room = await make_room("Sakura <b>")
    rid = await _reserve(client, room, who["taro"], title="Plan & <review>")
    await _run_at(app, clock, START - timedelta(minutes=15))
    receiver = SmtpReceiver()
    receiver._controller.start()
    try:
        with_smtp = settings.model_copy(
            update={"smtp_host": "127.0.0.1", "smtp_port": receiver.port, "smtp_timeout_seconds": 5}
        )
        report = await notifications_service.deliver_due(
            app.state.db, with_smtp, now=datetime.now(UTC) + timedelta(seconds=1)
        )
    finally:
        receiver._controller.stop()
    assert report.sent == 1
    [message] = receiver.messages
    assert message["To"] == "taro@example.com"
    assert message["Subject"] == "リマインダー: 10:00 から「Plan & <review>」"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "会議「Plan & <review>」が 10:00 に始まります。" in text
    assert f"/reservations/{rid}" in text
    # People type titles and room names: the HTML shows them, never runs them.
    assert "Plan &amp; &lt;review&gt;" in html
    assert "<review>" not in html
    assert "Sakura &lt;b&gt;" in html
    assert f'href="https://rooms.example.com/reservations/{rid}"' in html
    assert "https://rooms.example.com/account/mail" in text
    assert 'lang="ja"' in html


async def test_old_records_of_sent_reminders_are_pruned(
    app: Any, client: httpx.AsyncClient, clock: FixedClock, people: People, make_room: RoomFactory
) -> None:
    who = await people(("taro", "en", 10))
    await _reserve(client, await make_room(), who["taro"])
    await _run_at(app, clock, START - timedelta(minutes=10))

    async def kept() -> int:
        async with app.state.db.snapshot() as session:
            return int(await session.scalar(select(func.count()).select_from(ReminderSent)) or 0)

    assert await kept() == 1
    await _run_at(app, clock, START - timedelta(minutes=10) + timedelta(days=2))
    assert await kept() == 1  # exactly two days: kept
    await _run_at(app, clock, START - timedelta(minutes=9) + timedelta(days=2))
    assert await kept() == 0
