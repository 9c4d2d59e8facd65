"""Room routes: rooms reservable on a day, and admin room management."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, status

from mrs.accounts.dependencies import AdminUser, CurrentUser
from mrs.http.dependencies import DatabaseDep, NowDep, SettingsDep
from mrs.http.types import IsoDate, RoomIdPath
from mrs.rooms import service
from mrs.rooms.models import MeetingRoom
from mrs.rooms.schemas import (
    RoomCreate,
    RoomOfDayRead,
    RoomOpening,
    RoomOpeningResult,
    RoomRead,
    RoomUpdate,
)

router = APIRouter(prefix="/api", tags=["rooms"])


@router.get("/rooms", response_model=list[RoomOfDayRead])
async def rooms_of_day(
    _user: CurrentUser,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
    day: Annotated[
        IsoDate | None, Query(alias="date", description="YYYY-MM-DD; today by default")
    ] = None,
) -> list[service.RoomOfDay]:
    """Rooms that can be reserved on the date, with how much of the day is taken."""
    target: date = day or now.astimezone(settings.tz).date()
    return await service.rooms_reservable_on(db, day=target)


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


@router.post("/admin/rooms/{room_id}/close", response_model=RoomOpeningResult)
async def close_room(
    room_id: RoomIdPath, body: RoomOpening, _admin: AdminUser, db: DatabaseDep
) -> RoomOpeningResult:
    """Stop reservations on the dates; refused (409, listed) while active reservations remain."""
    days = await service.close_room(
        db, room_id=room_id, from_date=body.from_date, to_date=body.to_date, weekdays=body.weekdays
    )
    return RoomOpeningResult(room_id=room_id, dates_changed=len(days), dates=days)
