"""Reservation mail through the invitation job and a real SMTP server: who is told, in
which language, with which parts; every calendar read back by independent readers and
compared with the database; preferences; nothing for a refused change; each change
mailed once, even with two job runners at once (PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update

from mrs.accounts.models import Role, User
from mrs.calendars import invitations
from mrs.calendars.ical import uid_of
from mrs.calendars.models import MailPreference
from mrs.clock import FixedClock
from mrs.db.engine import Database
from mrs.notifications.models import OutboxMail
from mrs.reservations import editing, rules
from mrs.reservations import service as reservations_service
from mrs.reservations.errors import ReservationConflict
from mrs.reservations.models import Reservation, ReservationChange
from mrs.settings import Settings
from mrs.wallclock import wall_instant
from tests.calendars.readers import expanded, header, vobject_starts
from tests.conftest import RoomFactory, UserFactory
from tests.mail import deliver_outbox, parts, run_invitation_job


async def _speaks(app: Any, user_id: str, locale: str) -> None:
    async with app.state.db.transaction() as session:
        await session.execute(update(User).where(User.user_id == user_id).values(locale=locale))


async def _prefers(app: Any, user_id: str, **choices: bool) -> None:
    async with app.state.db.transaction() as session:
        await session.execute(insert(MailPreference).values(user_id=user_id, **choices))


async def _reserve(
    app: Any,
    owner: str,
    room: int,
    day: date,
    start: int,
    end: int,
    now: datetime,
    **meeting: Any,
) -> int:
    db = app.state.db
    answer = await reservations_service.reserve(
        db,
        settings=db.settings,
        user_id=owner,
        room_id=room,
        day=day,
        start_minute=start,
        end_minute=end,
        now=now,
        **meeting,
    )
    return answer.reservation_id


async def _uid(app: Any, reservation_id: int) -> str:
    async with app.state.db.snapshot() as session:
        row = await session.get(Reservation, reservation_id)
        assert row is not None
        return uid_of(row.ical_uid)


async def _count(app: Any, model: Any) -> int:
    async with app.state.db.snapshot() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def _mailed(app: Any) -> dict[str, Any]:
    """Run the job once and deliver the outbox: the messages by recipient (one each)."""
    await run_invitation_job(app)
    messages = await deliver_outbox(app)
    by_recipient = {str(message["To"]): message for message in messages}
    assert len(by_recipient) == len(messages), [str(m["To"]) for m in messages]
    return by_recipient


def _calendar(message: Any) -> str:
    text: str = parts(message)["text/calendar"].get_content()
    return text


def _times(app: Any, day: date, start: int, end: int) -> tuple[datetime, datetime]:
    tz = app.state.db.settings.tz
    return (wall_instant(day, start, tz), wall_instant(day, end, tz))


@pytest.mark.both_databases
async def test_a_booking_invites_the_owner_and_each_attendee_in_their_language(
    app: Any, make_user: UserFactory, make_room: RoomFactory, clock: FixedClock, tomorrow: date
) -> None:
    owner, guest = await make_user("taro"), await make_user("alice")
    await _speaks(app, owner, "ja")
    await _speaks(app, guest, "en")
    room = await make_room("Kaede")
    booked = await _reserve(
        app, owner, room, tomorrow, 600, 660, clock(), title="Plan <Q1>", attendees=[guest]
    )
    assert await _count(app, OutboxMail) == 0  # nothing is written into mail in the request
    mailed = await _mailed(app)
    assert set(mailed) == {"taro@example.com", "alice@example.com"}
    ja, en = mailed["taro@example.com"], mailed["alice@example.com"]
    assert str(ja["Subject"]).startswith("予約しました: Plan <Q1>")
    assert str(en["Subject"]).startswith("Invitation: Plan <Q1>")
    assert "Test Taro invited you to a meeting." in parts(en)["text/plain"].get_content()
    assert "ご予約を承りました。" in parts(ja)["text/plain"].get_content()
    assert "Plan &lt;Q1&gt;" in parts(en)["text/html"].get_content()
    assert "<Q1>" not in parts(en)["text/html"].get_content()
    tz = app.state.db.settings.tz
    start, end = _times(app, tomorrow, 600, 660)
    for message in (ja, en):
        found = parts(message)
        assert set(found) == {"text/plain", "text/html", "text/calendar"}
        assert found["text/calendar"].get_param("method") == "REQUEST"
        calendar = _calendar(message)
        assert header(calendar)["method"] == "REQUEST"
        assert header(calendar)["uid"] == await _uid(app, booked)
        assert "ORGANIZER;CN=MRS:mailto:mrs@localhost" in calendar.replace("\r\n ", "")
        assert expanded(calendar, tz) == [(start, end)]
        assert vobject_starts(calendar, tz) == [start]
    # Mailed once: the next round finds nothing to do.
    assert await _mailed(app) == {}


@pytest.mark.both_databases
async def test_a_moved_meeting_keeps_its_uid_with_a_higher_sequence_and_a_cancel_withdraws_it(
    app: Any, make_user: UserFactory, make_room: RoomFactory, clock: FixedClock, tomorrow: date
) -> None:
    owner = await make_user("taro")
    room = await make_room()
    db = app.state.db
    tz = db.settings.tz
    booked = await _reserve(app, owner, room, tomorrow, 600, 660, clock(), title="Standup")
    first = _calendar((await _mailed(app))["taro@example.com"])
    clock.now += timedelta(minutes=5)
    later = tomorrow + timedelta(days=1)
    await editing.edit(
        db,
        settings=db.settings,
        actor=rules.Actor(owner, is_admin=False),
        reservation_id=booked,
        change=editing.Change(day=later, start_minute=900, end_minute=960),
        now=clock(),
    )
    moved_mail = (await _mailed(app))["taro@example.com"]
    moved = _calendar(moved_mail)
    assert str(moved_mail["Subject"]).endswith("was changed")
    assert header(moved)["uid"] == header(first)["uid"] == await _uid(app, booked)
    assert int(header(moved)["sequence"]) > int(header(first)["sequence"])
    assert expanded(moved, tz) == [_times(app, later, 900, 960)]
    assert vobject_starts(moved, tz) == [_times(app, later, 900, 960)[0]]
    await editing.cancel(
        db,
        settings=db.settings,
        actor=rules.Actor(owner, is_admin=False),
        reservation_id=booked,
        now=clock(),
    )
    cancel_mail = (await _mailed(app))["taro@example.com"]
    cancelled = _calendar(cancel_mail)
    assert parts(cancel_mail)["text/calendar"].get_param("method") == "CANCEL"
    assert header(cancelled)["method"] == "CANCEL"
    assert header(cancelled)["status"] == "CANCELLED"
    assert header(cancelled)["uid"] == header(first)["uid"]
    assert int(header(cancelled)["sequence"]) > int(header(moved)["sequence"])
    assert expanded(cancelled, tz) == []
    assert vobject_starts(cancelled, tz) == []


@pytest.mark.both_databases
async def test_an_admin_cancel_tells_the_owner_the_reason_even_with_own_mail_off(
    app: Any, make_user: UserFactory, make_room: RoomFactory, clock: FixedClock, tomorrow: date
) -> None:
    owner, guest = await make_user("taro"), await make_user("alice")
    admin = await make_user("boss", role=Role.ADMIN)
    await _prefers(app, owner, own_bookings=False)
    await _speaks(app, owner, "ja")
    room = await make_room("Kaede")
    booked = await _reserve(app, owner, room, tomorrow, 600, 660, clock(), attendees=[guest])
    assert set(await _mailed(app)) == {"alice@example.com"}  # the owner turned theirs off
    db = app.state.db
    await editing.cancel(
        db,
        settings=db.settings,
        actor=rules.Actor(admin, is_admin=True),
        reservation_id=booked,
        now=clock(),
        reason="Fire drill <now>",
    )
    mailed = await _mailed(app)
    assert set(mailed) == {"taro@example.com", "alice@example.com"}
    owner_mail, guest_mail = mailed["taro@example.com"], mailed["alice@example.com"]
    assert str(owner_mail["Subject"]).startswith("Kaede")
    assert "取り消されました" in str(owner_mail["Subject"])
    text = parts(owner_mail)["text/plain"].get_content()
    assert "管理者（Boss Test）がご予約を取り消しました。" in text
    assert "理由: Fire drill <now>" in text
    assert "10:00–11:00" in text
    assert "Fire drill &lt;now&gt;" in parts(owner_mail)["text/html"].get_content()
    assert "Fire drill" not in parts(guest_mail)["text/plain"].get_content()
    for message in (owner_mail, guest_mail):
        assert parts(message)["text/calendar"].get_param("method") == "CANCEL"
        assert header(_calendar(message))["uid"] == await _uid(app, booked)


@pytest.mark.both_databases
async def test_an_attendee_taken_off_gets_a_cancel_and_the_others_the_new_list(
    app: Any, make_user: UserFactory, make_room: RoomFactory, clock: FixedClock, tomorrow: date
) -> None:
    owner, staying, leaving = (
        await make_user("taro"),
        await make_user("alice"),
        await make_user("bob"),
    )
    room = await make_room()
    booked = await _reserve(
        app, owner, room, tomorrow, 600, 660, clock(), title="Review", attendees=[staying, leaving]
    )
    assert set(await _mailed(app)) == {f"{who}@example.com" for who in ("taro", "alice", "bob")}
    db = app.state.db
    await editing.edit(
        db,
        settings=db.settings,
        actor=rules.Actor(owner, is_admin=False),
        reservation_id=booked,
        change=editing.Change(attendees=[staying]),
        now=clock(),
    )
    mailed = await _mailed(app)
    assert set(mailed) == {f"{who}@example.com" for who in ("taro", "alice", "bob")}
    gone = _calendar(mailed["bob@example.com"])
    assert header(gone)["method"] == "CANCEL"
    assert header(gone)["uid"] == await _uid(app, booked)
    assert "mailto:bob@example.com" in gone.replace("\r\n ", "")
    assert "took you off" in parts(mailed["bob@example.com"])["text/plain"].get_content()
    for who in ("taro", "alice"):
        calendar = _calendar(mailed[f"{who}@example.com"]).replace("\r\n ", "")
        assert header(calendar)["method"] == "REQUEST"
        assert "mailto:alice@example.com" in calendar
        assert "mailto:bob@example.com" not in calendar
        assert expanded(calendar, db.settings.tz) == [_times(app, tomorrow, 600, 660)]


@pytest.mark.both_databases
async def test_an_attendee_who_turned_invitations_off_gets_none(
    app: Any, make_user: UserFactory, make_room: RoomFactory, clock: FixedClock, tomorrow: date
) -> None:
    owner, quiet, keen = await make_user("taro"), await make_user("alice"), await make_user("bob")
    await _prefers(app, quiet, invitations=False)
    await _prefers(app, keen, invitations=True, own_bookings=False)
    room = await make_room()
    await _reserve(app, owner, room, tomorrow, 600, 660, clock(), attendees=[quiet, keen])
    assert set(await _mailed(app)) == {"taro@example.com", "bob@example.com"}


@pytest.mark.both_databases
async def test_a_refused_booking_or_move_records_nothing_and_mails_nothing(
    app: Any, make_user: UserFactory, make_room: RoomFactory, clock: FixedClock, tomorrow: date
) -> None:
    owner, other = await make_user("taro"), await make_user("alice")
    room = await make_room()
    await _reserve(app, owner, room, tomorrow, 600, 660, clock())
    later = await _reserve(app, other, room, tomorrow, 720, 780, clock())
    await _mailed(app)
    changes_before = await _count(app, ReservationChange)
    with pytest.raises(ReservationConflict):
        await _reserve(app, other, room, tomorrow, 630, 690, clock())
    with pytest.raises(ReservationConflict):
        await _reserve(app, other, room, tomorrow, 630, 690, clock(), idempotency_key="k-1")
    db = app.state.db
    with pytest.raises(ReservationConflict):
        await editing.edit(
            db,
            settings=db.settings,
            actor=rules.Actor(other, is_admin=False),
            reservation_id=later,
            change=editing.Change(start_minute=600, end_minute=660),
            now=clock(),
        )
    assert await _count(app, ReservationChange) == changes_before
    assert await _mailed(app) == {}


async def test_two_job_runners_at_once_mail_every_change_exactly_once(
    app: Any,
    settings: Settings,
    make_user: UserFactory,
    make_room: RoomFactory,
    clock: FixedClock,
    tomorrow: date,
) -> None:
    """PostgreSQL: two processes' rounds (two pools) claim with SKIP LOCKED."""
    db = app.state.db
    assert db.dialect == "postgresql"
    # Each person gets at most 10 (the outbox caps 20 an hour per recipient).
    guests = [await make_user(f"guest{index}") for index in range(4)]
    owners = [await make_user(f"owner{index}") for index in range(4)]
    rooms = [await make_room() for _ in range(5)]
    for index in range(40):
        await _reserve(
            app,
            owners[index % 4],
            rooms[index % 5],
            tomorrow + timedelta(days=index // 20),
            480 + 30 * (index // 5 % 4),
            480 + 30 * (index // 5 % 4) + 30,
            clock(),
            title=f"Meeting {index}",
            attendees=[guests[index // 10]],
        )
    second = Database(settings)
    rounds = [0, 0]

    async def drain(database: Database, which: int) -> None:
        for _ in range(200):
            claimed = await invitations.send_pending(database, settings, now=clock(), limit=3)
            rounds[which] += claimed
            if claimed == 0:
                return
            await asyncio.sleep(0)

    try:
        await asyncio.gather(drain(db, 0), drain(second, 1))
    finally:
        await second.dispose()
    assert sum(rounds) == 40
    assert min(rounds) > 0, rounds  # both runners took part
    async with db.snapshot() as session:
        mails = (await session.execute(select(OutboxMail.recipient, OutboxMail.subject))).all()
        pending = await session.scalar(
            select(func.count()).where(ReservationChange.notified_at.is_(None))
        )
    assert pending == 0
    assert len(mails) == 80  # the owner and the guest, for each of the 40
    assert len(set(mails)) == 80


@pytest.mark.both_databases
async def test_a_change_that_cannot_be_mailed_is_skipped_and_holds_up_no_other(
    app: Any,
    make_user: UserFactory,
    make_room: RoomFactory,
    tomorrow: date,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner = await make_user()
    room = await make_room(days=2)
    broken = await _reserve(app, owner, room, tomorrow, 600, 660, clock())
    fine = await _reserve(app, owner, room, tomorrow, 720, 780, clock())
    render = invitations._mail_change

    async def failing_for_one(session: Any, settings: Any, change: Any, *, now: Any) -> None:
        # Stands in for a bug in rendering one particular change.
        if change.reservation_id == broken:
            raise ValueError("cannot render this one")
        await render(session, settings, change, now=now)

    monkeypatch.setattr(invitations, "_mail_change", failing_for_one)
    skipped_before = invitations.SKIPPED._value.get()
    messages = await _mailed(app)

    assert list(messages) == [f"{owner}@example.com"]
    assert await _uid(app, fine) in _calendar(messages[f"{owner}@example.com"])
    async with app.state.db.snapshot() as session:
        pending = await session.scalar(
            select(func.count())
            .select_from(ReservationChange)
            .where(ReservationChange.notified_at.is_(None))
        )
    assert pending == 0
    assert invitations.SKIPPED._value.get() == skipped_before + 1


@pytest.mark.both_databases
async def test_edits_in_a_row_are_mailed_once_with_the_meeting_as_it_is_now(
    app: Any, make_user: UserFactory, make_room: RoomFactory, clock: FixedClock, tomorrow: date
) -> None:
    owner = await make_user()
    room = await make_room()
    db = app.state.db
    booked = await _reserve(app, owner, room, tomorrow, 600, 660, clock(), title="Standup")
    await _mailed(app)
    for start in (720, 780, 840):
        clock.now += timedelta(minutes=1)
        await editing.edit(
            db,
            settings=db.settings,
            actor=rules.Actor(owner, is_admin=False),
            reservation_id=booked,
            change=editing.Change(start_minute=start, end_minute=start + 30),
            now=clock(),
        )
    await run_invitation_job(app)
    messages = await deliver_outbox(app)
    assert len(messages) == 1
    assert expanded(_calendar(messages[0]), db.settings.tz) == [_times(app, tomorrow, 840, 870)]


@pytest.mark.both_databases
async def test_invitations_have_their_own_cap_above_the_registration_mail_cap(
    app: Any, make_user: UserFactory, make_room: RoomFactory, clock: FixedClock, tomorrow: date
) -> None:
    owner = await make_user()
    room = await make_room()
    cap = app.state.db.settings.mail_max_per_recipient
    # One more booking than the cap of other mail: every invitation is still queued.
    for index in range(cap + 1):
        start = 8 * 60 + index * 30
        await _reserve(app, owner, room, tomorrow, start, start + 30, clock())
    await run_invitation_job(app)
    async with app.state.db.snapshot() as session:
        queued = await session.scalar(
            select(func.count())
            .select_from(OutboxMail)
            .where(OutboxMail.recipient == f"{owner}@example.com")
        )
    assert queued == cap + 1
