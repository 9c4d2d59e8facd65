"""The reports' figures, each computed by SQL aggregates over the rooms' open dates and
the reservations' summary (`mrs.reports.summary`: per room and date, per owner and date,
kept exact by triggers), never over every reservation: a year of a thousand rooms has
1.46 million reservations but 365,000 summary rows per room and date.

What counts:
- bookable minutes: for each date of the period on which the room is bookable (the one
  rule, `mrs.rooms.availability.is_bookable`: opened that date and in use), the room's
  bookable hours (`close_minute - open_minute`). A room out of use has none.
- booked minutes: the minutes of ACTIVE reservations that lie on those bookable dates and
  within those hours (a reservation made before the hours were narrowed counts only for
  its part inside them), so utilisation never exceeds 1.
- cancellations: CANCELLED reservations dated in the period, and their share of all the
  reservations dated in the period (any status).
- busiest hours: the minutes of ACTIVE reservations dated in the period falling into each
  hour of the day, by ISO weekday (1 = Monday).
- per group: the booked minutes (as above) of the reservations whose owner is a member,
  over the bookable minutes of ALL rooms together in the period; a user in two groups
  counts in both. Reservations and cancellations likewise by their owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, Table, func, literal, select

from mrs.accounts import groups as groups_service
from mrs.accounts.models import UserGroupMember
from mrs.db.engine import Database
from mrs.reports.periods import Period, share
from mrs.reports.summary import HOUR_COLUMNS, hour_day, room_day, user_day
from mrs.rooms import service as rooms_service
from mrs.rooms.availability import is_bookable, meeting_room, reservable_room, room_days

member: Table = UserGroupMember.__table__  # type: ignore[assignment]

HOURS = range(24)
WEEKDAYS = range(1, 8)


@dataclass(frozen=True, kw_only=True)
class Usage:
    """Booked and bookable minutes, reservations and cancellations over a period."""

    bookable_minutes: int
    booked_minutes: int
    reservations: int
    cancelled: int

    @property
    def utilisation(self) -> float:
        """Booked ÷ bookable minutes (0 when nothing was bookable)."""
        return share(self.booked_minutes, self.bookable_minutes)

    @property
    def cancelled_share(self) -> float:
        """Cancelled ÷ all reservations in the period (0 when there were none)."""
        return share(self.cancelled, self.reservations)


@dataclass(frozen=True, kw_only=True)
class RoomUtilisation(Usage):
    room_id: int
    room_name: str


@dataclass(frozen=True, kw_only=True)
class GroupUtilisation(Usage):
    """A group's members' use; `bookable_minutes` is all rooms' together (the same for
    every group)."""

    group_id: int
    group_name: str
    members: int


def _usage(bookable_minutes: int, counts: Any) -> dict[str, int]:
    """The Usage fields from a bookable total and a counts row (None: no reservations)."""
    return {
        "bookable_minutes": bookable_minutes,
        "booked_minutes": int(counts.booked) if counts else 0,
        "reservations": int(counts.reservations) if counts else 0,
        "cancelled": int(counts.cancelled) if counts else 0,
    }


@dataclass(frozen=True)
class BusiestHours:
    """Booked minutes by ISO weekday and hour: `minutes[weekday][hour]`."""

    minutes: dict[int, dict[int, int]]

    def by_hour(self) -> dict[int, int]:
        """Booked minutes per hour of the day, all weekdays together."""
        return {hour: sum(self.minutes[day][hour] for day in WEEKDAYS) for hour in HOURS}

    def by_weekday(self) -> dict[int, int]:
        """Booked minutes per ISO weekday, all hours together."""
        return {day: sum(self.minutes[day].values()) for day in WEEKDAYS}


def _in_period(column: Any, period: Period) -> Any:
    return column.between(literal(period.first), literal(period.last))


def _bookable_minutes(period: Period) -> Select[Any]:
    return (
        select(
            reservable_room.c.room_id,
            func.sum(meeting_room.c.close_minute - meeting_room.c.open_minute).label("minutes"),
        )
        .select_from(room_days())
        .where(_in_period(reservable_room.c.reserved_date, period), is_bookable())
        .group_by(reservable_room.c.room_id)
    )


def _sums(table: Table) -> list[Any]:
    """booked, reservations, cancelled: the summary's figures summed."""
    return [
        func.coalesce(func.sum(table.c.booked_minutes), 0).label("booked"),
        func.coalesce(func.sum(table.c.reservations), 0).label("reservations"),
        func.coalesce(func.sum(table.c.cancelled), 0).label("cancelled"),
    ]


