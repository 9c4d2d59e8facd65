"""Reservation routes."""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Annotated

from fastapi import APIRouter, Header, Query, status
from starlette.responses import Response

from mrs.accounts.dependencies import AdminUser, CurrentUser
from mrs.accounts.sessions import AuthenticatedUser
from mrs.errors import InvalidInput
from mrs.http.dependencies import DatabaseDep, LocaleDep, NowDep, SettingsDep
from mrs.http.types import IsoDate, ReservationIdPath, RoomIdPath
from mrs.reservations import closing, delegation, editing, reads, rules, service, timelines
from mrs.reservations.schemas import (
    BookingConfigRead,
    IdempotencyKeyHeader,
    ReservationCreate,
    ReservationRead,
    ReservationUpdate,
)
from mrs.rooms.models import ClosureDay
from mrs.rooms.schemas import (
    ClosureDayCreate,
    ClosureDayRead,
    RoomOfDayRead,
    RoomOpening,
    RoomOpeningResult,
)

router = APIRouter(prefix="/api")
_TAGS: list[str | Enum] = ["reservations"]


def actor_of(user: AuthenticatedUser) -> rules.Actor:
    return rules.Actor(user_id=user.user_id, is_admin=user.is_admin)


def _etag(view: reads.ReservationView) -> str:
    """A reservation's entity tag: its version, which rises with every change."""
    return f'"{view.version}"'


def if_match_versions(header: str | None) -> frozenset[int] | None:
    """The versions an If-Match header accepts; None when any will do (absent or "*").

    Strong comparison (RFC 9110): a weak tag never matches, nor does one we never issued."""
    if header is None or header.strip() == "*":
        return None
    versions = set()
    for tag in header.split(","):
        value = tag.strip()
        if len(value) >= 3 and value[0] == value[-1] == '"' and value[1:-1].isdigit():
            versions.add(int(value[1:-1]))
    return frozenset(versions)


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
    room_id: RoomIdPath, body: RoomOpening, admin: AdminUser, db: DatabaseDep, now: NowDep
) -> RoomOpeningResult:
    """Stop reservations on the dates; refused (409, listed) while active reservations remain."""
    days = await closing.close_room(
        db,
        room_id=room_id,
        from_date=body.from_date,
        to_date=body.to_date,
        weekdays=body.weekdays,
        actor_id=admin.user_id,
        now=now,
    )
    return RoomOpeningResult(room_id=room_id, dates_changed=len(days), dates=days)


@router.post(
    "/admin/closure-days",
    response_model=ClosureDayRead,
    status_code=status.HTTP_201_CREATED,
    tags=["rooms"],
)
async def add_closure_day(
    body: ClosureDayCreate, admin: AdminUser, db: DatabaseDep, now: NowDep
) -> ClosureDay:
    """Close every room on the date (company holiday); refused (409, listed) while active
    reservations fall on it."""
    return await closing.add_closure_day(
        db, day=body.date, label=body.label, created_by=admin.user_id, now=now
    )


@router.get("/rooms/{room_id}/reservations", response_model=list[ReservationRead], tags=_TAGS)
async def room_day(
    room_id: RoomIdPath,
    user: CurrentUser,
    db: DatabaseDep,
    locale: LocaleDep,
    day: IsoDate | None = Query(None, alias="date", description="YYYY-MM-DD"),
    from_day: IsoDate | None = Query(
        None, alias="from", description="YYYY-MM-DD: with `to`, a range of at most 31 days"
    ),
    to_day: IsoDate | None = Query(None, alias="to", description="YYYY-MM-DD, inclusive"),
) -> list[reads.ReservationView]:
    """The active reservations of a room on a date (`date`), or from `from` to `to`
    (at most 31 days), in date and time order (a private meeting's details only for its
    owner, attendees and administrators)."""
    if day is None:
        if from_day is None or to_day is None:
            raise InvalidInput(
                "This field is required.", details={"field": "to" if from_day else "from"}
            )
        return await reads.reservations_of_room_range(
            db,
            room_id=room_id,
            from_day=from_day,
            to_day=to_day,
            viewer=actor_of(user),
            locale=locale,
        )
    return await reads.reservations_of_room_day(
        db, room_id=room_id, day=day, viewer=actor_of(user), locale=locale
    )


