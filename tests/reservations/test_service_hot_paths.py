"""The hot paths stay cheap: one statement per reservation and per room's day, on both
databases, with the same answers (DESIGN §8; counted like Indico's count_queries)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from mrs.accounts import users
from mrs.audit.models import AuditEntry
from mrs.clock import FixedClock
from mrs.db.engine import Database
from mrs.reservations import reads, service
from mrs.reservations import timelines as reservations_timelines
from mrs.reservations.errors import ReservationConflict, RoomNotReservable, RoomOutOfUse
from mrs.reservations.models import ReservationChange
from mrs.rooms import service as rooms_service
from mrs.settings import Settings
from tests.conftest import DEFAULT_PASSWORD


@contextmanager
def counted_statements(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    # PostgreSQL's hot statements bypass the engine (mrs.db.direct): count those too.
    direct = db._direct
    original = direct.rows if direct is not None else None

    async def _counted_rows(statement: Any, params: Any, **kwargs: Any) -> Any:
        statements.append(str(statement))
        assert original is not None
        return await original(statement, params, **kwargs)

    event.listen(db.engine.sync_engine, "before_cursor_execute", _count)
    if direct is not None:
        direct.rows = _counted_rows  # type: ignore[method-assign]
    try:
        yield statements
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", _count)
        if direct is not None:
            direct.rows = original  # type: ignore[method-assign]


async def _room_and_user(db: Database, clock: FixedClock, day: date) -> int:
    await users.create_user(
        db,
        user_id="hana",
        password=DEFAULT_PASSWORD,
        email="hana@example.com",
        first_name="Hana",
        last_name="Mori",
        now=clock(),
    )
    room = await rooms_service.create_room(db, room_name="Sakura", capacity=6, location="3F")
    await rooms_service.open_room(
        db, room_id=room.room_id, from_date=day, to_date=day, weekdays=None
    )
    return room.room_id


@pytest.fixture(params=["postgresql", "sqlite"])
async def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "postgresql":
        url = request.getfixturevalue("database_url")
    else:
        url = request.getfixturevalue("sqlite_url")
    settings = Settings(data_dir=tmp_path / "data", database_url=url, secret_key="k" * 40)
    database = Database(settings)
    yield database
    await database.dispose()


async def test_a_reservation_comes_back_complete_from_one_statement(
    any_db: Database, clock: FixedClock, tomorrow: date
) -> None:
    room_id = await _room_and_user(any_db, clock, tomorrow)
    with counted_statements(any_db) as statements:
        answer = await service.reserve(
            any_db,
            settings=any_db.settings,
            user_id="hana",
            room_id=room_id,
            day=tomorrow,
            start_minute=600,
            end_minute=660,
            now=clock(),
        )
    view = answer.view
    assert view is not None
    assert (view.room_name, view.user_name, view.user_id) == ("Sakura", "Hana Mori", "hana")
    assert (view.date, view.start_time, view.end_time, view.status) == (
        tomorrow,
        600,
        660,
        "ACTIVE",
    )
    assert view.created_at == clock()
    # SQLite cannot put an INSERT in a WITH clause, so it records the change and its
    # audit row and reads back in the same transaction; PostgreSQL's one statement does
    # all four.
    expected = 1 if any_db.dialect == "postgresql" else 4
    assert len([s for s in statements if not s.startswith("BEGIN")]) == expected, statements
    async with any_db.snapshot() as session:
        [change] = (await session.scalars(select(ReservationChange))).all()
    assert (change.kind, change.reservation_id, change.actor_id) == (
        "created",
        view.reservation_id,
        "hana",
    )
    assert (change.created_at, change.notified_at) == (clock(), None)
    async with any_db.snapshot() as session:
        [audited] = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.subject_type == "reservation")
            )
        ).all()
    assert (audited.action, audited.subject_id, audited.actor_id, audited.at) == (
        "reservation.create",
        str(view.reservation_id),
        "hana",
        clock(),
    )


async def test_an_overlap_and_a_closed_day_are_still_refused(
    any_db: Database, clock: FixedClock, tomorrow: date
) -> None:
    room_id = await _room_and_user(any_db, clock, tomorrow)
    common = {"settings": any_db.settings, "user_id": "hana", "room_id": room_id, "now": clock()}
    await service.reserve(any_db, day=tomorrow, start_minute=600, end_minute=660, **common)
    with pytest.raises(ReservationConflict):
        await service.reserve(any_db, day=tomorrow, start_minute=630, end_minute=690, **common)
    with pytest.raises(RoomNotReservable):
        await service.reserve(
            any_db, day=tomorrow + timedelta(days=1), start_minute=600, end_minute=660, **common
        )
    adjacent = await service.reserve(
        any_db, day=tomorrow, start_minute=660, end_minute=720, **common
    )
    assert adjacent.view is not None
    assert adjacent.view.start_time == 660


async def test_a_rooms_day_is_one_statement(
    any_db: Database, clock: FixedClock, tomorrow: date
) -> None:
    room_id = await _room_and_user(any_db, clock, tomorrow)
    common = {"settings": any_db.settings, "user_id": "hana", "room_id": room_id, "now": clock()}
    await service.reserve(any_db, day=tomorrow, start_minute=660, end_minute=720, **common)
    await service.reserve(any_db, day=tomorrow, start_minute=540, end_minute=600, **common)
    with counted_statements(any_db) as statements:
        views = await reads.reservations_of_room_day(any_db, room_id=room_id, day=tomorrow)
    assert [v.start_time for v in views] == [540, 660]
    assert len([s for s in statements if not s.startswith("BEGIN")]) == 1, statements


async def test_a_rooms_day_holds_only_that_room_and_that_day(
    any_db: Database, clock: FixedClock, tomorrow: date
) -> None:
    room_id = await _room_and_user(any_db, clock, tomorrow)
    other = await rooms_service.create_room(any_db, room_name="Kiku", capacity=4, location="2F")
    day_after = tomorrow + timedelta(days=1)
    for room in (room_id, other.room_id):
        await rooms_service.open_room(
            any_db, room_id=room, from_date=tomorrow, to_date=day_after, weekdays=None
        )
    common = {"settings": any_db.settings, "user_id": "hana", "now": clock()}
    mine = await service.reserve(
        any_db, room_id=room_id, day=tomorrow, start_minute=600, end_minute=660, **common
    )
    await service.reserve(
        any_db, room_id=other.room_id, day=tomorrow, start_minute=600, end_minute=660, **common
    )
    await service.reserve(
        any_db, room_id=room_id, day=day_after, start_minute=600, end_minute=660, **common
    )
    views = await reads.reservations_of_room_day(any_db, room_id=room_id, day=tomorrow)
    assert [v.reservation_id for v in views] == [mine.reservation_id]


async def test_many_concurrent_reservations_queue_instead_of_failing(
    any_db: Database, clock: FixedClock, tomorrow: date
) -> None:
    """40 at once, two per slot: each slot is won once, the rest are clean conflicts
    (on SQLite the writers of a process take turns instead of timing out)."""
    room_id = await _room_and_user(any_db, clock, tomorrow)
    common = {"settings": any_db.settings, "user_id": "hana", "room_id": room_id, "now": clock()}

    async def attempt(slot: int) -> str:
        start = 480 + 30 * slot
        try:
            await service.reserve(
                any_db, day=tomorrow, start_minute=start, end_minute=start + 30, **common
            )
        except ReservationConflict:
            return "conflict"
        return "created"

    outcomes = await asyncio.gather(*(attempt(n % 20) for n in range(40)))
    assert outcomes.count("created") == 20
    assert outcomes.count("conflict") == 20


async def test_the_rooms_of_a_day_come_with_their_taken_times_in_order(
    any_db: Database, clock: FixedClock, tomorrow: date
) -> None:
    room_id = await _room_and_user(any_db, clock, tomorrow)
    other = await rooms_service.create_room(any_db, room_name="Kiku", capacity=4, location="2F")
    await rooms_service.open_room(
        any_db, room_id=other.room_id, from_date=tomorrow, to_date=tomorrow, weekdays=None
    )
    common = {"settings": any_db.settings, "user_id": "hana", "room_id": room_id, "now": clock()}
    for start in (780, 540, 600):
        await service.reserve(
            any_db, day=tomorrow, start_minute=start, end_minute=start + 60, **common
        )
    with counted_statements(any_db) as statements:
        timelines = await reservations_timelines.room_timelines(any_db, day=tomorrow)
    assert [(t.room_name, [(r.start_time, r.end_time) for r in t.taken]) for t in timelines] == [
        ("Kiku", []),
        ("Sakura", [(540, 600), (600, 660), (780, 840)]),
    ]
    assert len([s for s in statements if not s.startswith("BEGIN")]) == 1, statements


async def test_the_insert_itself_refuses_a_room_out_of_use(
    any_db: Database, clock: FixedClock, tomorrow: date
) -> None:
    """The bookable rule is part of the one insert statement, not only a check before it:
    run alone, the statement writes nothing for a room taken out of use."""
    room_id = await _room_and_user(any_db, clock, tomorrow)
    await rooms_service.update_room(any_db, room_id=room_id, changes={"active": False})
    attempt = {
        "room_id": room_id,
        "day": tomorrow,
        "start_minute": 600,
        "end_minute": 660,
        "user_id": "hana",
        "now": clock(),
    }
    assert await service._insert_if_free(any_db, attempt) is None
    with pytest.raises(RoomOutOfUse):
        await service.reserve(
            any_db,
            settings=any_db.settings,
            day=tomorrow,
            start_minute=600,
            end_minute=660,
            user_id="hana",
            room_id=room_id,
            now=clock(),
        )
    await rooms_service.update_room(any_db, room_id=room_id, changes={"active": True})
    assert await service._insert_if_free(any_db, attempt) is not None
