"""Rooms that require approval: their managers, the decisions on PENDING bookings, and
the reminder when a booking waits too long.

A booking by anyone but an administrator or one of the room's managers in a room whose
policy has `approval_required` is written PENDING (`mrs.policies.enforcement.Verdict`);
it holds its slot like an ACTIVE one (`models.SLOT_HOLDING`) until a manager decides.
Approving makes it ACTIVE, rejecting makes it REJECTED and frees the slot. Each decision
is one transaction that locks the booking's row first, so of two managers deciding at
once exactly one wins and the other is told it is no longer pending (409). The owner
learns of it through the change row (`changes.record`): the invitation job mails an
approval as an updated invitation (REQUEST, CONFIRMED) and a rejection as a cancellation
(CANCEL) with the reason, in the owner's language.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from mrs.accounts.models import Role, User, UserStatus
from mrs.accounts.sessions import AuthenticatedUser
from mrs.audit import service as audit
from mrs.db.engine import Database
from mrs.i18n import display_name, supported_locale, translate
from mrs.notifications.service import enqueue_mail
from mrs.reservations import changes
from mrs.reservations.errors import (
    DecisionReasonRequired,
    NotAnApprover,
    NotPending,
    ReservationNotFound,
    UnknownManagers,
)
from mrs.reservations.models import ChangeKind, Reservation, ReservationStatus
from mrs.rooms.errors import RoomNotFound
from mrs.rooms.models import MeetingRoom, RoomManager
from mrs.settings import Settings
from mrs.wallclock import format_minute

APPROVED_ACTION = "reservation.approved"
REJECTED_ACTION = "reservation.rejected"
MANAGERS_ACTION = "room.managers.update"
REASON_MAX = 500


# --- pure rules ---


def may_decide(*, is_admin: bool, managed_rooms: Sequence[int], room_id: int) -> bool:
    """Administrators decide on every room; a manager on the rooms they manage."""
    return is_admin or room_id in managed_rooms


def rejection_reason(reason: str | None) -> str:
    """The reason a rejection must give the owner: not blank, at most 500 characters."""
    text = (reason or "").strip()
    if not text:
        raise DecisionReasonRequired()
    return text


# --- room managers ---


async def _room_exists(session: AsyncSession, room_id: int) -> None:
    found = await session.scalar(select(MeetingRoom.room_id).where(MeetingRoom.room_id == room_id))
    if found is None:
        raise RoomNotFound(room_id=room_id)


async def managers_of(db: Database, *, room_id: int) -> list[str]:
    """The user ids managing the room (sorted); administrators manage every room anyway."""
    async with db.transaction() as session:
        await _room_exists(session, room_id)
        ids = await session.scalars(
            select(RoomManager.user_id)
            .where(RoomManager.room_id == room_id)
            .order_by(RoomManager.user_id)
        )
        return list(ids)


async def set_managers(
    db: Database, *, room_id: int, user_ids: Sequence[str], actor_id: str, now: datetime
) -> list[str]:
    """Replace the room's managers with `user_ids` (each an existing user), audited."""
    wanted = sorted(set(user_ids))
    async with db.transaction() as session:
        await _room_exists(session, room_id)
        if wanted:
            known = set(await session.scalars(select(User.user_id).where(User.user_id.in_(wanted))))
            unknown = [each for each in wanted if each not in known]
            if unknown:
                raise UnknownManagers(
                    details={"field": "user_ids", "user_ids": unknown}, user_ids=", ".join(unknown)
                )
        before = sorted(
            await session.scalars(select(RoomManager.user_id).where(RoomManager.room_id == room_id))
        )
        if before == wanted:
            return wanted
        await session.execute(delete(RoomManager).where(RoomManager.room_id == room_id))
        if wanted:
            await session.execute(
                insert(RoomManager), [{"room_id": room_id, "user_id": each} for each in wanted]
            )
        _manager_cache.clear()
        await audit.record(
            session,
            action=MANAGERS_ACTION,
            subject_type="room",
            subject_id=room_id,
            before={"managers": before},
            after={"managers": wanted},
            actor_id=actor_id,
            at=now,
        )
    return wanted


_MANAGES_ANY = (
    select(RoomManager.room_id)
    .where(RoomManager.user_id == bindparam("user_id", type_=String()))
    .limit(literal_column("1", Integer()))
)
# Whether a user manages any room, per process for a minute: the navigation asks on every
# page (to show managers the approvals link), and a query per page for that is too dear.
# A change of managers here clears it; another process's change shows within the minute.
_MANAGER_CACHE_SECONDS = 60.0
_manager_cache: dict[tuple[int, str], tuple[float, bool]] = {}


