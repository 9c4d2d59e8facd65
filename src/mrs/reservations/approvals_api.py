"""Approval routes: who manages a room, the bookings waiting for a decision, and the
decisions (the rules live in `mrs.reservations.approvals`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from mrs.accounts.dependencies import AdminUser, CurrentUser
from mrs.accounts.sessions import AuthenticatedUser
from mrs.http.dependencies import DatabaseDep, LocaleDep, NowDep
from mrs.http.types import ReservationIdPath, RoomIdPath
from mrs.reservations import approvals
from mrs.reservations.errors import NotAnApprover

router = APIRouter(prefix="/api", tags=["approvals"])


async def approver_user(user: CurrentUser, db: DatabaseDep) -> AuthenticatedUser:
    """An administrator or a manager of some room; anyone else is refused before their
    request is read (403 `not_an_approver`, whatever the reservation or the body). Which
    rooms a manager may decide on is the service's question, in its transaction."""
    if not user.is_admin and not await approvals.manages_any_room(db, user_id=user.user_id):
        raise NotAnApprover()
    return user


ApproverUser = Annotated[AuthenticatedUser, Depends(approver_user)]


class RoomManagers(BaseModel):
    room_id: int
    user_ids: list[str] = Field(description="The room's managers (administrators always are).")


class RoomManagersWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_ids: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(
        max_length=100, description="Every manager of the room (replaces the list)."
    )


class PendingReservationRead(BaseModel):
    reservation_id: int
    room_id: int
    room_name: str
    date: date
    start_time: str
    end_time: str
    user_id: str
    owner_name: str
    title: str | None
    requested_at: datetime
    series_id: int | None


class PendingReservationPage(BaseModel):
    items: list[PendingReservationRead]
    total: int
    limit: int
    offset: int


class ApproveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=approvals.REASON_MAX)


class RejectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        min_length=1, max_length=approvals.REASON_MAX, description="Told to the owner."
    )


class DecisionRead(BaseModel):
    reservation_id: int
    status: str
    decided_at: datetime
    decided_by: str
    reason: str | None


@router.get("/admin/rooms/{room_id}/managers", response_model=RoomManagers)
async def read_managers(room_id: RoomIdPath, _admin: AdminUser, db: DatabaseDep) -> RoomManagers:
    """The users who decide on the room's bookings when its policy requires approval."""
    return RoomManagers(room_id=room_id, user_ids=await approvals.managers_of(db, room_id=room_id))


@router.put(
    "/admin/rooms/{room_id}/managers",
    response_model=RoomManagers,
    responses={422: {"description": "A user that does not exist."}},
)
async def write_managers(
    room_id: RoomIdPath, body: RoomManagersWrite, admin: AdminUser, db: DatabaseDep, now: NowDep
) -> RoomManagers:
    """Replace the room's managers."""
    ids = await approvals.set_managers(
        db, room_id=room_id, user_ids=body.user_ids, actor_id=admin.user_id, now=now
    )
    return RoomManagers(room_id=room_id, user_ids=ids)


def _decision(decision: approvals.Decision) -> DecisionRead:
    return DecisionRead(
        reservation_id=decision.reservation_id,
        status=decision.status,
        decided_at=decision.decided_at,
        decided_by=decision.decided_by,
        reason=decision.reason,
    )


@router.get(
    "/admin/pending-reservations",
    response_model=PendingReservationPage,
    responses={403: {"description": "Neither an administrator nor a room manager."}},
)
async def pending_reservations(
    user: ApproverUser,
    db: DatabaseDep,
    locale: LocaleDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> PendingReservationPage:
    """Bookings waiting for approval, oldest request first: every room's for an
    administrator, their own rooms' for a room manager."""
    page = await approvals.pending(db, actor=user, limit=limit, offset=offset, locale=locale)
    return PendingReservationPage(
        items=[
            PendingReservationRead(
                reservation_id=each.reservation_id,
                room_id=each.room_id,
                room_name=each.room_name,
                date=each.day,
                start_time=each.start_time,
                end_time=each.end_time,
                user_id=each.user_id,
                owner_name=each.owner_name,
                title=each.title,
                requested_at=each.created_at,
                series_id=each.series_id,
            )
            for each in page.items
        ],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


_DECISION_ERRORS: dict[int | str, dict[str, str]] = {
    403: {"description": "Neither an administrator nor a manager of the booking's room."},
    404: {"description": "No such reservation."},
    409: {"description": "The booking is no longer waiting for approval."},
}


@router.post(
    "/admin/pending-reservations/{reservation_id}/approve",
    response_model=DecisionRead,
    responses=_DECISION_ERRORS,
)
async def approve(
    reservation_id: ReservationIdPath,
    user: ApproverUser,
    db: DatabaseDep,
    now: NowDep,
    body: ApproveRequest | None = None,
) -> DecisionRead:
    """Approve a booking waiting for approval: it becomes ACTIVE and its owner is told."""
    decision = await approvals.decide(
        db,
        actor=user,
        reservation_id=reservation_id,
        approve=True,
        reason=body.reason if body else None,
        now=now,
    )
    return _decision(decision)


@router.post(
    "/admin/pending-reservations/{reservation_id}/reject",
    response_model=DecisionRead,
    responses={**_DECISION_ERRORS, 422: {"description": "No reason given."}},
)
async def reject(
    reservation_id: ReservationIdPath,
    body: RejectRequest,
    user: ApproverUser,
    db: DatabaseDep,
    now: NowDep,
) -> DecisionRead:
    """Reject a booking waiting for approval with a reason: it becomes REJECTED, its slot
    is free again, and its owner is told why."""
    decision = await approvals.decide(
        db, actor=user, reservation_id=reservation_id, approve=False, reason=body.reason, now=now
    )
    return _decision(decision)
