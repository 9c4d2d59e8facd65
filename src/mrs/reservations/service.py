"""Booking: reserve a room (at most once per Idempotency-Key), and the checks and
statements every write of a reservation shares (editing and series reuse them).

Double booking is prevented in one statement (`statements.insert_if_free`): the insert
happens only when the room is bookable that day (`mrs.rooms.availability`) and no active
reservation overlaps. Outcomes are announced as `events`, whichever door called. On
PostgreSQL the exclusion constraint is the real guarantee: writes of one room on one day
take turns on its date row, and a racing insert that still saw "free" then fails with
23P01 (40P01 when two series deadlock); both become ReservationConflict. On SQLite, write
transactions are serialised (BEGIN IMMEDIATE), so the check cannot race.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from mrs.accounts.models import User, UserStatus
from mrs.db.engine import Database
from mrs.db.errors import DEADLOCK_DETECTED, EXCLUSION_VIOLATION, FOREIGN_KEY_VIOLATION, sqlstate
from mrs.db.types import UTCDateTime
from mrs.i18n import DEFAULT_LOCALE
from mrs.policies import enforcement as policies
from mrs.policies.rules import Quota, Slot
from mrs.reservations import changes, events, quota_usage, rules, statements
from mrs.reservations.errors import (
    IdempotencyKeyInProgress,
    IdempotencyKeyReused,
    ReservationConflict,
    RoomNotReservable,
    RoomOutOfUse,
    UnknownAttendees,
)
from mrs.reservations.events import ReservationEvent
from mrs.reservations.models import (
    ChangeKind,
    IdempotencyKey,
    ReservationAttendee,
    ReservationStatus,
    Visibility,
)
from mrs.reservations.reads import ReservationView, to_view
from mrs.reservations.schemas import ReservationRead
from mrs.rooms import availability
from mrs.rooms.availability import Unbookable
from mrs.rooms.errors import OutsideBookableHours
from mrs.settings import Settings
from mrs.wallclock import format_minute


async def room_refusal(
    db: Database, *, room_id: int, day: date, start_minute: int, end_minute: int
) -> RoomNotReservable | RoomOutOfUse | OutsideBookableHours | None:
    """Why the room cannot be booked on `day` for that time (`availability.why_not_bookable`
    as the error a booking gets), or None when it can."""
    unbookable = await availability.why_not_bookable(
        db, room_id=room_id, day=day, start_minute=start_minute, end_minute=end_minute
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
    return None


async def why_not_inserted(
    db: Database, attempt: dict[str, Any], overlap: Any = statements.FIRST_OVERLAP
) -> ReservationConflict | RoomNotReservable | RoomOutOfUse | OutsideBookableHours:
    """Why the reservation `attempt` (reserve's parameters, or a move's with its
    `reservation_id` and `overlap` excluding it) was not written."""
    refusal = await room_refusal(
        db,
        room_id=attempt["room_id"],
        day=attempt["day"],
        start_minute=attempt["start_minute"],
        end_minute=attempt["end_minute"],
    )
    if refusal is not None:
        return refusal
    events.emit(ReservationEvent.CONFLICT)
    others = await db.read(overlap, attempt)
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


async def check_attendees(session: AsyncSession, invited: Sequence[str]) -> None:
    """Every invited id is an active user of the site, else UnknownAttendees naming the rest."""
    if not invited:
        return
    found = set(
        (
            await session.scalars(
                select(User.user_id).where(
                    User.user_id.in_(invited), User.status == UserStatus.ACTIVE.value
                )
            )
        ).all()
    )
    unknown = [user_id for user_id in invited if user_id not in found]
    if unknown:
        raise _unknown_attendees(unknown)


def _unknown_attendees(unknown: Sequence[str]) -> UnknownAttendees:
    return UnknownAttendees(
        details={"field": "attendees", "user_ids": list(unknown)}, user_ids=", ".join(unknown)
    )


async def set_attendees(
    session: AsyncSession, reservation_ids: Sequence[int], invited: Sequence[str], *, replace: bool
) -> None:
    """Invite `invited` to each reservation (a meeting, or a series' occurrences), in
    place of who was invited before when `replace`."""
    if not reservation_ids:
        return
    if replace:
        await session.execute(
            delete(ReservationAttendee).where(
                ReservationAttendee.reservation_id.in_(reservation_ids)
            )
        )
    if invited:
        await session.execute(
            insert(ReservationAttendee),
            [
                {"reservation_id": reservation_id, "user_id": user_id}
                for reservation_id in reservation_ids
                for user_id in invited
            ],
        )


async def read_back(session: AsyncSession, dialect: str, reservation_id: int) -> Any:
    return (
        await session.execute(
            statements.reservation_by_id(dialect), {"reservation_id": reservation_id}
        )
    ).one()


async def _insert_in(
    session: AsyncSession,
    dialect: str,
    params: dict[str, Any],
    invited: Sequence[str] = (),
    ungoverned: bool = False,
    pending: bool = False,
) -> Any | None:
    """Within `session`'s transaction: the new reservation's view row (with `invited` as
    its attendees, its change recorded), or None when the room is closed or the time taken
    (`ungoverned`: or a policy governs it). `pending`: it waits for approval."""
    await check_attendees(session, invited)
    fields = _created_fields(params, invited)
    if dialect == "postgresql":
        params = {**params, **changes.creation_params(fields)}
    statement = statements.insert_if_free(dialect, ungoverned, pending)
    inserted = (await session.execute(statement, params)).first()
    if inserted is None:
        return None
    if dialect != "postgresql":  # PostgreSQL's statement records it itself
        await changes.record(
            session,
            ChangeKind.CREATED,
            now=params["now"],
            actor_id=params.get("booked_by") or params["user_id"],
            reservation_id=inserted.reservation_id,
            owner_id=params["user_id"],
            after=fields,
        )
    if invited:
        await set_attendees(session, [inserted.reservation_id], invited, replace=False)
    elif dialect == "postgresql":
        return inserted  # PostgreSQL's statement reads the view back itself
    return await read_back(session, dialect, inserted.reservation_id)


def _created_fields(params: dict[str, Any], invited: Sequence[str]) -> dict[str, Any]:
    """The new reservation as its audit row's `after` (from the insert's parameters)."""
    return changes.meeting_fields(
        room_id=params["room_id"],
        day=params["day"],
        start_minute=params["start_minute"],
        end_minute=params["end_minute"],
        title=params["title"],
        description=params["description"],
        visibility=params["visibility"],
        attendees=invited,
    )


# A reservation's meeting fields when none are given (a seed-style booking), made by its
# owner (`booked_by` NULL).
_NO_MEETING: dict[str, Any] = {
    "title": None,
    "description": "",
    "visibility": "PUBLIC",
    "booked_by": None,
}


async def _insert_if_free(
    db: Database,
    params: dict[str, Any],
    invited: Sequence[str] = (),
    *,
    settings: Settings | None = None,
    quota: Quota | None = None,
    ungoverned: bool = False,
    pending: bool = False,
) -> Any | None:
    """The new reservation's view row, or None when the room is closed or the time taken
    (or, `ungoverned`, when a room policy or user quota governs it: see the statement).

    On PostgreSQL one statement in autocommit (the fast path), with or without attendees;
    under a `quota`, a transaction that holds it (the user's row locked) before inserting;
    `pending` (waiting for approval, never on the fast path) also in a transaction."""
    params = {**_NO_MEETING, **params}
    if db.dialect != "postgresql" or quota is not None or pending:
        async with db.transaction() as session:
            if quota is not None:
                assert settings is not None  # a quota comes from the settings' site
                await _hold(session, db.dialect, settings, quota, params)
            return await _insert_in(session, db.dialect, params, invited, ungoverned, pending)
    params |= changes.creation_params(_created_fields(params, invited))
    if not invited:
        rows = await db.write(statements.insert_if_free(db.dialect, ungoverned), params)
        return rows[0] if rows else None
    invitation = {"attendees": list(invited), "attendee_count": len(invited)}
    rows = await db.write(statements.insert_meeting_if_free(ungoverned), {**params, **invitation})
    if rows:
        return rows[0]
    # Refused: an attendee who is not an active user is the first thing to say.
    active = {row.user_id for row in await db.read(statements.active_users_among(), invitation)}
    unknown = [user_id for user_id in invited if user_id not in active]
    if unknown:
        raise _unknown_attendees(unknown)
    return None


def check_request(
    settings: Settings, *, day: date, start_minute: int, end_minute: int, now: datetime
) -> None:
    rules.check_time_range(start_minute, end_minute, settings.slot_minutes)
    rules.check_times_exist(day, start_minute, end_minute, settings.tz)
    rules.check_not_in_past(day, start_minute, now, settings.tz)


async def _hold(
    session: AsyncSession, dialect: str, settings: Settings, quota: Quota, params: dict[str, Any]
) -> None:
    """Hold the user's quota for the booking `params` (user's row first, then the date's)."""
    await quota_usage.hold_quota(
        session,
        dialect=dialect,
        settings=settings,
        user_id=params["user_id"],
        quota=quota,
        slots=[Slot(params["day"], params["start_minute"], params["end_minute"])],
        now=params["now"],
    )


async def check_policy(
    db: Database,
    *,
    settings: Settings,
    user_id: str,
    room_id: int,
    day: date,
    start_minute: int,
    end_minute: int,
    now: datetime,
    session: AsyncSession | None = None,
) -> policies.Verdict:
    """The room's policy for this booking by `user_id` (refused with the rule's error):
    the quota to hold when one applies, and whether it waits for approval."""
    return await policies.judge_booking(
        db,
        settings=settings,
        user_id=user_id,
        room_id=room_id,
        slots=[Slot(day, start_minute, end_minute)],
        now=now,
        session=session,
    )


def _booking(
    *,
    user_id: str,
    room_id: int,
    day: date,
    start: int,
    end: int,
    now: datetime,
    title: str | None = None,
    description: str = "",
    visibility: str = Visibility.PUBLIC,
    booked_by: str | None = None,
) -> dict[str, Any]:
    """The parameters of the insert-if-free statement (and of asking why not)."""
    return {
        "room_id": room_id,
        "day": day,
        "start_minute": start,
        "end_minute": end,
        "user_id": user_id,
        "booked_by": booked_by,
        "now": now,
        "title": title,
        "description": description,
        "visibility": str(visibility),
    }


def inserted_or_why_not(error: DBAPIError) -> bool:
    """Whether a failed insert means "taken" or "closed" (asked afterwards), not a fault."""
    return sqlstate(error) in (EXCLUSION_VIOLATION, DEADLOCK_DETECTED, FOREIGN_KEY_VIOLATION)


async def _reserve_now(
    db: Database,
    *,
    settings: Settings,
    user_id: str,
    room_id: int,
    day: date,
    start_minute: int,
    end_minute: int,
    now: datetime,
    title: str | None = None,
    description: str = "",
    visibility: Visibility = Visibility.PUBLIC,
    attendees: Collection[str] = (),
    locale: str = DEFAULT_LOCALE,
    booked_by: str | None = None,
) -> ReservationView:
    """`reserve` without an Idempotency-Key: the new reservation as its owner sees it."""
    check_request(settings, day=day, start_minute=start_minute, end_minute=end_minute, now=now)
    invited = rules.attendee_ids(attendees, owner_id=user_id)
    params = _booking(
        user_id=user_id,
        room_id=room_id,
        day=day,
        start=start_minute,
        end=end_minute,
        now=now,
        title=title,
        description=description,
        visibility=visibility,
        booked_by=booked_by,
    )
    try:
        row = None
        # The fast path: one statement, which inserts only when no room policy or user
        # quota governs the booking and the site-wide limits (checked here) pass.
        fast = policies.site_allows(settings, [Slot(day, start_minute, end_minute)], now=now)
        if fast:
            row = await _insert_if_free(db, params, invited, ungoverned=True)
        if row is None:
            verdict = await check_policy(
                db,
                settings=settings,
                user_id=user_id,
                room_id=room_id,
                day=day,
                start_minute=start_minute,
                end_minute=end_minute,
                now=now,
            )
            row = await _insert_if_free(
                db,
                params,
                invited,
                settings=settings,
                quota=verdict.quota,
                pending=verdict.pending,
            )
    except DBAPIError as exc:
        if not inserted_or_why_not(exc):
            raise
        raise await why_not_inserted(db, params) from exc
    if row is None:
        raise await why_not_inserted(db, params)
    events.emit(ReservationEvent.CREATED)
    return to_view(row, settings.tz, viewer=rules.Actor(user_id, is_admin=False), locale=locale)


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
    """What a reservation request gets: the new reservation as its owner sees it, or,
    for a retry under the same Idempotency-Key, the first answer again as it was sent
    (`replayed`: the HTTP status and JSON `body`, and no `view`)."""

    reservation_id: int
    view: ReservationView | None = None
    status: int = 201
    body: str = ""
    replayed: bool = False

    @property
    def pending(self) -> bool:
        """Whether the booking waits for a room manager's approval (also when replayed)."""
        if self.view is not None:
            return self.view.status == ReservationStatus.PENDING
        try:
            stored = json.loads(self.body)
        except ValueError:
            return False
        return isinstance(stored, dict) and stored.get("status") == ReservationStatus.PENDING


def _replayed(stored: Any, fingerprint: str) -> Answer:
    if stored.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    if (
        stored.response_status is None
        or stored.response_body is None
        or stored.reservation_id is None
    ):
        # Not expected (the key and its answer commit together), but never book twice.
        raise IdempotencyKeyInProgress()
    return Answer(
        reservation_id=stored.reservation_id,
        status=stored.response_status,
        body=stored.response_body,
        replayed=True,
    )


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
    title: str | None = None,
    description: str = "",
    visibility: Visibility = Visibility.PUBLIC,
    attendees: Collection[str] = (),
    idempotency_key: str | None = None,
    locale: str = DEFAULT_LOCALE,
    booked_by: str | None = None,
) -> Answer:
    """Reserve a room for a time range on a day, as a meeting (title, description,
    visibility, attendees: active users of the site), or raise why not. The one entry
    point of every door (API, pages): with an `idempotency_key`, at most once per key.

    `booked_by`: who books it for `user_id` (a delegate or administrator, allowed by
    `delegation.booking_owner`); the owner's policies and quota apply, and the key is
    the booker's."""
    meeting: dict[str, Any] = {
        "settings": settings,
        "user_id": user_id,
        "room_id": room_id,
        "day": day,
        "start_minute": start_minute,
        "end_minute": end_minute,
        "now": now,
        "title": title,
        "description": description,
        "visibility": visibility,
        "attendees": attendees,
        "locale": locale,
        "booked_by": booked_by,
    }
    if idempotency_key is not None:
        return await _reserve_once(db, idempotency_key=idempotency_key, **meeting)
    view = await _reserve_now(db, **meeting)
    return Answer(reservation_id=view.reservation_id, view=view)


