"""Meetings read from the database as calendar events, on PostgreSQL and SQLite: each
reader sees what they may, and a series reads as its rule with its exceptions."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from mrs.calendars.reading import events_of, recipients_of
from mrs.clock import FixedClock
from mrs.reservations import editing, rules, series
from mrs.reservations import service as reservations_service
from mrs.reservations.models import Visibility
from tests.conftest import RoomFactory, UserFactory

pytestmark = pytest.mark.both_databases

MONDAY = date(2030, 1, 7)  # the pinned today (tests/conftest.py)


async def _read(app: Any, **ids: Any) -> list[Any]:
    db = app.state.db
    async with db.snapshot() as session:
        return await events_of(session, tz=db.settings.tz, **ids)


async def test_a_private_meeting_reads_reserved_to_others_and_whole_to_its_people(
    app: Any, make_user: UserFactory, make_room: RoomFactory, clock: FixedClock
) -> None:
    owner, guest, stranger = await make_user(), await make_user(), await make_user()
    room = await make_room(days=3)
    db = app.state.db
    booked = await reservations_service.reserve(
        db,
        settings=db.settings,
        user_id=owner,
        room_id=room,
        day=MONDAY + timedelta(days=1),
        start_minute=600,
        end_minute=660,
        now=clock(),
        title="Salary review",
        description="confidential",
        visibility=Visibility.PRIVATE,
        attendees=[guest],
    )
    ids = {"reservation_ids": [booked.reservation_id]}
    for viewer in (owner, guest):
        (event,) = await _read(app, locale="en", viewer_id=viewer, **ids)
        assert (event.summary, event.description) == ("Salary review", "confidential")
        assert event.owner is not None
        assert event.owner.email == f"{owner}@example.com"
        assert [person.email for person in event.attendees] == [f"{guest}@example.com"]
    (hidden,) = await _read(app, locale="ja", viewer_id=stranger, **ids)
    assert (hidden.summary, hidden.description, hidden.owner, hidden.attendees) == (
        "予約済み",
        "",
        None,
        (),
    )
    assert hidden.private
    assert hidden.uid.endswith("@mrs")
    assert hidden.sequence == 0
    assert [(r.user_id, r.is_owner) for r in await _recipients(app, booked.reservation_id)] == [
        (owner, True),
        (guest, False),
    ]


async def _recipients(app: Any, reservation_id: int) -> list[Any]:
    async with app.state.db.snapshot() as session:
        return await recipients_of(session, reservation_id=reservation_id)


async def test_a_series_reads_as_its_rule_with_a_cancelled_occurrence_excluded(
    app: Any, make_user: UserFactory, make_room: RoomFactory, clock: FixedClock
) -> None:
    owner = await make_user()
    room = await make_room(days=5)
    db = app.state.db
    booked = await series.create(
        db,
        settings=db.settings,
        user_id=owner,
        fields=series.SeriesFields(
            room_id=room,
            start_date=MONDAY + timedelta(days=1),
            start_minute=600,
            end_minute=660,
            rule="FREQ=DAILY;COUNT=3",
            title="Stand-up",
        ),
        on_conflict="fail",
        now=clock(),
    )
    second = booked.occurrences[1]
    await editing.cancel(
        db,
        settings=db.settings,
        actor=rules.Actor(owner, is_admin=False),
        reservation_id=second.reservation_id,
        now=clock(),
    )
    # Asking by an occurrence's id gives its whole series.
    events = await _read(app, reservation_ids=[second.reservation_id], locale="en", viewer_id=owner)
    (master,) = events
    assert master.rrule == "FREQ=DAILY;COUNT=3"
    assert master.day == MONDAY + timedelta(days=1)
    assert master.exdates == (MONDAY + timedelta(days=2),)
    assert master.summary == "Stand-up"
    same = await _read(app, series_ids=[booked.series_id], locale="en", viewer_id=owner)
    assert same == events
