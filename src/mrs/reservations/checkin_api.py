"""Checking in to a booking (rooms whose policy asks for it)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from mrs.accounts.dependencies import CurrentUser
from mrs.http.dependencies import DatabaseDep, NowDep, SettingsDep
from mrs.http.types import ReservationIdPath
from mrs.reservations import checkin, rules

router = APIRouter(prefix="/api", tags=["reservations"])


class CheckinRead(BaseModel):
    """A booking's check-in: when and by whom, and the window it was open."""

    reservation_id: int
    status: str
    checked_in_at: datetime | None
    checked_in_by: str | None
    opens_at: datetime = Field(description="Check-in opens (MRS_CHECKIN_OPENS_MINUTES early).")
    closes_at: datetime = Field(description="Start + grace: released after this if not checked in.")

    @classmethod
    def of(cls, state: checkin.CheckinState) -> CheckinRead:
        return cls(
            reservation_id=state.reservation_id,
            status=state.status,
            checked_in_at=state.checked_in_at,
            checked_in_by=state.checked_in_by,
            opens_at=state.window.opens_at,
            closes_at=state.window.closes_at,
        )


@router.post(
    "/reservations/{reservation_id}/check-in",
    response_model=CheckinRead,
    responses={
        403: {"description": "Not the owner, an attendee, a delegate or an admin"},
        404: {"description": "No such reservation"},
        409: {"description": "Released (checkin_released) or not active"},
        422: {"description": "Too early (checkin_too_early) or no check-in in this room"},
    },
)
async def check_in(
    reservation_id: ReservationIdPath,
    user: CurrentUser,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
) -> CheckinRead:
    """Check in to a booking: by its owner, an attendee, a delegate or an admin, from
    MRS_CHECKIN_OPENS_MINUTES before the start until start + grace. Again: 200, unchanged."""
    state = await checkin.check_in(
        db,
        settings=settings,
        actor=rules.Actor(user_id=user.user_id, is_admin=user.is_admin),
        reservation_id=reservation_id,
        now=now,
    )
    return CheckinRead.of(state)
