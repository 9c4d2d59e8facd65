"""Reservation use cases: reserve, cancel, list.

Double booking is prevented in one statement (`statements.insert_if_free`): the insert
happens only when the room is bookable that day (`mrs.rooms.availability`) and no active
reservation overlaps. Outcomes are announced as `events`, whichever door called. On PostgreSQL the exclusion constraint
is the real guarantee (two racing inserts both see "free"; the second then fails with
23P01, or 40P01 when they deadlock), and both become ReservationConflict. On SQLite,
write transactions are serialised (BEGIN IMMEDIATE), so the check cannot race.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, delete, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from mrs.accounts.models import User
from mrs.db.engine import Database
from mrs.db.errors import DEADLOCK_DETECTED, EXCLUSION_VIOLATION, FOREIGN_KEY_VIOLATION, sqlstate
from mrs.db.types import UTCDateTime
from mrs.notifications.service import enqueue_mail
from mrs.reservations import events, notices, rules, statements
from mrs.reservations.errors import (
    AlreadyCancelled,
    IdempotencyKeyInProgress,
    IdempotencyKeyReused,
    ReservationConflict,
    ReservationNotFound,
    RoomNotReservable,
    RoomOutOfUse,
)
from mrs.reservations.events import ReservationEvent
from mrs.reservations.models import IdempotencyKey, Reservation, ReservationStatus
from mrs.reservations.schemas import ReservationRead
from mrs.rooms import availability
from mrs.rooms.availability import Unbookable
from mrs.rooms.errors import OutsideBookableHours
from mrs.rooms.models import MeetingRoom
from mrs.settings import Settings
from mrs.wallclock import elapsed_minutes, format_minute, wall_instant


@dataclass(frozen=True)
class ReservationView:
    reservation_id: int
    room_id: int
    room_name: str
    date: date
    start_time: int
    end_time: int
    duration_minutes: int
    user_id: str
    user_name: str
    status: str
    created_at: datetime
    cancelled_at: datetime | None
    cancelled_by: str | None
    # The owner's names apart, for pages that write them in the reader's order.
    first_name: str = ""
    last_name: str = ""


def _to_view(row: Any, tz: ZoneInfo) -> ReservationView:
    return ReservationView(
        reservation_id=row.reservation_id,
        room_id=row.room_id,
        room_name=row.room_name,
        date=row.reserved_date,
        start_time=row.start_minute,
        end_time=row.end_minute,
        duration_minutes=elapsed_minutes(row.reserved_date, row.start_minute, row.end_minute, tz),
        user_id=row.user_id,
        user_name=f"{row.first_name} {row.last_name}".strip(),
        first_name=row.first_name,
        last_name=row.last_name,
        status=row.status,
        created_at=row.created_at,
        cancelled_at=row.cancelled_at,
        cancelled_by=row.cancelled_by,
    )


async def _why_not_inserted(
    db: Database, attempt: dict[str, Any]
) -> ReservationConflict | RoomNotReservable | RoomOutOfUse | OutsideBookableHours:
    """Why the reservation `attempt` (reserve's parameters) was not inserted."""
    room_id, day = attempt["room_id"], attempt["day"]
    start, end = attempt["start_minute"], attempt["end_minute"]
    unbookable = await availability.why_not_bookable(
        db, room_id=room_id, day=day, start_minute=start, end_minute=end
    )
    if unbookable is Unbookable.OUT_OF_USE:
        return RoomOutOfUse(room_id=room_id)
    if isinstance(unbookable, availability.OutsideHours):
        return OutsideBookableHours(
            room_id=room_id,
            start=format_minute(unbookable.open_minute),
            end=format_minute(unbookable.close_minute),
        )
    if unbookable is not None:
        return RoomNotReservable(room_id=room_id, date=day.isoformat())
    events.emit(ReservationEvent.CONFLICT)
    others = await db.read(statements.FIRST_OVERLAP, attempt)
    if not others:
        # The blocking reservation was cancelled meanwhile; still a conflict for this try.
        return ReservationConflict(
            start=format_minute(attempt["start_minute"]), end=format_minute(attempt["end_minute"])
        )
    other = others[0]
    return ReservationConflict(
        start=format_minute(other.start_minute),
        end=format_minute(other.end_minute),
        details={"reservation_id": other.reservation_id},
    )


async def _insert_in(session: AsyncSession, dialect: str, params: dict[str, Any]) -> Any | None:
    """Within `session`'s transaction: the new reservation's view row, or None when the
    room is closed or the time taken."""
    inserted = (await session.execute(statements.insert_if_free(dialect), params)).first()
    if inserted is None or dialect == "postgresql":
        return inserted  # PostgreSQL's statement reads the view back itself
    return (
        await session.execute(
            statements.RESERVATION_BY_ID, {"reservation_id": inserted.reservation_id}
        )
    ).one()


async def _insert_if_free(db: Database, params: dict[str, Any]) -> Any | None:
    """The new reservation's view row, or None when the room is closed or the time taken."""
    if db.dialect == "postgresql":
        rows = await db.write(statements.insert_if_free(db.dialect), params)
        return rows[0] if rows else None
    async with db.transaction() as session:
        return await _insert_in(session, db.dialect, params)


def _check_request(
    settings: Settings, *, day: date, start_minute: int, end_minute: int, now: datetime
) -> None:
    rules.check_time_range(start_minute, end_minute, settings.slot_minutes)
    rules.check_times_exist(day, start_minute, end_minute, settings.tz)
    rules.check_not_in_past(day, start_minute, now, settings.tz)


def _booking(
    *, user_id: str, room_id: int, day: date, start: int, end: int, now: datetime
) -> dict[str, Any]:
    """The parameters of the insert-if-free statement (and of asking why not)."""
    return {
        "room_id": room_id,
        "day": day,
        "start_minute": start,
        "end_minute": end,
        "user_id": user_id,
        "now": now,
    }


def _inserted_or_why_not(error: DBAPIError) -> bool:
    """Whether a failed insert means "taken" or "closed" (asked afterwards), not a fault."""
    return sqlstate(error) in (EXCLUSION_VIOLATION, DEADLOCK_DETECTED, FOREIGN_KEY_VIOLATION)


async def reserve(
    db: Database,
    *,
    settings: Settings,
    user_id: str,
    room_id: int,
    day: date,
    start_minute: int,
    end_minute: int,
    now: datetime,
) -> ReservationView:
    """Reserve a room for a time range on a day, or raise why not."""
    _check_request(settings, day=day, start_minute=start_minute, end_minute=end_minute, now=now)
    params = _booking(
        user_id=user_id, room_id=room_id, day=day, start=start_minute, end=end_minute, now=now
    )
    try:
        row = await _insert_if_free(db, params)
    except DBAPIError as exc:
        if not _inserted_or_why_not(exc):
            raise
        raise await _why_not_inserted(db, params) from exc
    if row is None:
        raise await _why_not_inserted(db, params)
    events.emit(ReservationEvent.CREATED)
    return _to_view(row, settings.tz)


# --- reserving at most once per Idempotency-Key ---

# Claim the key, or take over one that has expired. When another transaction holds the
# same key (a concurrent retry), PostgreSQL makes this wait until that one ends: then the
# key is either committed with its answer (no row back: replay it) or gone (claimed here).
# SQLite serialises writers, so the same holds there.
_CLAIM_KEY = text(
    """
    INSERT INTO idempotency_key (user_id, idem_key, fingerprint, created_at)
    VALUES (:user_id, :idem_key, :fingerprint, :now)
    ON CONFLICT (user_id, idem_key) DO UPDATE
    SET fingerprint = excluded.fingerprint, created_at = excluded.created_at,
        reservation_id = NULL, response_status = NULL, response_body = NULL
    WHERE idempotency_key.created_at <= :expired_before
    RETURNING user_id
    """
).bindparams(
    bindparam("now", type_=UTCDateTime()), bindparam("expired_before", type_=UTCDateTime())
)


@dataclass(frozen=True)
class Answer:
    """An answer to send as it is: the HTTP status and the JSON body."""

    status: int
    body: str
    replayed: bool


def _replayed(stored: Any, fingerprint: str) -> Answer:
    if stored.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    if stored.response_status is None or stored.response_body is None:
        # Not expected (the key and its answer commit together), but never book twice.
        raise IdempotencyKeyInProgress()
    return Answer(status=stored.response_status, body=stored.response_body, replayed=True)


async def reserve_once(
    db: Database,
    *,
    settings: Settings,
    user_id: str,
    idempotency_key: str,
    room_id: int,
    day: date,
    start_minute: int,
    end_minute: int,
    now: datetime,
) -> Answer:
    """`reserve`, at most once per `idempotency_key` of the user: within the key's
    lifetime a retry of the same request gets the first answer again (`replayed`), the
    same key with another request is refused (IdempotencyKeyReused).

    The key and its answer are written in the transaction that inserts the reservation,
    so a committed reservation always has its key; a refused request (taken, closed,
    invalid) writes nothing, and its retry is judged afresh.
    """
    fingerprint = rules.request_fingerprint(
        room_id=room_id, day=day, start_minute=start_minute, end_minute=end_minute
    )
    key = {
        "user_id": user_id,
        "idem_key": idempotency_key,
        "fingerprint": fingerprint,
        "now": now,
        "expired_before": now - timedelta(hours=settings.idempotency_key_hours),
    }
    params = _booking(
        user_id=user_id, room_id=room_id, day=day, start=start_minute, end=end_minute, now=now
    )
    try:
        async with db.transaction() as session:
            if (await session.execute(_CLAIM_KEY, key)).first() is None:
                stored = (
                    await session.execute(
                        select(IdempotencyKey).where(
                            IdempotencyKey.user_id == user_id,
                            IdempotencyKey.idem_key == idempotency_key,
                        )
                    )
                ).scalar_one()
                return _replayed(stored, fingerprint)
            # Checked after the key: a replay must not turn into "starts in the past".
            _check_request(
                settings, day=day, start_minute=start_minute, end_minute=end_minute, now=now
            )
            row = await _insert_in(session, db.dialect, params)
            if row is None:
                raise await _why_not_inserted(db, params)
            view = _to_view(row, settings.tz)
            body = ReservationRead.model_validate(view, from_attributes=True).model_dump_json()
            await session.execute(
                update(IdempotencyKey)
                .where(
                    IdempotencyKey.user_id == user_id, IdempotencyKey.idem_key == idempotency_key
                )
                .values(reservation_id=view.reservation_id, response_status=201, response_body=body)
            )
    except DBAPIError as exc:
        if not _inserted_or_why_not(exc):
            raise
        raise await _why_not_inserted(db, params) from exc
    events.emit(ReservationEvent.CREATED)
    return Answer(status=201, body=body, replayed=False)


async def prune_idempotency_keys(db: Database, *, settings: Settings, now: datetime) -> int:
    """Forget keys older than their lifetime; how many were removed."""
    cutoff = now - timedelta(hours=settings.idempotency_key_hours)
    async with db.transaction() as session:
        result = await session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.created_at <= cutoff)
        )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def get_reservation(db: Database, *, reservation_id: int) -> ReservationView:
    rows = await db.read(statements.RESERVATION_BY_ID, {"reservation_id": reservation_id})
    if not rows:
        raise ReservationNotFound(reservation_id=reservation_id)
    return _to_view(rows[0], db.settings.tz)


