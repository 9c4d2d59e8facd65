"""Room routes: admin room management, the equipment list and the site's closure days.
(The rooms bookable on a day, closing dates and adding a closure day read reservations,
so those routes live in `mrs.reservations.api`.)"""

from __future__ import annotations

from fastapi import APIRouter, Path, status

from mrs.accounts.dependencies import AdminUser, CurrentUser
from mrs.http.dependencies import DatabaseDep, NowDep, SettingsDep
from mrs.http.types import IsoDate, RoomIdPath
from mrs.rooms import equipment, opening, service
from mrs.rooms.models import ClosureDay, Equipment
from mrs.rooms.schemas import (
    ClosureDayRead,
    EquipmentCode,
    EquipmentCreate,
    EquipmentRead,
    EquipmentUpdate,
    RoomCreate,
    RoomOpening,
    RoomOpeningResult,
    RoomRead,
    RoomUpdate,
)

router = APIRouter(prefix="/api", tags=["rooms"])

EquipmentCodePath = Path(description="Equipment code", pattern=r"^[a-z0-9-]{1,40}$")


@router.get("/admin/rooms", response_model=list[RoomRead])
async def list_rooms(_admin: AdminUser, db: DatabaseDep) -> list[RoomRead]:
    return [RoomRead.of(room) for room in await service.list_rooms(db)]


@router.post("/admin/rooms", response_model=RoomRead, status_code=status.HTTP_201_CREATED)
async def create_room(
    body: RoomCreate, admin: AdminUser, db: DatabaseDep, settings: SettingsDep, now: NowDep
) -> RoomRead:
    """Add a room; its opening rule defaults to the site's for new rooms, and a room that
    opens automatically is bookable at once (its dates opened ahead)."""
    room = await service.add_room(
        db,
        settings=settings,
        today=now.astimezone(settings.tz).date(),
        room_name=body.room_name,
        capacity=body.capacity,
        location=body.location,
        description=body.description,
        equipment=body.equipment,
        opening_changes=body.opening.changes() if body.opening is not None else None,
        has_feed=body.has_feed,
        actor_id=admin.user_id,
        now=now,
    )
    return RoomRead.of(room)


@router.patch("/admin/rooms/{room_id}", response_model=RoomRead)
async def update_room(
    room_id: RoomIdPath,
    body: RoomUpdate,
    admin: AdminUser,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
) -> RoomRead:
    changes = body.model_dump(exclude_unset=True, exclude={"opening"})
    if body.opening is not None:
        changes["opening"] = body.opening.changes()
    room = await service.change_room(
        db,
        settings=settings,
        today=now.astimezone(settings.tz).date(),
        room_id=room_id,
        changes=changes,
        actor_id=admin.user_id,
        now=now,
    )
    return RoomRead.of(room)


@router.post("/admin/rooms/{room_id}/open", response_model=RoomOpeningResult)
async def open_room(
    room_id: RoomIdPath, body: RoomOpening, admin: AdminUser, db: DatabaseDep, now: NowDep
) -> RoomOpeningResult:
    """Make the room reservable on each date of the range (optionally only some weekdays)."""
    days = await service.open_room(
        db,
        room_id=room_id,
        from_date=body.from_date,
        to_date=body.to_date,
        weekdays=body.weekdays,
        actor_id=admin.user_id,
        now=now,
    )
    return RoomOpeningResult(room_id=room_id, dates_changed=len(days), dates=days)


# --- equipment ---


@router.get("/equipment", response_model=list[EquipmentRead])
async def list_equipment(_user: CurrentUser, db: DatabaseDep) -> list[Equipment]:
    """What rooms can offer (for searching rooms by equipment)."""
    return await equipment.list_equipment(db)


@router.get("/admin/equipment", response_model=list[EquipmentRead])
async def admin_list_equipment(_admin: AdminUser, db: DatabaseDep) -> list[Equipment]:
    return await equipment.list_equipment(db)


@router.post("/admin/equipment", response_model=EquipmentRead, status_code=status.HTTP_201_CREATED)
async def create_equipment(
    body: EquipmentCreate, admin: AdminUser, db: DatabaseDep, now: NowDep
) -> Equipment:
    """Add to the list of equipment; a code already there is a 409."""
    return await equipment.create_equipment(
        db,
        code=body.code,
        name_en=body.name_en,
        name_ja=body.name_ja,
        now=now,
        actor_id=admin.user_id,
    )


@router.patch("/admin/equipment/{code}", response_model=EquipmentRead)
async def update_equipment(
    body: EquipmentUpdate,
    admin: AdminUser,
    db: DatabaseDep,
    code: EquipmentCode = EquipmentCodePath,
) -> Equipment:
    return await equipment.update_equipment(
        db, code=code, changes=body.model_dump(exclude_unset=True), actor_id=admin.user_id
    )


@router.delete("/admin/equipment/{code}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_equipment(
    admin: AdminUser, db: DatabaseDep, code: EquipmentCode = EquipmentCodePath
) -> None:
    """Remove from the list, and from every room that offered it."""
    await equipment.delete_equipment(db, code=code, actor_id=admin.user_id)


# --- closure days (adding one closes every room: `mrs.reservations.api`) ---


@router.get("/admin/closure-days", response_model=list[ClosureDayRead])
async def list_closure_days(_admin: AdminUser, db: DatabaseDep) -> list[ClosureDay]:
    return await opening.list_closure_days(db)


@router.delete("/admin/closure-days/{day}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_closure_day(day: IsoDate, admin: AdminUser, db: DatabaseDep) -> None:
    """Take the date off the list (rooms closed for it stay closed until opened by hand)."""
    await opening.delete_closure_day(db, day=day, actor_id=admin.user_id)
