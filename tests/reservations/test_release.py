"""The auto-release job, on PostgreSQL and SQLite: it releases the bookings nobody checked
in to by start + grace and nothing else, the slot can be booked again, and each release
is audited and mailed once (in the owner's language, with a calendar CANCEL) however
often or however many runners run it; a check-in racing the job wins or loses, never both."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from mrs.accounts.models import User
from mrs.app import create_app
from mrs.audit.models import AuditEntry
from mrs.clock import FixedClock
from mrs.db.engine import Database
from mrs.reservations import checkin, release, rules
from mrs.reservations.errors import CheckinReleased
from mrs.reservations.models import Reservation, ReservationStatus
from mrs.settings import Settings
from tests.conftest import LoginFactory, RoomFactory, UserFactory
from tests.mail import deliver_outbox, parts, run_invitation_job
from tests.reservations.checkin_support import GRACE, book, require_checkin, set_wall

pytestmark = pytest.mark.both_databases

START = 10 * 60


async def _status(app: Any, reservation_id: int) -> tuple[str, Any]:
    async with app.state.db.snapshot() as session:
        row = await session.get(Reservation, reservation_id)
        assert row is not None
        return row.status, row.released_at


async def _released_audits(app: Any) -> dict[str, int]:
    async with app.state.db.snapshot() as session:
        rows = (
            await session.execute(
                select(AuditEntry.subject_id, func.count())
                .where(AuditEntry.action == release.RELEASED_ACTION)
                .group_by(AuditEntry.subject_id)
            )
        ).all()
    return {subject: int(count) for subject, count in rows}


async def _run(app: Any, clock: FixedClock) -> list[int]:
    db = app.state.db
    return await release.release_no_shows(db, settings=db.settings, now=clock())


async def test_the_job_releases_no_shows_only(
    app: Any, make_user: UserFactory, make_room: RoomFactory, clock: FixedClock, tomorrow: date
) -> None:
    owner = await make_user()
    strict, relaxed, plain = await make_room(), await make_room(), await make_room()
    await require_checkin(app, strict)
    await require_checkin(app, relaxed, grace=None)  # the site default: 15 minutes too
    no_show = await book(app, clock, owner, strict, tomorrow, START, START + 60)
    came = await book(app, clock, owner, strict, tomorrow, START + 60, START + 120)
    later = await book(app, clock, owner, strict, tomorrow, START + 30 * 4, START + 30 * 5)
    default_grace = await book(app, clock, owner, relaxed, tomorrow, START, START + 60)
    no_policy = await book(app, clock, owner, plain, tomorrow, START, START + 60)
    db = app.state.db
    set_wall(app, clock, tomorrow, START + 55)
    await checkin.check_in(
        db,
        settings=db.settings,
        actor=rules.Actor(user_id=owner, is_admin=False),
        reservation_id=came,
        now=clock(),
    )
    # At start + grace exactly nothing is released yet.
    set_wall(app, clock, tomorrow, START + GRACE)
    assert await _run(app, clock) == []
    set_wall(app, clock, tomorrow, START + 60 + GRACE, seconds=30)
    assert await _run(app, clock) == sorted([no_show, default_grace])
    status, released_at = await _status(app, no_show)
    assert status == ReservationStatus.RELEASED
    assert released_at == clock()
    for kept in (came, later, no_policy):
        assert (await _status(app, kept))[0] == ReservationStatus.ACTIVE
    # The later meeting goes once its own deadline passes.
    set_wall(app, clock, tomorrow, START + 120 + GRACE + 1)
    assert await _run(app, clock) == [later]
    assert (await _status(app, came))[0] == ReservationStatus.ACTIVE


async def test_a_released_slot_can_be_booked_again(
    app: Any,
    client: httpx.AsyncClient,
    login: LoginFactory,
    make_user: UserFactory,
    make_room: RoomFactory,
    clock: FixedClock,
    tomorrow: date,
) -> None:
    owner, other = await make_user(), await make_user()
    room = await make_room()
    await require_checkin(app, room)
    await book(app, clock, owner, room, tomorrow, START, START + 120)
    set_wall(app, clock, tomorrow, START + GRACE + 1)
    body = {"date": tomorrow.isoformat(), "start_time": "10:30", "end_time": "11:30"}
    headers = await login(other)
    taken = await client.post(f"/api/rooms/{room}/reservations", json=body, headers=headers)
    assert taken.status_code == 409, taken.text
    await _run(app, clock)
    again = await client.post(f"/api/rooms/{room}/reservations", json=body, headers=headers)
    assert again.status_code == 201, again.text


async def test_each_release_is_audited_and_mailed_once_in_the_owners_language(
    app: Any, make_user: UserFactory, make_room: RoomFactory, clock: FixedClock, tomorrow: date
) -> None:
    taro, alice = await make_user("taro"), await make_user("alice")
    async with app.state.db.transaction() as session:
        await session.execute(update(User).where(User.user_id == taro).values(locale="ja"))
    room = await make_room("Kaede")
    await require_checkin(app, room)
    first = await book(app, clock, taro, room, tomorrow, START, START + 60)
    second = await book(app, clock, alice, room, tomorrow, START + 60, START + 120)
    await run_invitation_job(app)
    await deliver_outbox(app)  # the booking mail, out of the way
    set_wall(app, clock, tomorrow, START + 60 + GRACE + 1)
    assert await _run(app, clock) == [first, second]
    assert await _run(app, clock) == []  # a second round finds nothing to do
    assert await _released_audits(app) == {str(first): 1, str(second): 1}
    async with app.state.db.snapshot() as session:
        audit = await session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == release.RELEASED_ACTION,
                AuditEntry.subject_id == str(first),
            )
        )
    assert audit is not None
    assert audit.actor_id is None  # the system
    await run_invitation_job(app)
    await run_invitation_job(app)
    messages = await deliver_outbox(app)
    by_recipient = {str(message["To"]): message for message in messages}
    assert sorted(by_recipient) == ["alice@example.com", "taro@example.com"]
    assert len(messages) == 2
    ja, en = by_recipient["taro@example.com"], by_recipient["alice@example.com"]
    assert "解放" in str(ja["Subject"])
    assert "チェックインがなかった" in parts(ja)["text/plain"].get_content()
    assert "released" in str(en["Subject"])
    for message in (ja, en):
        calendar = parts(message)["text/calendar"].get_content()
        assert "METHOD:CANCEL" in calendar
        assert "STATUS:CANCELLED" in calendar


async def test_two_runners_at_once_release_each_no_show_once_and_never_a_checked_in_one(
    app: Any,
    make_user: UserFactory,
    make_room: RoomFactory,
    clock: FixedClock,
    tomorrow: date,
) -> None:
    owner = await make_user()
    rooms = [await make_room() for _ in range(3)]
    booked: list[int] = []
    for room in rooms:
        await require_checkin(app, room)
        for hour in range(6):
            start = START + 60 * hour
            booked.append(await book(app, clock, owner, room, tomorrow, start, start + 30))
    came = booked[::4]
    db = app.state.db
    for reservation_id in came:
        async with db.transaction() as session:
            await session.execute(
                update(Reservation)
                .where(Reservation.reservation_id == reservation_id)
                .values(checked_in_at=clock(), checked_in_by=owner)
            )
    set_wall(app, clock, tomorrow, 20 * 60)
    # Two runners, each with its own engine and pool, as two processes would have.
    runners = [Database(db.settings), Database(db.settings)]
    try:
        results = await asyncio.gather(
            *(
                release.release_no_shows(runner, settings=db.settings, now=clock())
                for runner in runners
            )
        )
    finally:
        for runner in runners:
            await runner.dispose()
    released = [each for result in results for each in result]
    assert sorted(released) == sorted(set(booked) - set(came))  # each once, none twice
    assert await _released_audits(app) == {str(each): 1 for each in released}
    for reservation_id in came:
        assert (await _status(app, reservation_id))[0] == ReservationStatus.ACTIVE


async def test_a_check_in_racing_the_release_either_wins_or_loses(
    app: Any, make_user: UserFactory, make_room: RoomFactory, clock: FixedClock, tomorrow: date
) -> None:
    """At a deadline both may act on (the job's view a moment old): exactly one changes
    the row, and the loser is told so (a 409), never both."""
    owner = await make_user()
    room = await make_room()
    await require_checkin(app, room)
    db = app.state.db
    bookings = [
        await book(app, clock, owner, room, tomorrow, START + 30 * n, START + 30 * n + 30)
        for n in range(6)
    ]
    for reservation_id in bookings:
        start = START + 30 * bookings.index(reservation_id)
        set_wall(app, clock, tomorrow, start + GRACE)
        at_deadline = clock()
        runner = Database(db.settings)
        try:
            outcome = await asyncio.gather(
                release.release_batch(runner, {reservation_id: 1}, now=at_deadline),
                checkin.check_in(
                    db,
                    settings=db.settings,
                    actor=rules.Actor(user_id=owner, is_admin=False),
                    reservation_id=reservation_id,
                    now=at_deadline,
                ),
                return_exceptions=True,
            )
        finally:
            await runner.dispose()
        released, checked = outcome
        assert not isinstance(released, BaseException), released
        status, _ = await _status(app, reservation_id)
        if released:
            assert isinstance(checked, CheckinReleased)
            assert status == ReservationStatus.RELEASED
        else:
            assert isinstance(checked, checkin.CheckinState), checked
            assert status == ReservationStatus.ACTIVE
    audits = await _released_audits(app)
    assert all(count == 1 for count in audits.values())


async def test_a_released_booking_can_no_longer_be_changed_or_cancelled(
    app: Any,
    client: httpx.AsyncClient,
    login: LoginFactory,
    make_user: UserFactory,
    make_room: RoomFactory,
    clock: FixedClock,
    tomorrow: date,
) -> None:
    owner = await make_user()
    room = await make_room()
    await require_checkin(app, room)
    booked = await book(app, clock, owner, room, tomorrow, START, START + 120)
    set_wall(app, clock, tomorrow, START + GRACE + 1)
    assert await _run(app, clock) == [booked]
    headers = {**await login(owner), "Accept-Language": "en"}
    cancel = await client.delete(f"/api/reservations/{booked}", headers=headers)
    edit = await client.patch(f"/api/reservations/{booked}", json={"title": "x"}, headers=headers)
    for refused in (cancel, edit):
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["code"] == "reservation_released"
    assert (await _status(app, booked))[0] == ReservationStatus.RELEASED


async def test_a_booking_moved_after_the_job_read_it_is_left_for_the_next_round(
    app: Any, make_user: UserFactory, make_room: RoomFactory, clock: FixedClock, tomorrow: date
) -> None:
    owner = await make_user()
    room = await make_room()
    await require_checkin(app, room)
    booked = await book(app, clock, owner, room, tomorrow, START, START + 60)
    db = app.state.db
    set_wall(app, clock, tomorrow, START + GRACE + 1)
    found = await release.overdue(db, settings=db.settings, now=clock())
    assert found == {booked: 1}
    # An administrator moves it to the evening before the job writes.
    async with db.transaction() as session:
        await session.execute(
            update(Reservation)
            .where(Reservation.reservation_id == booked)
            .values(start_minute=18 * 60, end_minute=19 * 60, version=Reservation.version + 1)
        )
    assert await release.release_batch(db, found, now=clock()) == []
    assert (await _status(app, booked))[0] == ReservationStatus.ACTIVE
    assert await _run(app, clock) == []  # its new deadline (18:15) has not passed


async def test_two_apps_runners_through_the_leader_lock_release_and_mail_each_once(
    app: Any,
    settings: Settings,
    make_user: UserFactory,
    make_room: RoomFactory,
    clock: FixedClock,
    tomorrow: date,
) -> None:
    """Two apps on one database (two processes' runners and pools) run the job's rounds
    at the same moments, minute by minute: each no-show is released, audited and mailed
    once; a checked-in meeting never."""
    owner = await make_user()
    room = await make_room()
    await require_checkin(app, room)
    booked = [
        await book(app, clock, owner, room, tomorrow, START + 60 * n, START + 60 * n + 30)
        for n in range(4)
    ]
    came = booked[1]
    other_clock = FixedClock(clock())
    other = create_app(settings, clock=other_clock)
    try:
        for minute in range(START - 10, START + 3 * 60 + GRACE + 3):
            set_wall(app, clock, tomorrow, minute)
            other_clock.now = clock()
            if minute == START + 60 + 5:
                await checkin.check_in(
                    app.state.db,
                    settings=settings,
                    actor=rules.Actor(user_id=owner, is_admin=False),
                    reservation_id=came,
                    now=clock(),
                )
            await asyncio.gather(
                app.state.background.run_once(release.JOB_NAME),
                other.state.background.run_once(release.JOB_NAME),
            )
        states = [
            next(s for s in runner.state.background.states() if s.name == release.JOB_NAME)
            for runner in (app, other)
        ]
    finally:
        await other.state.db.dispose()
    assert [s.last_error for s in states] == [None, None]
    assert all(s.leader_lock == release.JOB_NAME for s in states)
    no_shows = [each for each in booked if each != came]
    assert await _released_audits(app) == {str(each): 1 for each in no_shows}
    assert (await _status(app, came))[0] == ReservationStatus.ACTIVE
    await run_invitation_job(app)
    await run_invitation_job(app)
    messages = await deliver_outbox(app)
    # Beside the four bookings' own mail: one release mail per no-show, none twice.
    released_mails = [m for m in messages if "released" in str(m["Subject"])]
    assert len(released_mails) == len(no_shows)
