"""Checking in to a booking in a room whose policy asks for it.

Someone who may (`may_check_in`: the owner, an attendee, the owner's delegate, an
administrator) checks in from `MRS_CHECKIN_OPENS_MINUTES` before the start until start +
grace (`checkin_window`, in the site's wall time). A booking not checked in by then is
released by the job in `mrs.reservations.release`. Both write with one conditional UPDATE
(`status = 'ACTIVE' AND checked_in_at IS NULL`), so when a check-in and the release race
for a booking exactly one of them changes it: the other finds the row changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mrs.db.engine import Database
from mrs.policies.models import RoomPolicy
from mrs.reservations import changes, delegation, rules
from mrs.reservations.errors import (
    CheckinNotActive,
    CheckinNotAllowed,
    CheckinNotRequired,
    CheckinReleased,
    CheckinTooEarly,
    ReservationNotFound,
)
from mrs.reservations.models import (
    ChangeKind,
    Reservation,
    ReservationAttendee,
    ReservationStatus,
)
from mrs.settings import Settings
from mrs.wallclock import wall_instant

CHECKIN_ACTION = "reservation.checkin"


@dataclass(frozen=True)
class CheckinWindow:
    """When check-in to one booking is open: from `opens_at` to `closes_at`, both
    included; after `closes_at` the booking is released."""

    opens_at: datetime
    closes_at: datetime


@dataclass(frozen=True)
class CheckinState:
    """A booking's check-in as its reader is told it."""

    reservation_id: int
    status: str
    checked_in_at: datetime | None
    checked_in_by: str | None
    released_at: datetime | None
    window: CheckinWindow


def checkin_window(
    day: date, start_minute: int, *, grace_minutes: int, opens_minutes: int, tz: ZoneInfo
) -> CheckinWindow:
    """The check-in window of a booking starting at `start_minute` on `day` (site wall
    time; real minutes either side, so a clock change inside the window is counted)."""
    start = wall_instant(day, start_minute, tz)
    return CheckinWindow(
        opens_at=start - timedelta(minutes=opens_minutes),
        closes_at=start + timedelta(minutes=grace_minutes),
    )


def grace_of(settings: Settings, room_grace: int | None) -> int:
    """The room's grace period, else the site default (MRS_POLICY_CHECKIN_GRACE_MINUTES)."""
    return settings.policy_checkin_grace_minutes if room_grace is None else room_grace


def awaiting_checkin() -> ColumnElement[bool]:
    """The rows a check-in and the release job may both change: still ACTIVE and not
    checked in. Both write under this one condition, so exactly one of them wins."""
    return and_(
        Reservation.status == ReservationStatus.ACTIVE.value,
        Reservation.checked_in_at.is_(None),
    )


def may_check_in(actor: rules.Actor, *, owner_id: str, attendee: bool) -> bool:
    """Who may check in: whoever may act for the owner (`rules.may_act_for`: the owner,
    a delegate, an admin), and the attendees."""
    return rules.may_act_for(actor, owner_id=owner_id) or attendee


def check_time(window: CheckinWindow, now: datetime, *, tz: ZoneInfo, opens_minutes: int) -> None:
    """Refuse a check-in outside its window: too early, or past start + grace."""
    if now < window.opens_at:
        raise CheckinTooEarly(
            opens=window.opens_at.astimezone(tz).strftime("%H:%M"), minutes=opens_minutes
        )
    if now > window.closes_at:
        raise CheckinReleased(deadline=window.closes_at.astimezone(tz).strftime("%H:%M"))


async def _row(session: AsyncSession, reservation_id: int, *, lock: bool = False) -> Any:
    query = (
        select(
            Reservation.reservation_id,
            Reservation.user_id,
            Reservation.room_id,
            Reservation.reserved_date,
            Reservation.start_minute,
            Reservation.status,
            Reservation.series_id,
            Reservation.checked_in_at,
            Reservation.checked_in_by,
            Reservation.released_at,
            RoomPolicy.checkin_required,
            RoomPolicy.checkin_grace_minutes,
        )
        .outerjoin(RoomPolicy, RoomPolicy.room_id == Reservation.room_id)
        .where(Reservation.reservation_id == reservation_id)
    )
    if lock:
        query = query.with_for_update(of=Reservation)
    return (await session.execute(query)).first()


