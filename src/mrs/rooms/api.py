"""Room routes: admin room management. (The rooms bookable on a day and closing dates
read reservations, so those routes live in `mrs.reservations.api`.)"""

from __future__ import annotations

from fastapi import APIRouter, status

from mrs.accounts.dependencies import AdminUser
from mrs.http.dependencies import DatabaseDep
from mrs.http.types import RoomIdPath
from mrs.rooms import service
from mrs.rooms.models import MeetingRoom
from mrs.rooms.schemas import (
    RoomCreate,
    RoomOpening,
    RoomOpeningResult,
    RoomRead,
    RoomUpdate,
)

router = APIRouter(prefix="/api", tags=["rooms"])


@router.get("/admin/rooms", response_model=list[RoomRead])
async def list_rooms(_admin: AdminUser, db: DatabaseDep) -> list[MeetingRoom]:
    return await service.list_rooms(db)


@router.post("/admin/rooms", response_model=RoomRead, status_code=status.HTTP_201_CREATED)
async def create_room(body: RoomCreate, _admin: AdminUser, db: DatabaseDep) -> MeetingRoom:
    return await service.create_room(
        db, room_name=body.room_name, capacity=body.capacity, location=body.location
    )


@router.patch("/admin/rooms/{room_id}", response_model=RoomRead)
async def update_room(
    room_id: RoomIdPath, body: RoomUpdate, _admin: AdminUser, db: DatabaseDep
) -> MeetingRoom:
    return await service.update_room(
        db, room_id=room_id, changes=body.model_dump(exclude_unset=True)
    )


@router.post("/admin/rooms/{room_id}/open", response_model=RoomOpeningResult)
async def open_room(
    room_id: RoomIdPath, body: RoomOpening, _admin: AdminUser, db: DatabaseDep
) -> RoomOpeningResult:
    """Make the room reservable on each date of the range (optionally only some weekdays)."""
    days = await service.open_room(
        db, room_id=room_id, from_date=body.from_date, to_date=body.to_date, weekdays=body.weekdays
    )
    return RoomOpeningResult(room_id=room_id, dates_changed=len(days), dates=days)
