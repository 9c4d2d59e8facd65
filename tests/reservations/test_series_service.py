"""The series service on PostgreSQL and SQLite: all or nothing, each date judged as a
single booking would be, counted as single bookings are, and an administrator's cancel
mailed to the owner."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from mrs.accounts.models import Role
from mrs.clock import FixedClock
from mrs.notifications.models import OutboxMail
from mrs.reservations import events, rules, series
from mrs.reservations import service as reservations_service
from mrs.reservations.errors import SeriesConflict, UnknownAttendees
from mrs.reservations.events import ReservationEvent
from mrs.reservations.models import Reservation, ReservationSeries
from tests.conftest import RoomFactory, UserFactory
from tests.mail import run_invitation_job

pytestmark = pytest.mark.both_databases

MONDAY = date(2030, 1, 7)  # the pinned today (tests/conftest.py)


def _daily(room_id: int, count: int, **fields: Any) -> series.SeriesFields:
    """Every day from tomorrow, 10:00 to 11:00."""
    return series.SeriesFields(
        room_id=room_id,
        start_date=MONDAY + timedelta(days=1),
        start_minute=600,
        end_minute=660,
        rule=f"FREQ=DAILY;COUNT={count}",
        **fields,
    )


async def _count(app: Any, model: Any) -> int:
    async with app.state.db.snapshot() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_preview_judges_each_date_as_a_single_booking_and_writes_nothing(
    app: Any, make_user: UserFactory, make_room: RoomFactory, clock: FixedClock
) -> None:
    owner = await make_user()
    room = await make_room(days=4)  # open today and the next three days
    db = app.state.db
    other = await reservations_service.reserve(
        db,
        settings=db.settings,
        user_id=owner,
        room_id=room,
        day=MONDAY + timedelta(days=2),
        start_minute=630,
        end_minute=690,
        now=clock(),
    )
    planned = await series.preview(
        db, settings=db.settings, user_id=owner, fields=_daily(room, 4), now=clock()
    )
    assert [(each.state, each.reason, each.reservation_id) for each in planned] == [
        (series.DateState.FREE, None, None),
        (series.DateState.CONFLICT, "reservation_conflict", other.reservation_id),
        (series.DateState.FREE, None, None),
        (series.DateState.UNBOOKABLE, "room_not_reservable", None),
    ]
    assert await _count(app, ReservationSeries) == 0
    assert await _count(app, Reservation) == 1


async def test_a_refused_series_writes_nothing_at_all(
    app: Any, make_user: UserFactory, make_room: RoomFactory, clock: FixedClock
) -> None:
    owner = await make_user()
    room = await make_room(days=3)
    db = app.state.db
    with pytest.raises(SeriesConflict) as refused:
        await series.create(
            db,
            settings=db.settings,
            user_id=owner,
            fields=_daily(room, 4),
            on_conflict="fail",
            now=clock(),
        )
    assert [each["date"] for each in refused.value.details["dates"]] == [
        (MONDAY + timedelta(days=3)).isoformat(),
        (MONDAY + timedelta(days=4)).isoformat(),
    ]
    with pytest.raises(UnknownAttendees):
        await series.create(
            db,
            settings=db.settings,
            user_id=owner,
            fields=_daily(room, 2, attendees=["nobody"]),
            on_conflict="fail",
            now=clock(),
        )
    assert await _count(app, ReservationSeries) == 0
    assert await _count(app, Reservation) == 0


async def test_a_series_counts_each_occurrence_as_a_booking(
    app: Any, make_user: UserFactory, make_room: RoomFactory, clock: FixedClock
) -> None:
    owner = await make_user()
    room = await make_room(days=14)
    db = app.state.db
    heard: list[ReservationEvent] = []
    events.subscribe(heard.append)
    try:
        booked = await series.create(
            db,
            settings=db.settings,
            user_id=owner,
            fields=_daily(room, 5),
            on_conflict="fail",
            now=clock(),
        )
        cancelled = await series.cancel(
            db,
            settings=db.settings,
            actor=rules.Actor(owner, is_admin=False),
            series_id=booked.series_id,
            now=clock(),
            from_date=MONDAY + timedelta(days=4),
        )
    finally:
        events.unsubscribe(heard.append)
    assert len(booked.occurrences) == 5
    assert cancelled == 2
    assert heard == [ReservationEvent.CREATED] * 5 + [ReservationEvent.CANCELLED] * 2


async def test_an_administrator_cancelling_a_series_mails_the_owner_with_the_reason(
    app: Any, make_user: UserFactory, make_room: RoomFactory, clock: FixedClock
) -> None:
    owner = await make_user("owner", email="owner@example.com")
    admin = await make_user("boss", role=Role.ADMIN)
    room = await make_room(days=14)
    db = app.state.db
    booked = await series.create(
        db,
        settings=db.settings,
        user_id=owner,
        fields=_daily(room, 3),
        on_conflict="fail",
        now=clock(),
    )
    await series.cancel(
        db,
        settings=db.settings,
        actor=rules.Actor(admin, is_admin=True),
        series_id=booked.series_id,
        now=clock(),
        reason="Renovation",
    )
    await run_invitation_job(app)
    async with db.snapshot() as session:
        [mail] = (
            await session.execute(
                select(OutboxMail).where(
                    OutboxMail.recipient == "owner@example.com",
                    OutboxMail.calendar_method == "CANCEL",
                )
            )
        ).scalars()
    assert "3 occurrence(s)" in mail.body
    assert "Renovation" in mail.body
    assert "10:00–11:00" in mail.body
    shown = await series.get_series(db, series_id=booked.series_id)
    assert shown.status == "CANCELLED"


async def test_on_postgresql_a_booking_racing_the_series_is_a_conflict_never_an_overlap(
    app: Any,
    make_user: UserFactory,
    make_room: RoomFactory,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = app.state.db
    if db.dialect != "postgresql":
        pytest.skip("SQLite's single writer cannot interleave a booking with the series")
    owner = await make_user()
    room = await make_room(days=14)
    racing = await reservations_service.reserve(
        db,
        settings=db.settings,
        user_id=owner,
        room_id=room,
        day=MONDAY + timedelta(days=2),
        start_minute=600,
        end_minute=660,
        now=clock(),
    )
    judged_before_the_race = series.plan_dates

    async def blind(*args: Any, **kwargs: Any) -> list[series.PlannedDate]:
        # In the writing transaction, the dates as judged just before the racing booking
        # committed: all free (read afresh afterwards, they are as they are).
        planned = await judged_before_the_race(*args, **kwargs)
        if not kwargs.get("locked"):
            return planned
        return [series.PlannedDate(each.date, series.DateState.FREE) for each in planned]

    monkeypatch.setattr(series, "plan_dates", blind)
    with pytest.raises(SeriesConflict) as refused:
        await series.create(
            db,
            settings=db.settings,
            user_id=owner,
            fields=_daily(room, 3),
            on_conflict="fail",
            now=clock(),
        )
    monkeypatch.undo()
    assert refused.value.details["dates"] == [
        {
            "date": (MONDAY + timedelta(days=2)).isoformat(),
            "reason": "reservation_conflict",
            "reservation_id": racing.reservation_id,
        }
    ]
    assert await _count(app, Reservation) == 1
    assert await _count(app, ReservationSeries) == 0