@router.post(
    "/rooms/{room_id}/reservations",
    response_model=ReservationRead,
    status_code=status.HTTP_201_CREATED,
    responses={
        403: {
            "description": "`on_behalf_of` names a user who has not named the caller as a "
            "delegate (not_a_delegate)"
        },
        404: {"description": "Room not reservable that date"},
        409: {"description": "Overlaps another reservation, or the room is out of use"},
        422: {
            "description": "Invalid request, its Idempotency-Key was used with another one, "
            "or the room's policy or the user's quota refuses it (codes policy_max_length, "
            "policy_too_far_ahead, policy_min_notice, policy_not_allowed, "
            "quota_future_reservations, quota_hours_per_week; judged for the owner when "
            "booking on behalf), or `on_behalf_of` is not an active user (unknown_principal)"
        },
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
    locale: LocaleDep,
    response: Response,
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
) -> reads.ReservationView | Response:
    """Reserve a room for a time range on a date, as a meeting: optionally a title (else
    the owner's name is shown), a description, PUBLIC or PRIVATE, and attendees; with
    `on_behalf_of`, for a user who named the caller as a delegate (`booked_by`)."""
    owner_id, booked_by = await delegation.booking_owner(
        db, actor=actor_of(user), on_behalf_of=body.on_behalf_of
    )
    answer = await service.reserve(
        db,
        settings=settings,
        user_id=owner_id,
        booked_by=booked_by,
        room_id=room_id,
        day=body.date,
        start_minute=body.start_time,
        end_minute=body.end_time,
        now=now,
        title=body.title,
        description=body.description,
        visibility=body.visibility,
        attendees=body.attendees,
        idempotency_key=idempotency_key,
        locale=locale,
    )
    if answer.view is None:  # a retry: the first answer again, as it was sent
        return Response(
            answer.body,
            status_code=answer.status,
            media_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )
    response.headers["ETag"] = _etag(answer.view)
    return answer.view


@router.delete("/reservations/{reservation_id}", status_code=status.HTTP_204_NO_CONTENT, tags=_TAGS)
async def cancel(
    reservation_id: ReservationIdPath,
    user: CurrentUser,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
) -> None:
    await editing.cancel(
        db,
        settings=settings,
        actor=rules.Actor(user_id=user.user_id, is_admin=user.is_admin),
        reservation_id=reservation_id,
        now=now,
    )


@router.get("/reservations/mine", response_model=list[ReservationRead], tags=_TAGS)
async def my_reservations(
    user: CurrentUser, db: DatabaseDep, settings: SettingsDep, now: NowDep, locale: LocaleDep
) -> list[reads.ReservationView]:
    """The caller's reservations and the meetings they attend (`role`), upcoming first."""
    return await reads.reservations_of_user(
        db, user_id=user.user_id, now=now, settings=settings, locale=locale
    )


@router.get(
    "/reservations/{reservation_id}",
    response_model=ReservationRead,
    responses={404: {"description": "No such reservation"}},
    tags=_TAGS,
)
async def reservation(
    reservation_id: ReservationIdPath,
    user: CurrentUser,
    db: DatabaseDep,
    locale: LocaleDep,
    response: Response,
) -> reads.ReservationView:
    """One reservation (a private meeting's details only for its owner, attendees and
    administrators), with its version as the `ETag` to send back in `If-Match`."""
    view = await reads.get_reservation(
        db, reservation_id=reservation_id, viewer=actor_of(user), locale=locale
    )
    response.headers["ETag"] = _etag(view)
    return view


@router.patch(
    "/reservations/{reservation_id}",
    response_model=ReservationRead,
    responses={
        403: {"description": "Neither the owner, a delegate of the owner, nor an administrator"},
        404: {"description": "No such reservation, or the target room not reservable that date"},
        409: {
            "description": "The target time is taken (details.reservation_id), the room "
            "is out of use, or the reservation is cancelled or over"
        },
        412: {"description": "If-Match does not hold the current version (ETag)"},
        422: {"description": "Invalid request"},
    },
    tags=_TAGS,
)
async def change(
    reservation_id: ReservationIdPath,
    body: ReservationUpdate,
    user: CurrentUser,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
    locale: LocaleDep,
    response: Response,
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            max_length=1000,
            description='The ETag of the version read (e.g. "3"): a stale one is refused '
            "with 412. Optional.",
        ),
    ] = None,
) -> reads.ReservationView:
    """Change or move a reservation: its owner, a delegate of the owner, or an
    administrator. A move that is not possible leaves it exactly as it was."""
    fields = body.model_fields_set
    view = await editing.edit(
        db,
        settings=settings,
        actor=actor_of(user),
        reservation_id=reservation_id,
        change=editing.Change(
            day=body.date,
            start_minute=body.start_time,
            end_minute=body.end_time,
            room_id=body.room_id,
            title=body.title if "title" in fields else editing.KEEP,
            description=body.description,
            visibility=body.visibility,
            attendees=body.attendees,
        ),
        now=now,
        expected_versions=if_match_versions(if_match),
        reason=body.reason,
        locale=locale,
    )
    response.headers["ETag"] = _etag(view)
    return view