async def manages_any_room(db: Database, *, user_id: str) -> bool:
    """Whether the user manages some room (cached for a minute in this process)."""
    key = (id(db), user_id)
    now = time.monotonic()
    cached = _manager_cache.get(key)
    if cached is not None and now - cached[0] < _MANAGER_CACHE_SECONDS:
        return cached[1]
    found = bool(await db.read(_MANAGES_ANY, {"user_id": user_id}))
    if len(_manager_cache) > 10_000:
        _manager_cache.clear()
    _manager_cache[key] = (now, found)
    return found


async def _managed_rooms(session: AsyncSession, user_id: str) -> list[int]:
    return list(
        await session.scalars(select(RoomManager.room_id).where(RoomManager.user_id == user_id))
    )


# --- the pending bookings ---


@dataclass(frozen=True)
class PendingBooking:
    """A booking waiting for a decision, as an approver sees it."""

    reservation_id: int
    room_id: int
    room_name: str
    day: date
    start_time: str
    end_time: str
    user_id: str
    owner_name: str
    title: str | None
    created_at: datetime
    series_id: int | None


@dataclass(frozen=True)
class PendingPage:
    items: list[PendingBooking]
    total: int
    limit: int
    offset: int


def _pending_query(rooms: Sequence[int] | None) -> Any:
    query = (
        select(
            Reservation.reservation_id,
            Reservation.room_id,
            MeetingRoom.room_name,
            Reservation.reserved_date,
            Reservation.start_minute,
            Reservation.end_minute,
            Reservation.user_id,
            User.first_name,
            User.last_name,
            Reservation.title,
            Reservation.created_at,
            Reservation.series_id,
        )
        .join(MeetingRoom, MeetingRoom.room_id == Reservation.room_id)
        .join(User, User.user_id == Reservation.user_id)
        .where(Reservation.status == ReservationStatus.PENDING.value)
    )
    if rooms is not None:
        query = query.where(Reservation.room_id.in_(rooms))
    return query


async def pending(
    db: Database, *, actor: AuthenticatedUser, limit: int, offset: int, locale: str
) -> PendingPage:
    """The bookings the actor may decide on, oldest request first: all for an admin,
    their rooms' for a manager; anyone else is refused (NotAnApprover)."""
    async with db.transaction() as session:
        rooms: list[int] | None = None
        if not actor.is_admin:
            rooms = await _managed_rooms(session, actor.user_id)
            if not rooms:
                raise NotAnApprover()
        query = _pending_query(rooms)
        total = await session.scalar(select(func.count()).select_from(query.subquery()))
        rows = (
            await session.execute(
                query.order_by(Reservation.created_at, Reservation.reservation_id)
                .limit(limit)
                .offset(offset)
            )
        ).all()
    items = [
        PendingBooking(
            reservation_id=row.reservation_id,
            room_id=row.room_id,
            room_name=row.room_name,
            day=row.reserved_date,
            start_time=format_minute(row.start_minute),
            end_time=format_minute(row.end_minute),
            user_id=row.user_id,
            owner_name=display_name(locale, row.first_name, row.last_name),
            title=row.title,
            created_at=row.created_at,
            series_id=row.series_id,
        )
        for row in rows
    ]
    return PendingPage(items=items, total=int(total or 0), limit=limit, offset=offset)


@dataclass(frozen=True)
class Decision:
    reservation_id: int
    status: str
    decided_at: datetime
    decided_by: str
    reason: str | None


