"""Opening rules at work: the site's closure days, the defaults for new rooms, and
keeping the dates of rooms that open automatically opened ahead (the daily job)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import Date, delete, false, literal, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from mrs.audit import service as audit
from mrs.db.engine import Database
from mrs.http.types import parse_hour_minute
from mrs.rooms.errors import ClosureDayExists, ClosureDayNotFound
from mrs.rooms.models import ClosureDay, MeetingRoom, ReservableRoom
from mrs.rooms.rules import OpeningRule, dates_to_open, public_holidays, weekdays_from_digits
from mrs.settings import Settings


def default_rule(settings: Settings) -> OpeningRule:
    """The opening rule a new room gets unless an admin gives another (settings
    MRS_ROOM_DEFAULT_WEEKDAYS/_OPEN/_CLOSE): opened automatically, closed on holidays."""
    return OpeningRule(
        weekdays=weekdays_from_digits(settings.room_default_weekdays),
        open_minute=parse_hour_minute(settings.room_default_open),
        close_minute=parse_hour_minute(settings.room_default_close),
        auto_open=True,
        closed_on_holidays=True,
    )


# --- closure days ---


async def list_closure_days(db: Database, *, from_date: date | None = None) -> list[ClosureDay]:
    """The site's closure days (from `from_date` on, when given), by date."""
    query = select(ClosureDay).order_by(ClosureDay.closure_date)
    if from_date is not None:
        query = query.where(ClosureDay.closure_date >= from_date)
    async with db.snapshot() as session:
        return list((await session.scalars(query)).all())


async def add_closure_day(
    session: AsyncSession, *, day: date, label: str, created_by: str | None, now: datetime
) -> ClosureDay:
    """Within the caller's transaction: record the closure day (closing the rooms' open
    dates is the caller's, who first checks no reservation is in the way)."""
    if await session.get(ClosureDay, day) is not None:
        raise ClosureDayExists(date=day.isoformat())
    closure = ClosureDay(closure_date=day, label=label, created_by=created_by, created_at=now)
    session.add(closure)
    await session.flush()
    return closure


async def delete_closure_day(db: Database, *, day: date, actor_id: str | None = None) -> None:
    """Take the date off the list. Rooms closed for it stay closed (a closed date is
    never reopened by itself: an admin opens it again by hand where wanted)."""
    async with db.transaction() as session:
        closure = await session.get(ClosureDay, day)
        if closure is None:
            raise ClosureDayNotFound(date=day.isoformat())
        await session.execute(delete(ClosureDay).where(ClosureDay.closure_date == day))
        await audit.record(
            session,
            action="closure_day.delete",
            subject_type="closure_day",
            subject_id=day.isoformat(),
            before={"label": closure.label},
            actor_id=actor_id,
        )


async def lock_open_rooms_on(session: AsyncSession, *, day: date) -> list[int]:
    """Within the caller's transaction: the rooms open on `day`, their date rows locked
    until it ends (a reservation being made that day is waited for, then seen).

    First every room without a row for the day gets a closed one, so the daily job (which
    only adds missing rows) can no longer open the day while or after it is closed.
    """
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(
        insert(ReservableRoom)
        .from_select(
            ["reserved_date", "room_id", "is_open"],
            select(
                literal(day, Date()).label("reserved_date"),
                MeetingRoom.room_id,
                false().label("is_open"),
            ).where(true()),  # SQLite: without a WHERE, "ON CONFLICT" parses as a join's ON
        )
        .on_conflict_do_nothing(index_elements=["reserved_date", "room_id"])
    )
    return list(
        (
            await session.scalars(
                select(ReservableRoom.room_id)
                .where(ReservableRoom.reserved_date == day, ReservableRoom.is_open.is_(True))
                .order_by(ReservableRoom.room_id)
                .with_for_update()
            )
        ).all()
    )


async def close_rooms_on(session: AsyncSession, *, day: date, room_ids: Sequence[int]) -> None:
    """Within the caller's transaction: stop reservations of the rooms on `day`."""
    if room_ids:
        await session.execute(
            update(ReservableRoom)
            .where(ReservableRoom.reserved_date == day, ReservableRoom.room_id.in_(room_ids))
            .values(is_open=False)
        )


# --- opening ahead (the daily job) ---


async def open_ahead(
    db: Database, *, settings: Settings, today: date, room_ids: Collection[int] | None = None
) -> int:
    """Open the dates of every room that opens automatically (or of `room_ids` only), from
    `today` to MRS_OPEN_DAYS_AHEAD days ahead, by its rule; returns how many date rows were
    added.

    Only missing rows are inserted (ON CONFLICT DO NOTHING): a date an admin closed keeps
    its closed row, so it is never reopened, and two processes running this at once
    cannot open a date twice (the primary key decides).
    """
    last = today + timedelta(days=settings.open_days_ahead - 1)
    holidays = public_holidays(settings.holiday_country, today, last)
    async with db.snapshot() as session:
        rooms = (
            await session.scalars(
                select(MeetingRoom).where(
                    MeetingRoom.auto_open.is_(True),
                    MeetingRoom.active.is_(True),
                    true() if room_ids is None else MeetingRoom.room_id.in_(room_ids),
                )
            )
        ).all()
        closures = set(
            (
                await session.scalars(
                    select(ClosureDay.closure_date).where(
                        ClosureDay.closure_date >= today, ClosureDay.closure_date <= last
                    )
                )
            ).all()
        )
    added = 0
    insert = pg_insert if db.dialect == "postgresql" else sqlite_insert
    for room in rooms:
        rule = OpeningRule(
            weekdays=weekdays_from_digits(room.open_weekdays),
            open_minute=room.open_minute,
            close_minute=room.close_minute,
            auto_open=room.auto_open,
            closed_on_holidays=room.closed_on_holidays,
        )
        days = dates_to_open(rule, today, last, holidays, closures)
        if not days:
            continue
        # One transaction per room: a long run never holds every room's rows at once.
        async with db.transaction() as session:
            result = await session.execute(
                insert(ReservableRoom)
                .values(
                    [
                        {"reserved_date": day, "room_id": room.room_id, "is_open": True}
                        for day in days
                    ]
                )
                .on_conflict_do_nothing(index_elements=["reserved_date", "room_id"])
                .returning(ReservableRoom.reserved_date)
            )
            added += len(result.all())
    return added
