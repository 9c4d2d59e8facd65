"""Reservation routes."""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Annotated

from fastapi import APIRouter, Header, Query, status
from starlette.responses import Response

from mrs.accounts.dependencies import AdminUser, CurrentUser
from mrs.http.dependencies import DatabaseDep, NowDep, SettingsDep
from mrs.http.types import IsoDate, ReservationIdPath, RoomIdPath
from mrs.reservations import closing, rules, service, timelines
from mrs.reservations.schemas import (
    BookingConfigRead,
    IdempotencyKeyHeader,
    ReservationCreate,
    ReservationRead,
)
from mrs.rooms.schemas import RoomOfDayRead, RoomOpening, RoomOpeningResult

router = APIRouter(prefix="/api")
_TAGS: list[str | Enum] = ["reservations"]


@router.get("/config", response_model=BookingConfigRead, tags=_TAGS)
async def booking_config(_user: CurrentUser, settings: SettingsDep) -> BookingConfigRead:
    """The slot length, time zone, day grid and idempotency key lifetime of this site."""
    return BookingConfigRead(
        slot_minutes=settings.slot_minutes,
        time_zone=settings.timezone,
        day_start_time=settings.web_day_start_hour * 60,
        day_end_time=settings.web_day_end_hour * 60,
        idempotency_key_hours=settings.idempotency_key_hours,
    )


# Under /api/rooms and tagged "rooms" for clients; here because they read reservations.
@router.get("/rooms", response_model=list[RoomOfDayRead], tags=["rooms"])
async def rooms_of_day(
    _user: CurrentUser,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
    day: Annotated[
        IsoDate | None, Query(alias="date", description="YYYY-MM-DD; today by default")
    ] = None,
) -> list[timelines.RoomOfDay]:
    """Rooms that can be reserved on the date, with how much of the day is taken."""
    target: date = day or now.astimezone(settings.tz).date()
    return await timelines.rooms_reservable_on(db, day=target)


@router.post("/admin/rooms/{room_id}/close", response_model=RoomOpeningResult, tags=["rooms"])
async def close_room(
    room_id: RoomIdPath, body: RoomOpening, _admin: AdminUser, db: DatabaseDep
) -> RoomOpeningResult:
    """Stop reservations on the dates; refused (409, listed) while active reservations remain."""
    days = await closing.close_room(
        db, room_id=room_id, from_date=body.from_date, to_date=body.to_date, weekdays=body.weekdays
    )
    return RoomOpeningResult(room_id=room_id, dates_changed=len(days), dates=days)


@router.get("/rooms/{room_id}/reservations", response_model=list[ReservationRead], tags=_TAGS)
async def room_day(
    room_id: RoomIdPath,
    _user: CurrentUser,
    db: DatabaseDep,
    day: IsoDate | None = Query(None, alias="date", description="YYYY-MM-DD"),
    from_day: IsoDate | None = Query(
        None, alias="from", description="YYYY-MM-DD: with `to`, a range of at most 31 days"
    ),
    to_day: IsoDate | None = Query(None, alias="to", description="YYYY-MM-DD, inclusive"),
) -> list[service.ReservationView]:
    """The active reservations of a room on a date (`date`), or from `from` to `to`
    (at most 31 days), in date and time order."""
    if day is None:
        return await timelines.reservations_of_room_range(
            db, room_id=room_id, from_day=from_day, to_day=to_day
        )
    return await service.reservations_of_room_day(db, room_id=room_id, day=day)


@router.post(
    "/rooms/{room_id}/reservations",
    response_model=ReservationRead,
    status_code=status.HTTP_201_CREATED,
    responses={
        404: {"description": "Room not reservable that date"},
        409: {"description": "Overlaps another reservation, or the room is out of use"},
        422: {"description": "Invalid request, or its Idempotency-Key was used with another one"},
    },
    tags=_TAGS,
)
async def reserve(
    room_id: RoomIdPath,
    body: ReservationCreate,
    user: CurrentUser,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
    idempotency_key: Annotated[
        IdempotencyKeyHeader | None,
        Header(
            alias="Idempotency-Key",
            description="Optional, 1-255 printable ASCII characters (a UUID, say). A retry "
            "with the same key within 24 hours (MRS_IDEMPOTENCY_KEY_HOURS) gets the first answer again (header "
            "`Idempotent-Replayed: true`) and never books twice; the same key with a "
            "different request is a 422.",
        ),
    ] = None,
) -> service.ReservationView | Response:
    """Reserve a room for a time range on a date."""
    if idempotency_key is not None:
        answer = await service.reserve_once(
            db,
            settings=settings,
            user_id=user.user_id,
            idempotency_key=idempotency_key,
            room_id=room_id,
            day=body.date,
            start_minute=body.start_time,
            end_minute=body.end_time,
            now=now,
        )
        return Response(
            answer.body,
            status_code=answer.status,
            media_type="application/json",
            headers={"Idempotent-Replayed": "true"} if answer.replayed else None,
        )
    return await service.reserve(
        db,
        settings=settings,
        user_id=user.user_id,
        room_id=room_id,
        day=body.date,
        start_minute=body.start_time,
        end_minute=body.end_time,
        now=now,
    )


@router.delete("/reservations/{reservation_id}", status_code=status.HTTP_204_NO_CONTENT, tags=_TAGS)
async def cancel(
    reservation_id: ReservationIdPath,
    user: CurrentUser,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
) -> None:
    await service.cancel(
        db,
        settings=settings,
        actor=rules.Actor(user_id=user.user_id, is_admin=user.is_admin),
        reservation_id=reservation_id,
        now=now,
    )


@router.get("/reservations/mine", response_model=list[ReservationRead], tags=_TAGS)
async def my_reservations(
    user: CurrentUser, db: DatabaseDep, settings: SettingsDep, now: NowDep
) -> list[service.ReservationView]:
    """The caller's reservations, upcoming first."""
    return await service.reservations_of_user(db, user_id=user.user_id, now=now, settings=settings)