async def decide(
    db: Database,
    *,
    actor: AuthenticatedUser,
    reservation_id: int,
    approve: bool,
    reason: str | None,
    now: datetime,
) -> Decision:
    """Approve (PENDING → ACTIVE) or reject (PENDING → REJECTED, the slot freed) one
    booking. The row is locked first: a second decision waits, then finds it decided
    (NotPending). Recorded as a change (the owner's mail) with its audit row."""
    if not approve:
        reason = rejection_reason(reason)
    elif reason is not None:
        reason = reason.strip() or None
    async with db.transaction() as session:
        row = (
            await session.execute(
                select(
                    Reservation.room_id,
                    Reservation.user_id,
                    Reservation.status,
                    Reservation.series_id,
                )
                .where(Reservation.reservation_id == reservation_id)
                .with_for_update()
            )
        ).first()
        if row is None:
            raise ReservationNotFound(reservation_id=reservation_id)
        managed = [] if actor.is_admin else await _managed_rooms(session, actor.user_id)
        if not may_decide(is_admin=actor.is_admin, managed_rooms=managed, room_id=row.room_id):
            raise NotAnApprover()
        if row.status != ReservationStatus.PENDING:
            raise NotPending(reservation_id=reservation_id)
        status = ReservationStatus.ACTIVE if approve else ReservationStatus.REJECTED
        values: dict[str, Any] = {
            "status": status.value,
            "decided_at": now,
            "decided_by": actor.user_id,
            "decision_reason": reason,
            # A new version: the owner's calendar takes the update (its SEQUENCE rises).
            "version": Reservation.version + 1,
            "updated_at": now,
        }
        done = await session.execute(
            update(Reservation)
            .where(
                Reservation.reservation_id == reservation_id,
                Reservation.status == ReservationStatus.PENDING.value,
            )
            .values(**values)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise NotPending(reservation_id=reservation_id)
        after: dict[str, Any] = {"status": status.value}
        if reason is not None:
            after["reason"] = reason
        await changes.record(
            session,
            ChangeKind.CHANGED if approve else ChangeKind.CANCELLED,
            now=now,
            actor_id=actor.user_id,
            reservation_id=reservation_id,
            owner_id=row.user_id,
            reason=reason,
            before={"status": ReservationStatus.PENDING.value},
            after=after,
            occurrence=row.series_id is not None,
            action=APPROVED_ACTION if approve else REJECTED_ACTION,
            decision="approved" if approve else "rejected",
        )
    return Decision(reservation_id, status.value, now, actor.user_id, reason)


# --- reminding managers of bookings waiting too long ---

_REMINDER_SUBJECT = "Bookings waiting for your approval: {count}"
_REMINDER_BODY = (
    "Hello {name},\n\nThese bookings have been waiting for approval for a while:\n\n"
    "{lines}\n\nApprove or reject them on the approvals page ({link}).\n\n— MRS"
)


def reminder_text(
    locale: str | None, *, name: str, lines: Sequence[str], link: str
) -> tuple[str, str]:
    """The reminder's subject and body in the recipient's language."""
    loc = supported_locale(locale)
    return (
        translate(loc, _REMINDER_SUBJECT, count=len(lines)),
        translate(loc, _REMINDER_BODY, name=name, lines="\n".join(lines), link=link),
    )


async def remind_pending(db: Database, *, settings: Settings, now: datetime) -> int:
    """Remind the managers (the admins when a room has none) of every booking pending for
    `MRS_APPROVAL_REMIND_AFTER_MINUTES` and not reminded within that time; each booking's
    `approval_reminded_at` is set in the same transaction as the queued mail, so it is
    reminded at most once per period. Bookings already over are left alone. How many
    bookings were reminded of."""
    period = timedelta(minutes=settings.approval_remind_after_minutes)
    cutoff = now - period
    today = now.astimezone(settings.tz).date()
    async with db.transaction() as session:
        query = (
            select(
                Reservation.reservation_id,
                Reservation.room_id,
                MeetingRoom.room_name,
                Reservation.reserved_date,
                Reservation.start_minute,
                Reservation.end_minute,
                Reservation.created_at,
                Reservation.approval_reminded_at,
            )
            .join(MeetingRoom, MeetingRoom.room_id == Reservation.room_id)
            .where(
                Reservation.status == ReservationStatus.PENDING.value,
                Reservation.reserved_date >= today,
                Reservation.created_at <= cutoff,
                or_(
                    Reservation.approval_reminded_at.is_(None),
                    Reservation.approval_reminded_at <= cutoff,
                ),
            )
            .order_by(Reservation.created_at, Reservation.reservation_id)
            .limit(500)
        )
        if db.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True, of=Reservation)
        due = (await session.execute(query)).all()
        if not due:
            return 0
        rooms = sorted({row.room_id for row in due})
        managers: dict[int, list[str]] = defaultdict(list)
        for room_id, user_id in await session.execute(
            select(RoomManager.room_id, RoomManager.user_id).where(RoomManager.room_id.in_(rooms))
        ):
            managers[room_id].append(user_id)
        admins = list(
            await session.scalars(
                select(User.user_id).where(
                    User.role_name == Role.ADMIN.value, User.status == UserStatus.ACTIVE.value
                )
            )
        )
        lines_for: dict[str, list[str]] = defaultdict(list)
        for row in due:
            line = (
                f"- #{row.reservation_id} {row.room_name} {row.reserved_date.isoformat()} "
                f"{format_minute(row.start_minute)}-{format_minute(row.end_minute)}"
            )
            for user_id in managers.get(row.room_id) or admins:
                lines_for[user_id].append(line)
        people = (
            await session.execute(
                select(
                    User.user_id, User.first_name, User.last_name, User.email, User.locale
                ).where(User.user_id.in_(list(lines_for)), User.status == UserStatus.ACTIVE.value)
            )
        ).all()
        link = f"{settings.site_url}/admin/approvals"
        for person in people:
            locale = supported_locale(person.locale)
            subject, body = reminder_text(
                locale,
                name=display_name(locale, person.first_name, person.last_name),
                lines=lines_for[person.user_id],
                link=link,
            )
            await enqueue_mail(
                session, to=[person.email], subject=subject, body=body, settings=settings
            )
        await session.execute(
            update(Reservation)
            .where(Reservation.reservation_id.in_([row.reservation_id for row in due]))
            .values(approval_reminded_at=now)
        )
    return len(due)
