"""Check-in through the API, on PostgreSQL and SQLite: the window's edges (opens
MRS_CHECKIN_OPENS_MINUTES before the start, closes at start + grace), who may check in,
rooms that ask for none, twice is once, the audit row, and the messages in ja and en."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mrs.accounts.models import Role
from mrs.audit.models import AuditEntry
from mrs.clock import FixedClock
from mrs.reservations import checkin, release, rules
from mrs.reservations.models import Reservation, ReservationChange
from tests.conftest import LoginFactory, RoomFactory, UserFactory
from tests.reservations.checkin_support import (
    GRACE,
    book,
    name_delegate,
    require_checkin,
    set_wall,
)

pytestmark = pytest.mark.both_databases

START = 10 * 60


def _url(reservation_id: int) -> str:
    return f"/api/reservations/{reservation_id}/check-in"


async def _audit_rows(app: Any, reservation_id: int, action: str) -> int:
    async with app.state.db.snapshot() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == action, AuditEntry.subject_id == str(reservation_id))
            )
            or 0
        )


@pytest.fixture
async def setting(
    app: Any, make_user: UserFactory, make_room: RoomFactory, clock: FixedClock, tomorrow: date
) -> dict[str, Any]:
    owner = await make_user("owner")
    room = await make_room("Door")
    await require_checkin(app, room)
    booked = await book(app, clock, owner, room, tomorrow, START, START + 60)
    return {"owner": owner, "room": room, "booked": booked}


@pytest.mark.parametrize(
    ("minute", "seconds", "status", "code"),
    [
        (START - 11, 0, 422, "checkin_too_early"),  # one minute before it opens
        (START - 10, -1, 422, "checkin_too_early"),  # one second before it opens
        (START - 10, 0, 200, None),  # exactly when it opens
        (START + GRACE, 0, 200, None),  # exactly at start + grace
        (START + GRACE, 1, 409, "checkin_released"),  # just after start + grace
        (START + GRACE + 1, 0, 409, "checkin_released"),
    ],
)
async def test_the_window_opens_ten_minutes_early_and_closes_at_start_plus_grace(
    app: Any,
    client: httpx.AsyncClient,
    login: LoginFactory,
    clock: FixedClock,
    tomorrow: date,
    setting: dict[str, Any],
    minute: int,
    seconds: int,
    status: int,
    code: str | None,
) -> None:
    headers = await login(setting["owner"])
    set_wall(app, clock, tomorrow, minute, seconds)
    response = await client.post(_url(setting["booked"]), headers=headers)
    assert response.status_code == status, response.text
    if code is not None:
        assert response.json()["error"]["code"] == code
        assert await _audit_rows(app, setting["booked"], checkin.CHECKIN_ACTION) == 0
    else:
        body = response.json()
        assert body["checked_in_by"] == setting["owner"]
        assert body["status"] == "ACTIVE"
        assert await _audit_rows(app, setting["booked"], checkin.CHECKIN_ACTION) == 1


async def test_owner_attendee_delegate_and_admin_may_check_in_nobody_else(
    app: Any,
    client: httpx.AsyncClient,
    login: LoginFactory,
    make_user: UserFactory,
    make_room: RoomFactory,
    clock: FixedClock,
    tomorrow: date,
) -> None:
    owner, guest, secretary, stranger = (
        await make_user("boss"),
        await make_user("guest"),
        await make_user("secretary"),
        await make_user("stranger"),
    )
    admin = await make_user("root", role=Role.ADMIN)
    await name_delegate(app, clock, owner, secretary)
    room = await make_room()
    await require_checkin(app, room)
    meetings = [
        await book(
            app,
            clock,
            owner,
            room,
            tomorrow,
            START + 60 * n,
            START + 60 * n + 30,
            attendees=(guest,),
        )
        for n in range(4)
    ]
    set_wall(app, clock, tomorrow, START - 10)
    refused = await client.post(_url(meetings[0]), headers=await login(stranger))
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "checkin_not_allowed"
    for meeting, who in zip(meetings, (owner, guest, secretary, admin), strict=True):
        set_wall(app, clock, tomorrow, START + 60 * meetings.index(meeting) - 5)
        response = await client.post(_url(meeting), headers=await login(who))
        assert response.status_code == 200, (who, response.text)
        assert response.json()["checked_in_by"] == who


async def test_a_room_that_asks_for_no_check_in_refuses_it(
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
    booked = await book(app, clock, owner, room, tomorrow, START, START + 30)
    set_wall(app, clock, tomorrow, START)
    response = await client.post(_url(booked), headers=await login(owner))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "checkin_not_required"
    missing = await client.post(_url(booked + 1000), headers=await login(owner))
    assert missing.status_code == 404


async def test_checking_in_twice_keeps_the_first_time_and_one_audit_row(
    app: Any,
    client: httpx.AsyncClient,
    login: LoginFactory,
    clock: FixedClock,
    tomorrow: date,
    setting: dict[str, Any],
) -> None:
    headers = await login(setting["owner"])
    set_wall(app, clock, tomorrow, START - 5)
    first = await client.post(_url(setting["booked"]), headers=headers)
    set_wall(app, clock, tomorrow, START + 2)
    again = await client.post(_url(setting["booked"]), headers=headers)
    assert first.status_code == again.status_code == 200, again.text
    assert again.json()["checked_in_at"] == first.json()["checked_in_at"]
    assert await _audit_rows(app, setting["booked"], checkin.CHECKIN_ACTION) == 1
    async with app.state.db.snapshot() as session:
        row = await session.get(Reservation, setting["booked"])
        assert row is not None
        assert row.checked_in_by == setting["owner"]
        # A check-in tells nobody: its change row is written as already notified.
        pending = await session.scalar(
            select(func.count())
            .select_from(ReservationChange)
            .where(
                ReservationChange.reservation_id == setting["booked"],
                ReservationChange.notified_at.is_(None),
            )
        )
    assert pending == 1  # the booking's own "created", not the check-in


async def test_after_the_release_check_in_is_refused_with_409_in_ja_and_en(
    app: Any,
    client: httpx.AsyncClient,
    login: LoginFactory,
    clock: FixedClock,
    tomorrow: date,
    setting: dict[str, Any],
) -> None:
    set_wall(app, clock, tomorrow, START + GRACE + 1)
    released = await release.release_no_shows(
        app.state.db, settings=app.state.db.settings, now=clock()
    )
    assert released == [setting["booked"]]
    headers = await login(setting["owner"])
    en = await client.post(_url(setting["booked"]), headers={**headers, "Accept-Language": "en"})
    ja = await client.post(_url(setting["booked"]), headers={**headers, "Accept-Language": "ja"})
    assert en.status_code == ja.status_code == 409
    assert en.json()["error"]["code"] == "checkin_released"
    assert "10:15" in en.json()["error"]["message"]
    assert "released" in en.json()["error"]["message"]
    assert "解放" in ja.json()["error"]["message"]
    assert "10:15" in ja.json()["error"]["message"]


async def test_too_early_says_when_it_opens_in_ja(
    app: Any,
    client: httpx.AsyncClient,
    login: LoginFactory,
    clock: FixedClock,
    tomorrow: date,
    setting: dict[str, Any],
) -> None:
    set_wall(app, clock, tomorrow, START - 30)
    headers = await login(setting["owner"])
    ja = await client.post(_url(setting["booked"]), headers={**headers, "Accept-Language": "ja"})
    assert ja.status_code == 422
    assert (
        ja.json()["error"]["message"] == "チェックインは 09:50（開始の 10 分前）から受け付けます。"
    )


def test_the_window_follows_the_site_wall_clock_across_a_dst_change() -> None:
    """Pure: in New York on 2027-03-14 (02:00 → 03:00), a 03:00 start opens at 01:50
    standard time, ten real minutes before, and closes at 03:15 daylight time."""
    from zoneinfo import ZoneInfo

    from mrs.wallclock import wall_instant

    tz = ZoneInfo("America/New_York")
    day = date(2027, 3, 14)
    window = checkin.checkin_window(day, 180, grace_minutes=15, opens_minutes=10, tz=tz)
    assert window.opens_at == wall_instant(day, 110, tz)
    assert window.closes_at == wall_instant(day, 195, tz)


@pytest.mark.parametrize(
    ("actor", "attendee", "may"),
    [
        (rules.Actor(user_id="owner", is_admin=False), False, True),
        (rules.Actor(user_id="guest", is_admin=False), True, True),
        (
            rules.Actor(user_id="secretary", is_admin=False, principals=frozenset({"owner"})),
            False,
            True,
        ),
        (rules.Actor(user_id="root", is_admin=True), False, True),
        (rules.Actor(user_id="stranger", is_admin=False), False, False),
    ],
)
def test_who_may_check_in_pure(actor: rules.Actor, attendee: bool, may: bool) -> None:
    assert checkin.may_check_in(actor, owner_id="owner", attendee=attendee) is may