async def reservations_of_room_day(
    db: Database, *, room_id: int, day: date
) -> list[ReservationView]:
    """The active reservations of a room on a day, in time order."""
    rows = await db.read(statements.ROOM_DAY, {"room_id": room_id, "day": day})
    return [_to_view(row, db.settings.tz) for row in rows]


async def reservations_of_user(
    db: Database, *, user_id: str, now: datetime, settings: Settings, limit: int = 500
) -> list[ReservationView]:
    """A user's reservations: upcoming ones first (soonest first), then past ones (latest first)."""
    rows = await db.read(statements.OF_USER, {"user_id": user_id, "limit": limit})
    views = [_to_view(row, settings.tz) for row in rows]
    upcoming: list[ReservationView] = []
    past: list[ReservationView] = []
    for view in views:
        ended = wall_instant(view.date, view.end_time, settings.tz) <= now
        (past if ended else upcoming).append(view)
    return upcoming[::-1] + past


async def cancel(
    db: Database,
    *,
    settings: Settings,
    actor: rules.Actor,
    reservation_id: int,
    now: datetime,
    reason: str | None = None,
) -> None:
    """Cancel a reservation (kept with status CANCELLED, never deleted). When someone else
    (an administrator) cancels it, the owner is mailed, with `reason` when one is given."""
    async with db.transaction() as session:
        row = (
            await session.execute(
                select(
                    Reservation.user_id,
                    Reservation.reserved_date,
                    Reservation.start_minute,
                    Reservation.end_minute,
                    Reservation.status,
                    MeetingRoom.room_name,
                    User.email,
                    User.first_name,
                    User.last_name,
                    User.locale,
                )
                .join(MeetingRoom, MeetingRoom.room_id == Reservation.room_id)
                .join(User, User.user_id == Reservation.user_id)
                .where(Reservation.reservation_id == reservation_id)
                .with_for_update(of=Reservation)
            )
        ).first()
        if row is None:
            raise ReservationNotFound(reservation_id=reservation_id)
        rules.check_can_cancel(
            actor,
            owner_id=row.user_id,
            day=row.reserved_date,
            end_minute=row.end_minute,
            now=now,
            tz=settings.tz,
        )
        if row.status == ReservationStatus.CANCELLED:
            raise AlreadyCancelled()
        await session.execute(
            update(Reservation)
            .where(Reservation.reservation_id == reservation_id)
            .values(
                status=ReservationStatus.CANCELLED.value,
                cancelled_at=now,
                cancelled_by=actor.user_id,
            )
        )
        if actor.user_id != row.user_id:
            # Queued in this transaction: the mail goes only if the cancel commits.
            notice = notices.cancelled_by_admin(
                row.locale,
                first_name=row.first_name,
                last_name=row.last_name,
                room_name=row.room_name,
                day=row.reserved_date,
                start_minute=row.start_minute,
                end_minute=row.end_minute,
                reason=reason,
            )
            await enqueue_mail(session, to=[row.email], subject=notice.subject, body=notice.body)
    events.emit(ReservationEvent.CANCELLED)
