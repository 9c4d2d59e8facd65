"""Changing a reservation: cancel it, or edit and move it (its owner, a delegate of the
owner, or an administrator: `rules.may_act_for`, with `delegation.acting_for`).

A move is one UPDATE that succeeds only when the target is bookable and free; the reasons
for a refusal are asked the same way as for a new booking (`service.why_not_inserted`).
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from mrs.audit import service as audit
from mrs.db.engine import Database
from mrs.i18n import DEFAULT_LOCALE
from mrs.policies import enforcement as policies
from mrs.policies.rules import Slot
from mrs.reservations import changes, delegation, events, quota_usage, rules, statements
from mrs.reservations.errors import (
    AlreadyCancelled,
    ReleasedUnchangeable,
    ReservationNotFound,
    StaleVersion,
)
from mrs.reservations.events import ReservationEvent
from mrs.reservations.models import (
    SLOT_HOLDING,
    ChangeKind,
    Reservation,
    ReservationAttendee,
    ReservationStatus,
    Visibility,
)
from mrs.reservations.reads import ReservationView, to_view
from mrs.reservations.service import (
    check_attendees,
    check_request,
    inserted_or_why_not,
    read_back,
    set_attendees,
    why_not_inserted,
)
from mrs.settings import Settings


async def cancel(
    db: Database,
    *,
    settings: Settings,
    actor: rules.Actor,
    reservation_id: int,
    now: datetime,
    reason: str | None = None,
) -> None:
    """Cancel a reservation (kept with status CANCELLED, never deleted). The change is
    recorded for the invitation mail; when someone else (an administrator) cancels it, the
    owner is told, with `reason` when one is given."""
    async with db.transaction() as session:
        row = (
            await session.execute(
                select(
                    Reservation.user_id,
                    Reservation.reserved_date,
                    Reservation.end_minute,
                    Reservation.status,
                    Reservation.series_id,
                )
                .where(Reservation.reservation_id == reservation_id)
                .with_for_update()
            )
        ).first()
        if row is None:
            raise ReservationNotFound(reservation_id=reservation_id)
        rules.check_can_cancel(
            await delegation.acting_for(session, actor, row.user_id),
            owner_id=row.user_id,
            day=row.reserved_date,
            end_minute=row.end_minute,
            now=now,
            tz=settings.tz,
        )
        # Only a booking holding its slot can be cancelled: a released one says why it
        # cannot, a rejected one is over, as "already cancelled".
        if row.status == ReservationStatus.RELEASED:
            raise ReleasedUnchangeable()
        if row.status not in SLOT_HOLDING:
            raise AlreadyCancelled()
        await session.execute(
            update(Reservation)
            .where(Reservation.reservation_id == reservation_id)
            .values(
                status=ReservationStatus.CANCELLED.value,
                cancelled_at=now,
                cancelled_by=actor.user_id,
                # An occurrence cancelled on its own: a series edit leaves it alone.
                is_exception=Reservation.series_id.is_not(None),
            )
        )
        by_admin = actor.user_id != row.user_id
        await changes.record(
            session,
            ChangeKind.CANCELLED,
            now=now,
            actor_id=actor.user_id,
            reservation_id=reservation_id,
            owner_id=row.user_id,
            reason=reason if by_admin else None,
            before={"status": row.status},
            after=_cancelled(reason if by_admin else None),
            occurrence=row.series_id is not None,
        )
    events.emit(ReservationEvent.CANCELLED)


def _cancelled(reason: str | None) -> dict[str, Any]:
    """A cancellation's audit `after`: the new status, and the reason the owner is told."""
    after: dict[str, Any] = {"status": ReservationStatus.CANCELLED.value}
    if reason:
        after["reason"] = reason
    return after


# --- changing a reservation ---


