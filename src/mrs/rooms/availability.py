"""The one rule for "is this room bookable on this date", as SQL expressions.

A room is bookable on a date when it is in use (`meeting_room.active`) and opened for
that date (`reservable_room.is_open`: by an admin, or by the daily job from the room's
opening rule); a time range on it is bookable when it also lies within the room's
bookable hours (`meeting_room.open_minute`..`close_minute`). Every place that asks (the
reservation insert, the rooms of a day, a room's page, the reason a booking was refused)
builds its statement from this module, so the copies cannot drift apart: they once did,
and a room taken out of use stayed bookable through the API.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Join,
    Select,
    Table,
    and_,
    bindparam,
    select,
    true,
)

from mrs.db.engine import Database
from mrs.rooms.models import MeetingRoom, ReservableRoom

meeting_room: Table = MeetingRoom.__table__  # type: ignore[assignment]
reservable_room: Table = ReservableRoom.__table__  # type: ignore[assignment]


class Unbookable(enum.StrEnum):
    """Why a room cannot be reserved on a date."""

    NO_ROOM = "no_room"
    OUT_OF_USE = "out_of_use"
    NOT_OPEN = "not_open"


@dataclass(frozen=True)
class OutsideHours:
    """The time range asked for lies outside the room's bookable hours (these)."""

    open_minute: int
    close_minute: int


def room_days() -> Join:
    """`reservable_room` joined to its `meeting_room`: the FROM of every bookable query."""
    return reservable_room.join(meeting_room, meeting_room.c.room_id == reservable_room.c.room_id)


def is_bookable() -> ColumnElement[bool]:
    """True for a row of `room_days()` whose room may be reserved on that row's date."""
    return and_(reservable_room.c.is_open == true(), meeting_room.c.active == true())


def bookable_day(room_id: Any, day: Any) -> Select[Any]:
    """One row (the room id) when `room_id` is bookable on `day`, none otherwise.

    `room_id` and `day` are bound parameters or columns of the enclosing statement.
    """
    return (
        select(reservable_room.c.room_id)
        .select_from(room_days())
        .where(
            reservable_room.c.room_id == room_id,
            reservable_room.c.reserved_date == day,
            is_bookable(),
        )
    )


def within_hours(start_minute: Any, end_minute: Any) -> ColumnElement[bool]:
    """True for a row of `room_days()` whose room's bookable hours hold the time range
    (`start_minute`, `end_minute`: bound parameters or columns of the statement)."""
    return and_(
        meeting_room.c.open_minute <= start_minute, meeting_room.c.close_minute >= end_minute
    )


def bookable_slot(room_id: Any, day: Any, start_minute: Any, end_minute: Any) -> Select[Any]:
    """One row (the room id) when the time range on `day` is bookable in the room: the
    room is bookable that day and the range lies within its bookable hours."""
    return bookable_day(room_id, day).where(within_hours(start_minute, end_minute))


_DAY = bindparam("day", type_=Date())
_ROOM_STATE = (
    select(
        meeting_room.c.active,
        meeting_room.c.open_minute,
        meeting_room.c.close_minute,
        reservable_room.c.is_open,
    )
    .select_from(
        meeting_room.outerjoin(
            reservable_room,
            and_(
                reservable_room.c.room_id == meeting_room.c.room_id,
                reservable_room.c.reserved_date == _DAY,
            ),
        )
    )
    .where(meeting_room.c.room_id == bindparam("room_id", type_=Integer()))
)


async def why_not_bookable(
    db: Database,
    *,
    room_id: int,
    day: date,
    start_minute: int | None = None,
    end_minute: int | None = None,
) -> Unbookable | OutsideHours | None:
    """Why the room cannot be reserved on `day` (from `start_minute` to `end_minute`, when
    given), or None when it can (the same rule as `is_bookable` and `within_hours`, asked
    for one room in words a person can act on)."""
    rows = await db.read(_ROOM_STATE, {"room_id": room_id, "day": day})
    if not rows:
        return Unbookable.NO_ROOM
    if not rows[0].active:
        return Unbookable.OUT_OF_USE
    if not rows[0].is_open:
        return Unbookable.NOT_OPEN
    room = rows[0]
    if (
        start_minute is not None
        and end_minute is not None
        and not (room.open_minute <= start_minute and end_minute <= room.close_minute)
    ):
        return OutsideHours(open_minute=room.open_minute, close_minute=room.close_minute)
    return None
