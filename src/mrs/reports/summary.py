"""The reports' summary tables (migration 0017) and their rebuild from scratch.

The reports read these instead of every reservation: `report_room_day` per room and
date and `report_user_day` per owner and date (counted booked minutes, reservations,
cancelled), and `report_hour_day` per date and room bucket (`room_id % 16`): `h00`..`h23`,
the minutes of active reservations in each hour of the day. Database triggers keep them exact on
every insert, update and delete of a reservation and on every change of a room's hours,
use or open dates (the migration explains the rule). They are derived data, so they are
declared on their own MetaData, not the application's: a database copy neither copies
nor compares them, it rebuilds them (`rebuild`), and `mrs reports rebuild` does the same
on a live database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Date,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    text,
)

from mrs.db.base import NAMING_CONVENTION
from mrs.reservations.models import Reservation, ReservationStatus
from mrs.rooms.availability import meeting_room, reservable_room

HOUR_COLUMNS = tuple(f"h{hour:02d}" for hour in range(24))
FIGURES = ("booked_minutes", "reservations", "cancelled")
BUCKETS = 16

metadata = MetaData(naming_convention=NAMING_CONVENTION)

room_day = Table(
    "report_room_day",
    metadata,
    Column("room_id", Integer, primary_key=True),
    Column("reserved_date", Date, primary_key=True),
    *(Column(name, Integer, nullable=False) for name in FIGURES),
)

user_day = Table(
    "report_user_day",
    metadata,
    Column("user_id", String(32), primary_key=True),
    Column("reserved_date", Date, primary_key=True),
    *(Column(name, Integer, nullable=False) for name in FIGURES),
)

hour_day = Table(
    "report_hour_day",
    metadata,
    Column("reserved_date", Date, primary_key=True),
    Column("room_bucket", SmallInteger, primary_key=True),
    *(Column(name, Integer, nullable=False) for name in HOUR_COLUMNS),
)

reservation: Table = Reservation.__table__  # type: ignore[assignment]


def _overlap(start: Any, end: Any, low: Any, high: Any) -> ColumnElement[int]:
    """The minutes of [start, end) inside [low, high), 0 when none (CASE: SQLite has no
    GREATEST/LEAST)."""
    first = case((start < low, low), else_=start)
    last = case((end > high, high), else_=end)
    return case((last > first, last - first), else_=0)


def _figures() -> list[ColumnElement[int]]:
    """Per reservation row (joined as in `_sources`): booked_minutes, reservations,
    cancelled, h00..h23, to be summed."""
    active = reservation.c.status == ReservationStatus.ACTIVE.value
    counted = and_(active, reservable_room.c.is_open, meeting_room.c.active)
    span = (reservation.c.start_minute, reservation.c.end_minute)
    booked = _overlap(*span, meeting_room.c.open_minute, meeting_room.c.close_minute)
    return [
        case((counted, booked), else_=0),
        literal(1, Integer()),
        case((reservation.c.status == ReservationStatus.CANCELLED.value, 1), else_=0),
        *(
            case((active, _overlap(*span, 60 * hour, 60 * hour + 60)), else_=0)
            for hour in range(24)
        ),
    ]


def _sources() -> Any:
    return reservation.join(meeting_room, meeting_room.c.room_id == reservation.c.room_id).join(
        reservable_room,
        and_(
            reservable_room.c.room_id == reservation.c.room_id,
            reservable_room.c.reserved_date == reservation.c.reserved_date,
        ),
        isouter=True,
    )


@dataclass(frozen=True)
class Rebuilt:
    room_days: int
    user_days: int
    hour_days: int


def rebuild(connection: Connection) -> Rebuilt:
    """Recompute both summary tables from every reservation, in the caller's transaction.

    On PostgreSQL the reservations and the room state are first locked against writes
    (SHARE: reads go on), so no booking commits between the delete and the refill: its
    trigger would otherwise add to rows the refill counted already or not yet. Bookings
    wait for the rebuild's commit.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("LOCK TABLE reservation, reservable_room, meeting_room IN SHARE MODE")
        )
        # A whole history is read: no request's statement timeout, and room for the
        # aggregate's hash (a year of 1,000 rooms: 365,000 groups) to stay in memory.
        connection.execute(text("SET LOCAL statement_timeout = 0"))
        connection.execute(text("SET LOCAL work_mem = '64MB'"))
    figures = _figures()
    connection.execute(delete(room_day))
    connection.execute(delete(user_day))
    connection.execute(delete(hour_day))
    connection.execute(
        insert(room_day).from_select(
            ["room_id", "reserved_date", *FIGURES],
            select(
                reservation.c.room_id,
                reservation.c.reserved_date,
                *(func.sum(figure) for figure in figures[: len(FIGURES)]),
            )
            .select_from(_sources())
            .group_by(reservation.c.room_id, reservation.c.reserved_date),
        )
    )
    connection.execute(
        insert(user_day).from_select(
            ["user_id", "reserved_date", *FIGURES],
            select(
                reservation.c.user_id,
                reservation.c.reserved_date,
                *(func.sum(figure) for figure in figures[: len(FIGURES)]),
            )
            .select_from(_sources())
            .group_by(reservation.c.user_id, reservation.c.reserved_date),
        )
    )
    bucket = reservation.c.room_id % BUCKETS
    connection.execute(
        insert(hour_day).from_select(
            ["room_bucket", "reserved_date", *HOUR_COLUMNS],
            select(
                bucket,
                reservation.c.reserved_date,
                *(func.sum(figure) for figure in figures[len(FIGURES) :]),
            )
            .select_from(_sources())
            .where(reservation.c.status == ReservationStatus.ACTIVE.value)
            .group_by(bucket, reservation.c.reserved_date),
        )
    )

    def count(table: Table) -> int:
        return int(connection.scalar(select(func.count()).select_from(table)) or 0)

    return Rebuilt(room_days=count(room_day), user_days=count(user_day), hour_days=count(hour_day))


def contents(connection: Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Both tables' rows in key order (dates as ISO text): what a rebuild must reproduce."""
    result = {}
    for table in (room_day, user_day, hour_day):
        keys = [column for column in table.primary_key.columns]
        rows = connection.execute(select(table).order_by(*keys)).all()
        result[table.name] = [
            (str(row[0]), str(row[1]), *(int(value) for value in row[2:])) for row in rows
        ]
    return result
