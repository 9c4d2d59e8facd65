"""The hot statements over the reservation table, written once as SQLAlchemy Core.

Built from the `Table` objects, so the imports say which package reads which table.
Each is built once (per dialect where they differ) and kept: `Database.read`/`write`
compile a statement once for the psycopg fast path and remember it, and every parameter
is a named `bindparam`, never a literal value, because that path sends only the
parameters it is given.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    String,
    Table,
    and_,
    bindparam,
    cast,
    exists,
    func,
    insert,
    literal_column,
    select,
)

from mrs.accounts.models import User
from mrs.db.types import UTCDateTime
from mrs.reservations.models import Reservation, ReservationStatus
from mrs.rooms import availability
from mrs.rooms.models import MeetingRoom

reservation: Table = Reservation.__table__  # type: ignore[assignment]
meeting_room: Table = MeetingRoom.__table__  # type: ignore[assignment]
usr: Table = User.__table__  # type: ignore[assignment]

ROOM_ID = bindparam("room_id", type_=Integer())
DAY = bindparam("day", type_=Date())
_START = bindparam("start_minute", type_=Integer())
_END = bindparam("end_minute", type_=Integer())
_ACTIVE_VALUE = literal_column(f"'{ReservationStatus.ACTIVE.value}'", String())


def _active(table: Any) -> ColumnElement[bool]:
    return table.c.status == _ACTIVE_VALUE  # type: ignore[no-any-return]


def _view() -> Select[Any]:
    """A reservation with its room's name and its owner's names (a ReservationView row)."""
    return select(
        reservation.c.reservation_id,
        reservation.c.room_id,
        meeting_room.c.room_name,
        reservation.c.reserved_date,
        reservation.c.start_minute,
        reservation.c.end_minute,
        reservation.c.user_id,
        usr.c.first_name,
        usr.c.last_name,
        reservation.c.status,
        reservation.c.created_at,
        reservation.c.cancelled_at,
        reservation.c.cancelled_by,
    ).select_from(
        reservation.join(meeting_room, meeting_room.c.room_id == reservation.c.room_id).join(
            usr, usr.c.user_id == reservation.c.user_id
        )
    )


RESERVATION_BY_ID = _view().where(
    reservation.c.reservation_id == bindparam("reservation_id", type_=Integer())
)
ROOM_DAY = (
    _view()
    .where(
        reservation.c.room_id == ROOM_ID, reservation.c.reserved_date == DAY, _active(reservation)
    )
    .order_by(reservation.c.start_minute)
)
OF_USER = (
    _view()
    .where(reservation.c.user_id == bindparam("user_id", type_=String()))
    .order_by(reservation.c.reserved_date.desc(), reservation.c.start_minute.desc())
    .limit(bindparam("limit", type_=Integer()))
)


def _overlapping(table: Any) -> ColumnElement[bool]:
    """Active reservations of `table` (the reservation table or an alias) in the way of
    the requested room, day and half-open time range."""
    return and_(
        table.c.room_id == ROOM_ID,
        table.c.reserved_date == DAY,
        _active(table),
        table.c.start_minute < _END,
        table.c.end_minute > _START,
    )


FIRST_OVERLAP = (
    select(reservation.c.reservation_id, reservation.c.start_minute, reservation.c.end_minute)
    .where(_overlapping(reservation))
    .order_by(reservation.c.start_minute)
    .limit(literal_column("1", Integer()))
)


@cache
def insert_if_free(dialect: str) -> Any:
    """Insert the reservation only when the room is bookable that day within its bookable
    hours (the one rule, in the same statement: never only a pre-check) and no active
    reservation overlaps.

    PostgreSQL: one round trip that also reads the new reservation's view back. SQLite
    allows no INSERT inside a WITH clause: it returns the id only, to be read after.
    """
    # FOR SHARE makes an admin closing this date wait for us (and us for them).
    slot = (
        availability.bookable_slot(ROOM_ID, DAY, _START, _END)
        .with_for_update(read=True, of=availability.reservable_room)
        .cte("slot")
    )
    other = reservation.alias("other")
    rows = (
        select(
            ROOM_ID,
            DAY,
            _START,
            _END,
            bindparam("user_id", type_=String()),
            _ACTIVE_VALUE,
            bindparam("now", type_=UTCDateTime()),
        )
        .select_from(slot)
        .where(~exists().where(_overlapping(other)))
    )
    new = insert(reservation).from_select(
        [
            "room_id",
            "reserved_date",
            "start_minute",
            "end_minute",
            "user_id",
            "status",
            "created_at",
        ],
        rows,
    )
    if dialect != "postgresql":
        return new.returning(reservation.c.reservation_id)
    made = new.returning(*reservation.c).cte("new")
    return select(
        made,
        meeting_room.c.room_name,
        usr.c.first_name,
        usr.c.last_name,
    ).select_from(
        made.join(meeting_room, meeting_room.c.room_id == made.c.room_id).join(
            usr, usr.c.user_id == made.c.user_id
        )
    )


@cache
def timelines_of_day(dialect: str) -> Select[Any]:
    """One row per room bookable on `day` (by name) with its taken times packed as
    "540-600,600-660": a row per reservation (500 for 50 busy rooms) cost the page more
    to fetch than the packing does."""
    aggregate = func.string_agg if dialect == "postgresql" else func.group_concat
    packed = (
        cast(reservation.c.start_minute, String())
        + literal_column("'-'")
        + cast(reservation.c.end_minute, String())
    )
    taken = (
        select(reservation.c.room_id, aggregate(packed, literal_column("','")).label("ranges"))
        .where(reservation.c.reserved_date == DAY, _active(reservation))
        .group_by(reservation.c.room_id)
        .subquery("taken")
    )
    return (
        select(
            meeting_room.c.room_id,
            meeting_room.c.room_name,
            meeting_room.c.capacity,
            meeting_room.c.location,
            taken.c.ranges,
        )
        .select_from(
            availability.room_days().outerjoin(taken, taken.c.room_id == meeting_room.c.room_id)
        )
        .where(availability.reservable_room.c.reserved_date == DAY, availability.is_bookable())
        .order_by(meeting_room.c.room_name, meeting_room.c.room_id)
    )