class Keep(enum.Enum):
    """A field an edit leaves as it is (a title can also be set to None: no title)."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True)
class Change:
    """What an edit asks for; a field left at None (the title at KEEP) stays as it is."""

    day: date | None = None
    start_minute: int | None = None
    end_minute: int | None = None
    room_id: int | None = None
    title: str | Keep | None = KEEP
    description: str | None = None
    visibility: Visibility | None = None
    attendees: Collection[str] | None = None


_LOCKED_FOR_EDIT = (
    select(
        Reservation.user_id,
        Reservation.room_id,
        Reservation.reserved_date,
        Reservation.start_minute,
        Reservation.end_minute,
        Reservation.status,
        Reservation.title,
        Reservation.description,
        Reservation.visibility,
        Reservation.version,
        Reservation.series_id,
    )
    .where(Reservation.reservation_id == bindparam("reservation_id"))
    .with_for_update()
)


async def _check_move(
    session: AsyncSession,
    db: Database,
    settings: Settings,
    owner_id: str,
    params: dict[str, Any],
    now: datetime,
) -> bool:
    """The room's policy and the owner's hours per week for the moved reservation (the
    number of reservations does not change); the owner's row is locked before the move.
    Whether the target room makes the owner's booking wait for approval."""
    slot = Slot(params["day"], params["start_minute"], params["end_minute"])
    verdict = await policies.judge_booking(
        db,
        settings=settings,
        user_id=owner_id,
        room_id=params["room_id"],
        slots=[slot],
        now=now,
        session=session,
    )
    quota = verdict.quota
    if quota is not None and quota.max_hours_per_week is not None:
        await quota_usage.hold_quota(
            session,
            dialect=db.dialect,
            settings=settings,
            user_id=owner_id,
            quota=quota,
            slots=[slot],
            now=now,
            excluding=[params["moving_id"]],
            count_future=False,
        )
    return verdict.pending


def _matches(version: int, expected_versions: Collection[int] | None) -> bool:
    return expected_versions is None or version in expected_versions


