"""Free-room search: the rooms bookable and free for a whole time range on a day, with
room for the party and everything asked for, smallest adequate room first.

One statement per search (built once per number of equipment codes): bookable is the one
rule of `mrs.rooms.availability`, free is "no active reservation overlaps" (half-open, as
the reservation insert decides it), and each asked-for code must be among the room's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import (
    Date,
    Integer,
    Select,
    String,
    Table,
    and_,
    bindparam,
    exists,
    select,
)

from mrs.db.engine import Database
from mrs.errors import InvalidInput
from mrs.reservations import rules, statements, timelines
from mrs.reservations.errors import TooManyEquipmentCodes, UnknownEquipmentCode
from mrs.reservations.models import Reservation
from mrs.rooms import availability
from mrs.rooms.models import Equipment, RoomEquipment
from mrs.settings import Settings

MAX_EQUIPMENT_CODES = 10
# The shape of an equipment code (the column holds 40 characters).
_CODE_RE = re.compile(r"[A-Za-z0-9_.\-]{1,40}")

_reservation: Table = Reservation.__table__  # type: ignore[assignment]
_room_equipment: Table = RoomEquipment.__table__  # type: ignore[assignment]
_equipment: Table = Equipment.__table__  # type: ignore[assignment]
_meeting_room = availability.meeting_room
_reservable_room = availability.reservable_room


@dataclass(frozen=True)
class FreeRoomQuery:
    """A checked search: a day, a half-open time range on slot boundaries, the party's
    size (None: any room) and equipment codes every result must offer."""

    day: date
    start_minute: int
    end_minute: int
    capacity: int | None
    equipment: tuple[str, ...]


class FreeRoom(NamedTuple):
    """A room found free (a tuple: a search over 1,000 rooms finds hundreds)."""

    room_id: int
    room_name: str
    capacity: int | None
    location: str | None
    equipment: list[str]


def parse_equipment_codes(raw: str | list[str]) -> tuple[str, ...]:
    """Equipment codes from "a,b" (or a list of them), trimmed, without repeats, in the
    order given; more than MAX_EQUIPMENT_CODES or a malformed one is refused."""
    items = raw if isinstance(raw, list) else [raw]
    codes: list[str] = []
    for item in items:
        for code in (part.strip() for part in item.split(",")):
            if code and code not in codes:
                codes.append(code)
    if len(codes) > MAX_EQUIPMENT_CODES:
        raise TooManyEquipmentCodes(details={"field": "equipment"}, max_codes=MAX_EQUIPMENT_CODES)
    bad = [code for code in codes if not _CODE_RE.fullmatch(code)]
    if bad:
        raise UnknownEquipmentCode(
            details={"field": "equipment", "codes": bad[:MAX_EQUIPMENT_CODES]},
            codes=", ".join(code[:40] for code in bad[:3]),
        )
    return tuple(codes)


def check_query(query: FreeRoomQuery, settings: Settings) -> None:
    """The time range of a search obeys the reservation rules (end after start, on slot
    boundaries, times that exist that day); errors name the field at fault."""
    try:
        rules.check_time_range(query.start_minute, query.end_minute, settings.slot_minutes)
    except InvalidInput as exc:
        raise type(exc)(details={"field": "end_time"}, **exc.params) from exc
    rules.check_times_exist(query.day, query.start_minute, query.end_minute, settings.tz)
    if query.capacity is not None and query.capacity < 1:
        raise InvalidInput("Enter a value of at least {ge}.", details={"field": "capacity"}, ge=1)


@cache
def _free_rooms(dialect: str, codes: int, with_capacity: bool) -> Select[Any]:
    day = bindparam("day", type_=Date())
    start = bindparam("start_minute", type_=Integer())
    end = bindparam("end_minute", type_=Integer())
    overlapping = exists().where(
        _reservation.c.room_id == _meeting_room.c.room_id,
        _reservation.c.reserved_date == day,
        statements.holds_slot(_reservation),
        _reservation.c.start_minute < end,
        _reservation.c.end_minute > start,
    )
    conditions: list[Any] = [
        _reservable_room.c.reserved_date == day,
        availability.is_bookable(),
        availability.within_hours(start, end),
        ~overlapping,
    ]
    if with_capacity:
        conditions.append(_meeting_room.c.capacity >= bindparam("capacity", type_=Integer()))
    for index in range(codes):
        conditions.append(
            exists().where(
                _room_equipment.c.room_id == _meeting_room.c.room_id,
                _room_equipment.c.equipment_code == bindparam(f"code_{index}", type_=String()),
            )
        )
    return (
        select(
            _meeting_room.c.room_id,
            _meeting_room.c.room_name,
            _meeting_room.c.capacity,
            _meeting_room.c.location,
            timelines.packed_equipment(dialect),
        )
        .select_from(availability.room_days())
        .where(and_(*conditions))
        .order_by(
            _meeting_room.c.capacity.is_(None),
            _meeting_room.c.capacity,
            _meeting_room.c.room_name,
            _meeting_room.c.room_id,
        )
    )


_KNOWN_CODES: dict[int, Select[Any]] = {}


def _known_codes(codes: int) -> Select[Any]:
    statement = _KNOWN_CODES.get(codes)
    if statement is None:
        statement = select(_equipment.c.equipment_code).where(
            _equipment.c.equipment_code.in_(
                [bindparam(f"code_{index}", type_=String()) for index in range(codes)]
            )
        )
        _KNOWN_CODES[codes] = statement
    return statement


async def free_rooms(db: Database, *, settings: Settings, query: FreeRoomQuery) -> list[FreeRoom]:
    """The rooms bookable and free from start to end on the day, seating at least
    `capacity` (rooms of unknown size only when no capacity is asked) and offering every
    code: by capacity (unknown last), then name. An unknown code is refused (422)."""
    check_query(query, settings)
    params: dict[str, Any] = {
        "day": query.day,
        "start_minute": query.start_minute,
        "end_minute": query.end_minute,
        "capacity": query.capacity,
    }
    params.update({f"code_{index}": code for index, code in enumerate(query.equipment)})
    statement = _free_rooms(db.dialect, len(query.equipment), query.capacity is not None)
    rows = await db.read(statement, params)
    if not rows and query.equipment:
        # A room offering every code proves they exist; with none found, ask the list.
        await _check_codes_exist(db, query.equipment)
    return [
        FreeRoom(
            room_id=row.room_id,
            room_name=row.room_name,
            capacity=row.capacity,
            location=row.location,
            equipment=sorted(row.equipment.split(",")) if row.equipment else [],
        )
        for row in rows
    ]


async def _check_codes_exist(db: Database, codes: tuple[str, ...]) -> None:
    params = {f"code_{index}": code for index, code in enumerate(codes)}
    known = {row.equipment_code for row in await db.read(_known_codes(len(codes)), params)}
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise UnknownEquipmentCode(
            details={"field": "equipment", "codes": unknown}, codes=", ".join(unknown)
        )