def _state(settings: Settings, row: Any) -> CheckinState:
    return CheckinState(
        reservation_id=row.reservation_id,
        status=row.status,
        checked_in_at=row.checked_in_at,
        checked_in_by=row.checked_in_by,
        released_at=row.released_at,
        window=checkin_window(
            row.reserved_date,
            row.start_minute,
            grace_minutes=grace_of(settings, row.checkin_grace_minutes),
            opens_minutes=settings.checkin_opens_minutes,
            tz=settings.tz,
        ),
    )


async def _may(
    session: AsyncSession, actor: rules.Actor, *, reservation_id: int, owner_id: str
) -> bool:
    actor = await delegation.acting_for(session, actor, owner_id)
    if rules.may_act_for(actor, owner_id=owner_id):
        return True
    attendee = await session.scalar(
        select(
            exists().where(
                ReservationAttendee.reservation_id == reservation_id,
                ReservationAttendee.user_id == actor.user_id,
            )
        )
    )
    return may_check_in(actor, owner_id=owner_id, attendee=bool(attendee))


async def check_in(
    db: Database,
    *,
    settings: Settings,
    actor: rules.Actor,
    reservation_id: int,
    now: datetime,
) -> CheckinState:
    """Check in to a booking (audited as `reservation.checkin`, no mail). Checking in again
    changes nothing and answers as the first time did."""
    async with db.transaction() as session:
        row = await _row(session, reservation_id, lock=True)
        if row is None:
            raise ReservationNotFound(reservation_id=reservation_id)
        owner_id: str = row.user_id
        if not await _may(session, actor, reservation_id=reservation_id, owner_id=owner_id):
            raise CheckinNotAllowed()
        if not row.checkin_required:
            raise CheckinNotRequired()
        state = _state(settings, row)
        if state.checked_in_at is not None:
            return state
        if state.status == ReservationStatus.RELEASED:
            raise CheckinReleased(
                deadline=state.window.closes_at.astimezone(settings.tz).strftime("%H:%M")
            )
        if state.status != ReservationStatus.ACTIVE:
            raise CheckinNotActive(status=state.status)
        check_time(state.window, now, tz=settings.tz, opens_minutes=settings.checkin_opens_minutes)
        done = await session.execute(
            update(Reservation)
            .where(Reservation.reservation_id == reservation_id, awaiting_checkin())
            .values(checked_in_at=now, checked_in_by=actor.user_id)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise CheckinReleased(
                deadline=state.window.closes_at.astimezone(settings.tz).strftime("%H:%M")
            )
        await changes.record(
            session,
            ChangeKind.CHANGED,
            now=now,
            actor_id=actor.user_id,
            reservation_id=reservation_id,
            owner_id=owner_id,
            before={"checked_in_at": None},
            after={"checked_in_at": now.isoformat(), "checked_in_by": actor.user_id},
            occurrence=row.series_id is not None,
            action=CHECKIN_ACTION,
            mail=False,
        )
    return CheckinState(
        reservation_id=reservation_id,
        status=ReservationStatus.ACTIVE.value,
        checked_in_at=now,
        checked_in_by=actor.user_id,
        released_at=None,
        window=state.window,
    )


async def checkin_state(
    db: Database, *, settings: Settings, actor: rules.Actor, reservation_id: int, now: datetime
) -> CheckinState | None:
    """The booking's check-in for a page: None when its room asks for none or the reader
    may not check in to it (so no button is shown)."""
    async with db.snapshot() as session:
        row = await _row(session, reservation_id)
        if row is None or not row.checkin_required:
            return None
        if not await _may(session, actor, reservation_id=reservation_id, owner_id=row.user_id):
            return None
        return _state(settings, row)
