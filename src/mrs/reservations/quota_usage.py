"""Counting a user's reservations for their quota, and holding it while a booking writes.

Reservations own their rows, so the counting is here; the limits and the pure rules that
judge the counts are `mrs.policies`. Under a quota every booking door writes in a
transaction that first calls `hold_quota`: it locks the user's row (PostgreSQL: FOR NO
KEY UPDATE; SQLite's single writer serialises anyway), counts, and only then inserts, so
parallel requests by one user cannot pass a quota together. Lock order: the user's row
first, then the booking's date row (which the insert locks).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import String, Table, and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mrs.accounts.models import User
from mrs.db.engine import Database
from mrs.policies import rules
from mrs.policies.quotas import quota_of
from mrs.policies.rules import Quota, Slot
from mrs.reservations.models import SLOT_HOLDING, Reservation
from mrs.settings import Settings

usr: Table = User.__table__  # type: ignore[assignment]
reservation: Table = Reservation.__table__  # type: ignore[assignment]

_USER = bindparam("user_id", type_=String())


_LOCK_USER = select(usr.c.user_id).where(usr.c.user_id == _USER)


def _still_to_come(today: date, minute: int) -> Any:
    return or_(
        reservation.c.reserved_date > today,
        and_(reservation.c.reserved_date == today, reservation.c.end_minute > minute),
    )


async def usage(
    session: AsyncSession,
    *,
    user_id: str,
    weeks: Collection[date],
    now: datetime,
    settings: Settings,
    excluding: Collection[int] = (),
) -> tuple[int, dict[date, int]]:
    """The user's slot-holding reservations not yet ended, and their booked minutes in
    each ISO week of `weeks` (Mondays), leaving out the reservations `excluding`.

    One statement (a booking under a quota waits for it with the user's row locked): the
    user's reservations that are still to come or fall in those weeks, counted and summed
    per date and per "still to come"."""
    local = now.astimezone(settings.tz)
    upcoming = _still_to_come(local.date(), local.hour * 60 + local.minute)
    wanted = [upcoming]
    if weeks:
        first, last = min(weeks), max(weeks) + timedelta(days=6)
        wanted.append(reservation.c.reserved_date.between(first, last))
    mine = [
        reservation.c.user_id == user_id,
        reservation.c.status.in_(SLOT_HOLDING),
        or_(*wanted),
    ]
    if excluding:
        mine.append(reservation.c.reservation_id.not_in(list(excluding)))
    rows = await session.execute(
        select(
            reservation.c.reserved_date,
            upcoming.label("upcoming"),
            func.count().label("reservations"),
            func.sum(reservation.c.end_minute - reservation.c.start_minute).label("minutes"),
        )
        .where(*mine)
        .group_by(reservation.c.reserved_date, upcoming)
    )
    future = 0
    minutes: dict[date, int] = {}
    for row in rows:
        if row.upcoming:
            future += int(row.reservations)
        monday = rules.week_start(row.reserved_date)
        if monday in weeks:
            minutes[monday] = minutes.get(monday, 0) + int(row.minutes or 0)
    return future, minutes


async def lock_user(session: AsyncSession, *, dialect: str, user_id: str) -> None:
    """Lock the user's row for this transaction (PostgreSQL: FOR NO KEY UPDATE, which
    leaves foreign keys to it free; SQLite's writer lock already serialises)."""
    lock = _LOCK_USER.with_for_update(key_share=True) if dialect == "postgresql" else _LOCK_USER
    await session.execute(lock, {"user_id": user_id})


async def check_quota(
    session: AsyncSession,
    *,
    settings: Settings,
    user_id: str,
    quota: Quota,
    slots: Sequence[Slot],
    now: datetime,
    excluding: Collection[int] = (),
    count_future: bool = True,
) -> None:
    """Count the user's reservations (after `lock_user`) and refuse when `slots` would
    pass the quota. `excluding`: reservations the write replaces; `count_future` False
    for a change that adds no reservation (a move)."""
    future, minutes = await usage(
        session,
        user_id=user_id,
        weeks={rules.week_start(slot.day) for slot in slots},
        now=now,
        settings=settings,
        excluding=excluding,
    )
    if not count_future:
        quota = Quota(None, quota.max_hours_per_week)
    rules.check_quota(quota, slots, future_count=future, week_minutes=minutes)


async def hold_quota(
    session: AsyncSession,
    *,
    dialect: str,
    settings: Settings,
    user_id: str,
    quota: Quota,
    slots: Sequence[Slot],
    now: datetime,
    excluding: Collection[int] = (),
    count_future: bool = True,
) -> None:
    """Within the writing transaction, before the insert: lock the user's row, count,
    and refuse when `slots` would pass the quota (`check_quota`)."""
    await lock_user(session, dialect=dialect, user_id=user_id)
    await check_quota(
        session,
        settings=settings,
        user_id=user_id,
        quota=quota,
        slots=slots,
        now=now,
        excluding=excluding,
        count_future=count_future,
    )


@dataclass(frozen=True)
class Usage:
    future_reservations: int
    week_start: date
    minutes_this_week: int


async def my_quota(
    db: Database, *, settings: Settings, user_id: str, now: datetime
) -> tuple[Quota, Usage]:
    """The user's quota in force and usage now: reservations to come, and booked minutes
    in this ISO week."""
    quota = await quota_of(db, settings=settings, user_id=user_id)
    monday = rules.week_start(now.astimezone(settings.tz).date())
    async with db.snapshot() as session:
        future, minutes = await usage(
            session, user_id=user_id, weeks={monday}, now=now, settings=settings
        )
    return quota, Usage(
        future_reservations=future, week_start=monday, minutes_this_week=minutes.get(monday, 0)
    )