async def edit(
    db: Database,
    *,
    settings: Settings,
    actor: rules.Actor,
    reservation_id: int,
    change: Change,
    now: datetime,
    expected_versions: Collection[int] | None = None,
    reason: str | None = None,
    locale: str = DEFAULT_LOCALE,
) -> ReservationView:
    """Change or move a reservation (its owner or an administrator), or raise why not.

    `expected_versions` (from If-Match) must hold the current version, else StaleVersion.
    A move is one UPDATE that succeeds only when the target is bookable and free; when it
    is not, nothing changes (ReservationConflict naming the reservation in the way, or
    the room's refusal). Every change raises `version` and sets `updated_at`; attendees
    are replaced in the same transaction. The change is recorded for the invitation mail
    (the owner is told when someone else changed it, with `reason`).
    """
    params: dict[str, Any] = {}
    try:
        async with db.transaction() as session:
            current = (
                await session.execute(_LOCKED_FOR_EDIT, {"reservation_id": reservation_id})
            ).first()
            if current is None:
                raise ReservationNotFound(reservation_id=reservation_id)
            rules.check_can_edit(
                await delegation.acting_for(session, actor, current.user_id),
                owner_id=current.user_id,
                status=current.status,
                day=current.reserved_date,
                end_minute=current.end_minute,
                now=now,
                tz=settings.tz,
            )
            if not _matches(current.version, expected_versions):
                raise StaleVersion(version=current.version)
            params = {
                "moving_id": reservation_id,
                "room_id": change.room_id or current.room_id,
                "day": change.day or current.reserved_date,
                "start_minute": current.start_minute
                if change.start_minute is None
                else change.start_minute,
                "end_minute": current.end_minute
                if change.end_minute is None
                else change.end_minute,
                "new_title": current.title if change.title is KEEP else change.title,
                "new_description": current.description
                if change.description is None
                else change.description,
                "new_visibility": str(change.visibility or current.visibility),
                "changed_at": now,
            }
            target = (
                params["room_id"],
                params["day"],
                params["start_minute"],
                params["end_minute"],
            )
            moved = target != (
                current.room_id,
                current.reserved_date,
                current.start_minute,
                current.end_minute,
            )
            new_status = current.status
            if moved:
                check_request(
                    settings,
                    day=params["day"],
                    start_minute=params["start_minute"],
                    end_minute=params["end_minute"],
                    now=now,
                )
                if not actor.is_admin:  # administrators are not bound by policies
                    pending = await _check_move(session, db, settings, current.user_id, params, now)
                    if params["room_id"] != current.room_id:
                        # Into another room, the booking waits for approval as a new
                        # booking there would (a move within a room keeps its status).
                        new_status = (
                            ReservationStatus.PENDING if pending else ReservationStatus.ACTIVE
                        ).value
            invited = None
            before: set[str] = set()
            if change.attendees is not None:
                invited = rules.attendee_ids(change.attendees, owner_id=current.user_id)
                await check_attendees(session, invited)
                before = set(
                    (
                        await session.scalars(
                            select(ReservationAttendee.user_id).where(
                                ReservationAttendee.reservation_id == reservation_id
                            )
                        )
                    ).all()
                )
                if set(invited) == before:
                    invited = None
            details_changed = (
                params["new_title"],
                params["new_description"],
                params["new_visibility"],
            ) != (current.title, current.description, current.visibility)
            if moved or details_changed or invited is not None:
                params.update(
                    to_room_id=params["room_id"],
                    to_day=params["day"],
                    to_start=params["start_minute"],
                    to_end=params["end_minute"],
                )
                statement = statements.change_if_free() if moved else statements.change_details()
                if (await session.execute(statement, params)).first() is None:
                    raise await why_not_inserted(db, params, statements.FIRST_OVERLAP_OF_MOVE)
                if invited is not None:
                    await set_attendees(session, [reservation_id], invited, replace=True)
                if new_status != current.status:
                    await session.execute(
                        update(Reservation)
                        .where(Reservation.reservation_id == reservation_id)
                        .values(status=new_status)
                    )
            if moved or details_changed or invited is not None:
                by_admin = actor.user_id != current.user_id
                was, now_is = audit.changed(
                    _fields_before(current, attendees=None if invited is None else before),
                    _fields_after(params, attendees=invited),
                )
                if by_admin and reason:
                    now_is["reason"] = reason  # what the owner is told
                if new_status != current.status:
                    was["status"], now_is["status"] = current.status, new_status
                await changes.record(
                    session,
                    ChangeKind.CHANGED,
                    now=now,
                    actor_id=actor.user_id,
                    reservation_id=reservation_id,
                    owner_id=current.user_id,
                    reason=reason if by_admin else None,
                    removed_attendees=before - set(invited) if invited is not None else (),
                    before=was,
                    after=now_is,
                    occurrence=current.series_id is not None,
                )
            row = await read_back(session, db.dialect, reservation_id)
    except DBAPIError as exc:
        if not params or not inserted_or_why_not(exc):
            raise
        raise await why_not_inserted(db, params, statements.FIRST_OVERLAP_OF_MOVE) from exc
    return to_view(row, settings.tz, viewer=actor, locale=locale)


def _fields_before(current: Any, *, attendees: Collection[str] | None) -> dict[str, Any]:
    """The locked reservation's fields as an edit's audit `before` (attendees only when
    the edit changes them)."""
    return changes.meeting_fields(
        room_id=current.room_id,
        day=current.reserved_date,
        start_minute=current.start_minute,
        end_minute=current.end_minute,
        title=current.title,
        description=current.description,
        visibility=current.visibility,
        attendees=attendees,
    )


def _fields_after(params: dict[str, Any], *, attendees: Collection[str] | None) -> dict[str, Any]:
    """The UPDATE's parameters as the edit's audit `after`."""
    return changes.meeting_fields(
        room_id=params["room_id"],
        day=params["day"],
        start_minute=params["start_minute"],
        end_minute=params["end_minute"],
        title=params["new_title"],
        description=params["new_description"],
        visibility=params["new_visibility"],
        attendees=attendees,
    )
