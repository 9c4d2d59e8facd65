"""The admin-managed list of what rooms can offer (projector, whiteboard, …), and which
room offers what."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mrs.audit import service as audit
from mrs.db.engine import Database
from mrs.rooms.errors import EquipmentCodeTaken, EquipmentNotFound, UnknownEquipment
from mrs.rooms.models import Equipment, RoomEquipment


async def list_equipment(db: Database) -> list[Equipment]:
    """Every piece of equipment, by code."""
    async with db.snapshot() as session:
        return list(
            (await session.scalars(select(Equipment).order_by(Equipment.equipment_code))).all()
        )


def _names(item: Equipment) -> dict[str, str]:
    return {"name_en": item.name_en, "name_ja": item.name_ja}


async def create_equipment(
    db: Database,
    *,
    code: str,
    name_en: str,
    name_ja: str,
    now: datetime,
    actor_id: str | None = None,
) -> Equipment:
    """Add a piece of equipment to the list; a code already there is a conflict."""
    item = Equipment(equipment_code=code, name_en=name_en, name_ja=name_ja, created_at=now)
    try:
        async with db.transaction() as session:
            if await session.get(Equipment, code) is not None:
                raise EquipmentCodeTaken(code=code)
            session.add(item)
            await audit.record(
                session,
                action="equipment.create",
                subject_type="equipment",
                subject_id=code,
                after=_names(item),
                actor_id=actor_id,
            )
    except IntegrityError as exc:
        raise EquipmentCodeTaken(code=code) from exc
    return item


async def update_equipment(
    db: Database, *, code: str, changes: dict[str, str], actor_id: str | None = None
) -> Equipment:
    """Rename a piece of equipment (only the names given change; the code never does)."""
    async with db.transaction() as session:
        item = await session.get(Equipment, code)
        if item is None:
            raise EquipmentNotFound(code=code)
        was = _names(item)
        for field, value in changes.items():
            setattr(item, field, value)
        before, after = audit.changed(was, _names(item))
        if after:
            await audit.record(
                session,
                action="equipment.update",
                subject_type="equipment",
                subject_id=code,
                before=before,
                after=after,
                actor_id=actor_id,
            )
    return item


async def delete_equipment(db: Database, *, code: str, actor_id: str | None = None) -> None:
    """Remove a piece of equipment from the list and from every room offering it."""
    async with db.transaction() as session:
        item = await session.get(Equipment, code)
        if item is None:
            raise EquipmentNotFound(code=code)
        await audit.record(
            session,
            action="equipment.delete",
            subject_type="equipment",
            subject_id=code,
            before=_names(item),
            actor_id=actor_id,
        )
        # Explicit rather than relying on ON DELETE CASCADE alone: SQLite only cascades
        # with its foreign keys switched on.
        await session.execute(delete(RoomEquipment).where(RoomEquipment.equipment_code == code))
        await session.execute(delete(Equipment).where(Equipment.equipment_code == code))


async def set_room_equipment(
    session: AsyncSession, *, room_id: int, codes: Collection[str]
) -> None:
    """Within the caller's transaction: the room offers exactly `codes` (all must be on
    the list, else UnknownEquipment names the others)."""
    wanted = set(codes)
    if wanted:
        known = set(
            (
                await session.scalars(
                    select(Equipment.equipment_code).where(Equipment.equipment_code.in_(wanted))
                )
            ).all()
        )
        unknown = sorted(wanted - known)
        if unknown:
            raise UnknownEquipment(
                details={"field": "equipment", "unknown": unknown}, codes=", ".join(unknown)
            )
    await session.execute(delete(RoomEquipment).where(RoomEquipment.room_id == room_id))
    if wanted:
        await session.execute(
            insert(RoomEquipment),
            [{"room_id": room_id, "equipment_code": code} for code in sorted(wanted)],
        )


async def codes_of_rooms(session: AsyncSession, room_ids: Sequence[int]) -> dict[int, list[str]]:
    """Within a session: each room's equipment codes, sorted (every room id is a key)."""
    found: dict[int, list[str]] = {room_id: [] for room_id in room_ids}
    if not room_ids:
        return found
    rows = await session.execute(
        select(RoomEquipment.room_id, RoomEquipment.equipment_code)
        .where(RoomEquipment.room_id.in_(list(room_ids)))
        .order_by(RoomEquipment.room_id, RoomEquipment.equipment_code)
    )
    for row in rows:
        found[row.room_id].append(row.equipment_code)
    return found
