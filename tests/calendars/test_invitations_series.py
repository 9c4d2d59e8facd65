"""Series invitations for a site in New York, across the spring clock change: a weekly
series with one occurrence cancelled and one moved on its own reads back (through
recurring-ical-events and vobject) as exactly the occurrences the database holds, the
cancelled occurrence is withdrawn by a CANCEL naming its RECURRENCE-ID, and an
administrator's cancel of the rest tells the owner why."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mrs.accounts.models import Role
from mrs.calendars.ical import uid_of
from mrs.clock import FixedClock
from mrs.reservations import editing, rules, series
from mrs.reservations.models import Reservation, ReservationSeries, ReservationStatus
from mrs.settings import Settings
from mrs.wallclock import wall_instant
from tests.calendars.readers import expanded, header, vobject_starts
from tests.conftest import RoomFactory, UserFactory
from tests.mail import deliver_outbox, parts, run_invitation_job

pytestmark = pytest.mark.both_databases

# Mondays around 10 March 2030, when New York's clocks go forward.
FIRST = date(2030, 2, 25)
BEFORE_DST = date(2030, 3, 4)
AFTER_DST = date(2030, 3, 11)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-secret-key-0123456789-0123456789-0123456789",
        timezone="America/New_York",
    )


async def _occurrences(app: Any, series_id: int) -> list[Any]:
    async with app.state.db.snapshot() as session:
        return list(
            await session.execute(
                select(Reservation)
                .where(Reservation.series_id == series_id)
                .order_by(Reservation.occurrence_date)
            )
        )


async def _active_times(app: Any, series_id: int) -> list[tuple[datetime, datetime]]:
    tz = app.state.db.settings.tz
    return sorted(
        (
            wall_instant(row.reserved_date, row.start_minute, tz),
            wall_instant(row.reserved_date, row.end_minute, tz),
        )
        for (row,) in await _occurrences(app, series_id)
        if row.status == ReservationStatus.ACTIVE
    )


async def _mailed(app: Any) -> list[Any]:
    await run_invitation_job(app)
    return await deliver_outbox(app)


async def test_a_weekly_series_across_the_clock_change_reads_back_as_the_database_holds_it(
    app: Any, make_user: UserFactory, make_room: RoomFactory, clock: FixedClock
) -> None:
    owner, guest = await make_user("taro"), await make_user("alice")
    admin = await make_user("boss", role=Role.ADMIN)
    room = await make_room("Kaede", days=90)
    db = app.state.db
    tz = db.settings.tz
    booked = await series.create(
        db,
        settings=db.settings,
        user_id=owner,
        fields=series.SeriesFields(
            room_id=room,
            start_date=FIRST,
            start_minute=600,
            end_minute=660,
            rule="FREQ=WEEKLY;COUNT=5",
            title="Weekly sync",
            attendees=[guest],
        ),
        on_conflict="fail",
        now=clock(),
    )
    by_date = {row.occurrence_date: row for (row,) in await _occurrences(app, booked.series_id)}
    owner_actor = rules.Actor(owner, is_admin=False)
    await editing.cancel(
        db,
        settings=db.settings,
        actor=owner_actor,
        reservation_id=by_date[BEFORE_DST].reservation_id,
        now=clock(),
    )
    await editing.edit(
        db,
        settings=db.settings,
        actor=owner_actor,
        reservation_id=by_date[AFTER_DST].reservation_id,
        change=editing.Change(start_minute=840, end_minute=930, title="Moved sync"),
        now=clock(),
    )
    async with db.snapshot() as session:
        found = await session.get(ReservationSeries, booked.series_id)
        assert found is not None
        uid = uid_of(found.ical_uid)
    # Three changes (created, one occurrence cancelled, one moved), each told to both.
    messages = await _mailed(app)
    assert (
        sorted(str(m["To"]) for m in messages)
        == ["alice@example.com"] * 3 + ["taro@example.com"] * 3
    )
    in_db = await _active_times(app, booked.series_id)
    assert len(in_db) == 4
    # 10:00 local on both sides of the change: 15:00 UTC in February, 14:00 UTC after.
    assert [start.astimezone(tz).hour for start, _ in in_db] == [10, 14, 10, 10]
    assert [start.astimezone(UTC).hour for start, _ in in_db] == [15, 18, 14, 14]
    requests = [m for m in messages if parts(m)["text/calendar"].get_param("method") == "REQUEST"]
    cancels = [m for m in messages if parts(m)["text/calendar"].get_param("method") == "CANCEL"]
    assert (len(requests), len(cancels)) == (4, 2)
    for message in requests:
        calendar = parts(message)["text/calendar"].get_content()
        assert header(calendar)["uid"] == uid
        assert "RRULE:FREQ=WEEKLY" in calendar
        assert expanded(calendar, tz) == in_db
        assert vobject_starts(calendar, tz) == [start for start, _ in in_db]
    # The mails about one occurrence say which, and how it is now.
    moved_texts = [
        parts(m)["text/plain"].get_content()
        for m in requests
        if "Moved sync" in parts(m)["text/plain"].get_content()
    ]
    assert len(moved_texts) == 2
    assert all("occurrence on Mon 11 Mar 2030 only" in text for text in moved_texts)
    assert all("Mon 11 Mar 2030 14:00–15:30" in text for text in moved_texts)
    for message in cancels:
        calendar = parts(message)["text/calendar"].get_content()
        assert header(calendar)["uid"] == uid
        assert header(calendar)["status"] == "CANCELLED"
        assert header(calendar)["recurrence_id"].startswith("2030-03-04T10:00")
        assert "RRULE" not in calendar
        assert expanded(calendar, tz) == []
    # An administrator cancels what remains from 18 March: the owner hears why.
    clock.now += timedelta(minutes=5)
    await series.cancel(
        db,
        settings=db.settings,
        actor=rules.Actor(admin, is_admin=True),
        series_id=booked.series_id,
        now=clock(),
        from_date=date(2030, 3, 18),
        reason="Renovation",
    )
    messages = {str(m["To"]): m for m in await _mailed(app)}
    assert set(messages) == {"taro@example.com", "alice@example.com"}
    text = parts(messages["taro@example.com"])["text/plain"].get_content()
    assert "Renovation" in text
    assert "2 occurrence(s) from Mon 18 Mar 2030 on are cancelled." in text
    assert "Renovation" not in parts(messages["alice@example.com"])["text/plain"].get_content()
    shorter = await _active_times(app, booked.series_id)
    assert len(shorter) == 2
    for message in messages.values():
        calendar = parts(message)["text/calendar"].get_content()
        # The series goes on (until 17 March), so the calendars get the shorter series.
        assert header(calendar)["method"] == "REQUEST"
        assert expanded(calendar, tz) == shorter
        assert vobject_starts(calendar, tz) == [start for start, _ in shorter]