def _reservation_counts(period: Period) -> Select[Any]:
    return (
        select(room_day.c.room_id, *_sums(room_day))
        .where(_in_period(room_day.c.reserved_date, period))
        .group_by(room_day.c.room_id)
    )


def _group_counts(period: Period) -> Select[Any]:
    return (
        select(member.c.group_id, *_sums(user_day))
        .select_from(user_day.join(member, member.c.user_id == user_day.c.user_id))
        .where(_in_period(user_day.c.reserved_date, period))
        .group_by(member.c.group_id)
    )


def _total_bookable_minutes(period: Period) -> Select[Any]:
    return (
        select(
            func.coalesce(
                func.sum(meeting_room.c.close_minute - meeting_room.c.open_minute), 0
            ).label("minutes")
        )
        .select_from(room_days())
        .where(_in_period(reservable_room.c.reserved_date, period), is_bookable())
    )


async def group_utilisation(
    db: Database, *, period: Period, all_rooms_bookable: int | None = None
) -> list[GroupUtilisation]:
    """Per group (every group, by name; a group without members or reservations has 0s):
    its members' booked minutes over all rooms' bookable minutes, reservations and
    cancellations. `all_rooms_bookable`: that denominator when the caller has it already
    (the sum of `utilisation()` over every room), saving a pass over the open dates."""
    groups = await groups_service.list_groups(db)
    async with db.snapshot() as session:
        if all_rooms_bookable is None:
            query = _total_bookable_minutes(period)
            all_rooms_bookable = int((await session.execute(query)).scalar_one())
        bookable = all_rooms_bookable
        counts = {row.group_id: row for row in await session.execute(_group_counts(period))}
    result = []
    for summary in groups:
        result.append(
            GroupUtilisation(
                group_id=summary.group.group_id,
                group_name=summary.group.name,
                members=summary.member_count,
                **_usage(bookable, counts.get(summary.group.group_id)),
            )
        )
    return result


async def utilisation(
    db: Database, *, period: Period, room_id: int | None = None
) -> list[RoomUtilisation]:
    """Utilisation and cancellations per room over the period (every room, or the one
    asked for: an unknown room is a 404), rooms by name."""
    if room_id is not None:
        rooms = [await rooms_service.get_room(db, room_id=room_id)]
    else:
        rooms = await rooms_service.list_rooms(db)
    bookable_query = _bookable_minutes(period)
    counts_query = _reservation_counts(period)
    if room_id is not None:
        bookable_query = bookable_query.where(reservable_room.c.room_id == room_id)
        counts_query = counts_query.where(room_day.c.room_id == room_id)
    async with db.snapshot() as session:
        bookable = {row.room_id: int(row.minutes) for row in await session.execute(bookable_query)}
        counts = {row.room_id: row for row in await session.execute(counts_query)}
    result = []
    for room in rooms:
        result.append(
            RoomUtilisation(
                room_id=room.room_id,
                room_name=room.room_name,
                **_usage(bookable.get(room.room_id, 0), counts.get(room.room_id)),
            )
        )
    return result


def _minutes_by_date_and_hour(period: Period) -> Select[Any]:
    """Per date of the period, the summary's minutes in each hour (`h00`..`h23`)."""
    return (
        select(
            hour_day.c.reserved_date,
            *(func.sum(hour_day.c[name]).label(name) for name in HOUR_COLUMNS),
        )
        .where(_in_period(hour_day.c.reserved_date, period))
        .group_by(hour_day.c.reserved_date)
    )


async def busiest_hours(db: Database, *, period: Period) -> BusiestHours:
    """Booked minutes of ACTIVE reservations by weekday and hour of the day.

    SQL sums the summary's hour columns per date (at most 366 rows); the dates are then
    folded into weekdays here, which keeps the query the same on both databases.
    """
    query = _minutes_by_date_and_hour(period)
    minutes: dict[int, dict[int, int]] = {day: dict.fromkeys(HOURS, 0) for day in WEEKDAYS}
    async with db.snapshot() as session:
        rows = (await session.execute(query)).all()
    for row in rows:
        day = row.reserved_date
        if not isinstance(day, date):
            day = date.fromisoformat(str(day))
        for hour, name in zip(HOURS, HOUR_COLUMNS, strict=True):
            minutes[day.isoweekday()][hour] += int(row._mapping[name] or 0)
    return BusiestHours(minutes=minutes)
