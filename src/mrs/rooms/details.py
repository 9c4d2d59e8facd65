"""What the room pages show beside a room's times: its description, its bookable hours
and its equipment with both names, for every room bookable on a day (one statement, on
the request path's fast reads) or for one room."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Date, Integer, Select, Table, bindparam, select

from mrs.db.engine import Database
from mrs.rooms import availability
from mrs.rooms.models import Equipment, RoomEquipment

equipment_table: Table = Equipment.__table__  # type: ignore[assignment]
room_equipment: Table = RoomEquipment.__table__  # type: ignore[assignment]
meeting_room = availability.meeting_room


@dataclass(frozen=True)
class EquipmentName:
    """A piece of equipment as people read it: the name in their language."""

    code: str
    name_en: str
    name_ja: str

    def name(self, locale: str) -> str:
        return self.name_ja if locale == "ja" else self.name_en


@dataclass(frozen=True)
class RoomDetails:
    """A room's description, bookable hours and equipment (by English name)."""

    room_id: int
    description: str
    open_minute: int
    close_minute: int
    equipment: list[EquipmentName] = field(default_factory=list)


_COLUMNS = (
    meeting_room.c.room_id,
    meeting_room.c.description,
    meeting_room.c.open_minute,
    meeting_room.c.close_minute,
    equipment_table.c.equipment_code,
    equipment_table.c.name_en,
    equipment_table.c.name_ja,
)


def _with_equipment(base: Any) -> Any:
    """`base` (a FROM holding meeting_room) with each room's equipment, if any."""
    return base.outerjoin(
        room_equipment, room_equipment.c.room_id == meeting_room.c.room_id
    ).outerjoin(
        equipment_table, equipment_table.c.equipment_code == room_equipment.c.equipment_code
    )


# A row per room and piece of equipment (one row for a room with none).
_OF_DAY: Select[Any] = (
    select(*_COLUMNS)
    .select_from(_with_equipment(availability.room_days()))
    .where(
        availability.reservable_room.c.reserved_date == bindparam("day", type_=Date()),
        availability.is_bookable(),
    )
    .order_by(meeting_room.c.room_id, equipment_table.c.name_en)
)
_OF_ROOM: Select[Any] = (
    select(*_COLUMNS)
    .select_from(_with_equipment(meeting_room))
    .where(meeting_room.c.room_id == bindparam("room_id", type_=Integer()))
    .order_by(equipment_table.c.name_en)
)


def _collect(rows: Sequence[Any]) -> dict[int, RoomDetails]:
    found: dict[int, RoomDetails] = {}
    for row in rows:
        details = found.get(row.room_id)
        if details is None:
            details = found[row.room_id] = RoomDetails(
                room_id=row.room_id,
                description=row.description,
                open_minute=row.open_minute,
                close_minute=row.close_minute,
            )
        if row.equipment_code is not None:
            details.equipment.append(EquipmentName(row.equipment_code, row.name_en, row.name_ja))
    return found


async def details_of_day(db: Database, *, day: date) -> dict[int, RoomDetails]:
    """The details of every room bookable on `day`, by room id (one statement)."""
    return _collect(await db.read(_OF_DAY, {"day": day}))


async def details_of_room(db: Database, *, room_id: int) -> RoomDetails | None:
    """One room's details (None when there is no such room)."""
    return _collect(await db.read(_OF_ROOM, {"room_id": room_id})).get(room_id)