async def _reserve_once(
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
    title: str | None = None,
    description: str = "",
    visibility: Visibility = Visibility.PUBLIC,
    attendees: Collection[str] = (),
    locale: str = DEFAULT_LOCALE,
    booked_by: str | None = None,
) -> Answer:
    """`reserve` at most once per `idempotency_key` of the user (the booker's, when
    booking for someone else): within the key's
    lifetime a retry of the same request gets the first answer again (`replayed`), the
    same key with another request is refused (IdempotencyKeyReused).

    The key and its answer are written in the transaction that inserts the reservation,
    so a committed reservation always has its key; a refused request (taken, closed,
    invalid) writes nothing, and its retry is judged afresh.
    """
    invited = rules.attendee_ids(attendees, owner_id=user_id)
    fingerprint = rules.request_fingerprint(
        room_id=room_id,
        day=day,
        start_minute=start_minute,
        end_minute=end_minute,
        title=title,
        description=description,
        visibility=visibility,
        attendee_ids=invited,
        owner_id=user_id if booked_by is not None else None,
    )
    key_owner = booked_by or user_id
    key = {
        "user_id": key_owner,
        "idem_key": idempotency_key,
        "fingerprint": fingerprint,
        "now": now,
        "expired_before": now - timedelta(hours=settings.idempotency_key_hours),
    }
    params = _booking(
        user_id=user_id,
        room_id=room_id,
        day=day,
        start=start_minute,
        end=end_minute,
        now=now,
        title=title,
        description=description,
        visibility=visibility,
        booked_by=booked_by,
    )
    try:
        async with db.transaction() as session:
            if (await session.execute(_CLAIM_KEY, key)).first() is None:
                stored = (
                    await session.execute(
                        select(IdempotencyKey).where(
                            IdempotencyKey.user_id == key_owner,
                            IdempotencyKey.idem_key == idempotency_key,
                        )
                    )
                ).scalar_one()
                return _replayed(stored, fingerprint)
            # Checked after the key: a replay must not turn into "starts in the past".
            check_request(
                settings, day=day, start_minute=start_minute, end_minute=end_minute, now=now
            )
            verdict = await check_policy(
                db,
                settings=settings,
                user_id=user_id,
                room_id=room_id,
                day=day,
                start_minute=start_minute,
                end_minute=end_minute,
                now=now,
                session=session,
            )
            if verdict.quota is not None:
                await _hold(session, db.dialect, settings, verdict.quota, params)
            row = await _insert_in(session, db.dialect, params, invited, pending=verdict.pending)
            if row is None:
                raise await why_not_inserted(db, params)
            view = to_view(
                row, settings.tz, viewer=rules.Actor(user_id, is_admin=False), locale=locale
            )
            body = ReservationRead.model_validate(view, from_attributes=True).model_dump_json()
            await session.execute(
                update(IdempotencyKey)
                .where(
                    IdempotencyKey.user_id == key_owner,
                    IdempotencyKey.idem_key == idempotency_key,
                )
                .values(reservation_id=view.reservation_id, response_status=201, response_body=body)
            )
    except DBAPIError as exc:
        if not inserted_or_why_not(exc):
            raise
        raise await why_not_inserted(db, params) from exc
    events.emit(ReservationEvent.CREATED)
    return Answer(reservation_id=view.reservation_id, view=view, body=body)


async def prune_idempotency_keys(db: Database, *, settings: Settings, now: datetime) -> int:
    """Forget keys older than their lifetime; how many were removed."""
    cutoff = now - timedelta(hours=settings.idempotency_key_hours)
    async with db.transaction() as session:
        result = await session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.created_at <= cutoff)
        )
    return int(result.rowcount)  # type: ignore[attr-defined]
