"""Reservation use cases: reserve, cancel, list.

Double booking is prevented in one statement (`statements.insert_if_free`): the insert
happens only when the room is bookable that day (`mrs.rooms.availability`) and no active
reservation overlaps. Outcomes are announced as `events`, whichever door called. On PostgreSQL the exclusion constraint
is the real guarantee (two racing inserts both see "free"; the second then fails with
23P01, or 40P01 when they deadlock), and both become ReservationConflict. On SQLite,
write transactions are serialised (BEGIN IMMEDIATE), so the check cannot race.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from mrs.accounts.models import User, UserStatus
from mrs.db.engine import Database
from mrs.db.errors import DEADLOCK_DETECTED, EXCLUSION_VIOLATION, FOREIGN_KEY_VIOLATION, sqlstate
from mrs.db.types import UTCDateTime
from mrs.i18n import DEFAULT_LOCALE, display_name
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
    StaleVersion,
    UnknownAttendees,
)
from mrs.reservations.events import ReservationEvent
from mrs.reservations.models import (
    IdempotencyKey,
    Reservation,
    ReservationAttendee,
    ReservationStatus,
    Visibility,
)
from mrs.reservations.schemas import ReservationRead
from mrs.rooms import availability
from mrs.rooms.availability import Unbookable
from mrs.rooms.errors import OutsideBookableHours
from mrs.rooms.models import MeetingRoom
from mrs.settings import Settings
from mrs.wallclock import elapsed_minutes, format_minute, wall_instant

# What others see instead of a private meeting's title (translated for the reader).


@dataclass(frozen=True)
class AttendeeView:
    user_id: str
    display_name: str


@dataclass(frozen=True)
class ReservationView:
    """A reservation as one reader may see it (`_to_view`: visibility applied)."""

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
    # The title given; else the owner's name; "Reserved" when the reader may not see it.
    title: str = ""
    title_given: bool = False
    details_visible: bool = True
    description: str = ""
    visibility: str = Visibility.PUBLIC.value
    attendees: tuple[AttendeeView, ...] = ()
    # The owner's name in the reader's language.
    owner: str = ""
    version: int = 1
    updated_at: datetime | None = None
    # The reader's part in the meeting: "owner", "attendee" or none.
    role: Literal["owner", "attendee"] | None = None


def _attendee_rows(packed: Any) -> list[tuple[str, str, str]]:
    """The view row's attendees column: JSON [[user_id, first, last], ...] (already a
    list from psycopg, text from SQLite), or NULL when there are none."""
    if packed is None:
        return []
    items = json.loads(packed) if isinstance(packed, str) else packed
    return sorted((str(user_id), str(first), str(last)) for user_id, first, last in items)


def _to_view(
    row: Any, tz: ZoneInfo, *, viewer: rules.Actor | None = None, locale: str = DEFAULT_LOCALE
) -> ReservationView:
    """The reservation `row` as `viewer` may see it, in `locale`. Without a viewer, a
    private meeting's details are withheld (nobody in particular is asking)."""
    people = _attendee_rows(getattr(row, "attendees", None))
    attendee_ids = [user_id for user_id, _, _ in people]
    visible = rules.sees_details(
        viewer_id=viewer.user_id if viewer else "",
        viewer_is_admin=viewer.is_admin if viewer else False,
        owner_id=row.user_id,
        visibility=row.visibility,
        attendee_ids=attendee_ids,
    )
    owner = display_name(locale, row.first_name, row.last_name) or row.user_id
    role: Literal["owner", "attendee"] | None = None
    if viewer is not None and viewer.user_id == row.user_id:
        role = "owner"
    elif viewer is not None and viewer.user_id in attendee_ids:
        role = "attendee"
    title = rules.shown_title(locale, visible=visible, title=row.title, owner_name=owner)
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
        title=title,
        title_given=visible and row.title is not None,
        details_visible=visible,
        description=row.description if visible else "",
        visibility=row.visibility,
        attendees=tuple(
            AttendeeView(user_id, display_name(locale, first, last) or user_id)
            for user_id, first, last in people
        )
        if visible
        else (),
        owner=owner,
        version=row.version,
        updated_at=row.updated_at,
        role=role,
    )


async def _why_not_inserted(
    db: Database, attempt: dict[str, Any], overlap: Any = statements.FIRST_OVERLAP
) -> ReservationConflict | RoomNotReservable | RoomOutOfUse | OutsideBookableHours:
    """Why the reservation `attempt` (reserve's parameters, or a move's with its
    `reservation_id` and `overlap` excluding it) was not written."""
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


async def _check_attendees(session: AsyncSession, invited: Sequence[str]) -> None:
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


async def _set_attendees(
    session: AsyncSession, reservation_id: int, invited: Sequence[str], *, replace: bool
) -> None:
    if replace:
        await session.execute(
            delete(ReservationAttendee).where(ReservationAttendee.reservation_id == reservation_id)
        )
    if invited:
        await session.execute(
            insert(ReservationAttendee),
            [{"reservation_id": reservation_id, "user_id": user_id} for user_id in invited],
        )


async def _read_back(session: AsyncSession, dialect: str, reservation_id: int) -> Any:
    return (
        await session.execute(
            statements.reservation_by_id(dialect), {"reservation_id": reservation_id}
        )
    ).one()


async def _insert_in(
    session: AsyncSession, dialect: str, params: dict[str, Any], invited: Sequence[str] = ()
) -> Any | None:
    """Within `session`'s transaction: the new reservation's view row (with `invited` as
    its attendees), or None when the room is closed or the time taken."""
    await _check_attendees(session, invited)
    inserted = (await session.execute(statements.insert_if_free(dialect), params)).first()
    if inserted is None:
        return None
    if invited:
        await _set_attendees(session, inserted.reservation_id, invited, replace=False)
    elif dialect == "postgresql":
        return inserted  # PostgreSQL's statement reads the view back itself
    return await _read_back(session, dialect, inserted.reservation_id)


# A reservation's meeting fields when none are given (a seed-style booking).
_NO_MEETING: dict[str, Any] = {"title": None, "description": "", "visibility": "PUBLIC"}


async def _insert_if_free(
    db: Database, params: dict[str, Any], invited: Sequence[str] = ()
) -> Any | None:
    """The new reservation's view row, or None when the room is closed or the time taken.

    On PostgreSQL one statement in autocommit (the fast path), with or without attendees."""
    params = {**_NO_MEETING, **params}
    if db.dialect != "postgresql":
        async with db.transaction() as session:
            return await _insert_in(session, db.dialect, params, invited)
    if not invited:
        rows = await db.write(statements.insert_if_free(db.dialect), params)
        return rows[0] if rows else None
    invitation = {"attendees": list(invited), "attendee_count": len(invited)}
    rows = await db.write(statements.insert_meeting_if_free(), {**params, **invitation})
    if rows:
        return rows[0]
    # Refused: an attendee who is not an active user is the first thing to say.
    active = {row.user_id for row in await db.read(statements.active_users_among(), invitation)}
    unknown = [user_id for user_id in invited if user_id not in active]
    if unknown:
        raise _unknown_attendees(unknown)
    return None


def _check_request(
    settings: Settings, *, day: date, start_minute: int, end_minute: int, now: datetime
) -> None:
    rules.check_time_range(start_minute, end_minute, settings.slot_minutes)
    rules.check_times_exist(day, start_minute, end_minute, settings.tz)
    rules.check_not_in_past(day, start_minute, now, settings.tz)


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
) -> dict[str, Any]:
    """The parameters of the insert-if-free statement (and of asking why not)."""
    return {
        "room_id": room_id,
        "day": day,
        "start_minute": start,
        "end_minute": end,
        "user_id": user_id,
        "now": now,
        "title": title,
        "description": description,
        "visibility": str(visibility),
    }


def _inserted_or_why_not(error: DBAPIError) -> bool:
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
) -> ReservationView:
    """`reserve` without an Idempotency-Key: the new reservation as its owner sees it."""
    _check_request(settings, day=day, start_minute=start_minute, end_minute=end_minute, now=now)
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
    )
    try:
        row = await _insert_if_free(db, params, invited)
    except DBAPIError as exc:
        if not _inserted_or_why_not(exc):
            raise
        raise await _why_not_inserted(db, params) from exc
    if row is None:
        raise await _why_not_inserted(db, params)
    events.emit(ReservationEvent.CREATED)
    return _to_view(row, settings.tz, viewer=rules.Actor(user_id, is_admin=False), locale=locale)


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
) -> Answer:
    """Reserve a room for a time range on a day, as a meeting (title, description,
    visibility, attendees: active users of the site), or raise why not. The one entry
    point of every door (API, pages): with an `idempotency_key`, at most once per key."""
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
) -> Answer:
    """`reserve` at most once per `idempotency_key` of the user: within the key's
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
    )
    key = {
        "user_id": user_id,
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
            row = await _insert_in(session, db.dialect, params, invited)
            if row is None:
                raise await _why_not_inserted(db, params)
            view = _to_view(
                row, settings.tz, viewer=rules.Actor(user_id, is_admin=False), locale=locale
            )
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
    return Answer(reservation_id=view.reservation_id, view=view, body=body)


async def prune_idempotency_keys(db: Database, *, settings: Settings, now: datetime) -> int:
    """Forget keys older than their lifetime; how many were removed."""
    cutoff = now - timedelta(hours=settings.idempotency_key_hours)
    async with db.transaction() as session:
        result = await session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.created_at <= cutoff)
        )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def get_reservation(
    db: Database,
    *,
    reservation_id: int,
    viewer: rules.Actor | None = None,
    locale: str = DEFAULT_LOCALE,
) -> ReservationView:
    """One reservation as `viewer` may see it (any status)."""
    rows = await db.read(
        statements.reservation_by_id(db.dialect), {"reservation_id": reservation_id}
    )
    if not rows:
        raise ReservationNotFound(reservation_id=reservation_id)
    return _to_view(rows[0], db.settings.tz, viewer=viewer, locale=locale)


async def reservations_of_room_day(
    db: Database,
    *,
    room_id: int,
    day: date,
    viewer: rules.Actor | None = None,
    locale: str = DEFAULT_LOCALE,
) -> list[ReservationView]:
    """The active reservations of a room on a day, in time order, as `viewer` may see them."""
    rows = await db.read(statements.room_day(db.dialect), {"room_id": room_id, "day": day})
    return [_to_view(row, db.settings.tz, viewer=viewer, locale=locale) for row in rows]


async def reservations_of_room_range(
    db: Database,
    *,
    room_id: int,
    from_day: date,
    to_day: date,
    viewer: rules.Actor | None = None,
    locale: str = DEFAULT_LOCALE,
) -> list[ReservationView]:
    """The active reservations of a room from `from_day` to `to_day` (inclusive, at most
    `rules.MAX_RANGE_DAYS` days), by date and time, as `viewer` may see them."""
    rules.check_date_range(from_day, to_day)
    rows = await db.read(
        statements.room_range(db.dialect),
        {"room_id": room_id, "from_day": from_day, "to_day": to_day},
    )
    return [_to_view(row, db.settings.tz, viewer=viewer, locale=locale) for row in rows]


async def reservations_of_user(
    db: Database,
    *,
    user_id: str,
    now: datetime,
    settings: Settings,
    limit: int = 500,
    locale: str = DEFAULT_LOCALE,
) -> list[ReservationView]:
    """The reservations a user made or attends (`role` says which): upcoming ones first
    (soonest first), then past ones (latest first)."""
    rows = await db.read(statements.of_user(db.dialect), {"user_id": user_id, "limit": limit})
    viewer = rules.Actor(user_id, is_admin=False)
    views = [_to_view(row, settings.tz, viewer=viewer, locale=locale) for row in rows]
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
        User.email,
        User.first_name,
        User.last_name,
        User.locale,
    )
    .join(User, User.user_id == Reservation.user_id)
    .where(Reservation.reservation_id == bindparam("reservation_id"))
    .with_for_update(of=Reservation)
)


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
    are replaced in the same transaction. The owner is mailed when someone else changes it.
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
                actor,
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
            if moved:
                _check_request(
                    settings,
                    day=params["day"],
                    start_minute=params["start_minute"],
                    end_minute=params["end_minute"],
                    now=now,
                )
            invited = None
            if change.attendees is not None:
                invited = rules.attendee_ids(change.attendees, owner_id=current.user_id)
                await _check_attendees(session, invited)
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
                    raise await _why_not_inserted(db, params, statements.FIRST_OVERLAP_OF_MOVE)
                if invited is not None:
                    await _set_attendees(session, reservation_id, invited, replace=True)
            row = await _read_back(session, db.dialect, reservation_id)
            if actor.user_id != current.user_id and (
                moved or details_changed or invited is not None
            ):
                # Queued in this transaction: the mail goes only if the change commits.
                notice = notices.changed_by_admin(
                    current.locale,
                    first_name=current.first_name,
                    last_name=current.last_name,
                    room_name=row.room_name,
                    day=row.reserved_date,
                    start_minute=row.start_minute,
                    end_minute=row.end_minute,
                    reason=reason,
                )
                await enqueue_mail(
                    session, to=[current.email], subject=notice.subject, body=notice.body
                )
    except DBAPIError as exc:
        if not params or not _inserted_or_why_not(exc):
            raise
        raise await _why_not_inserted(db, params, statements.FIRST_OVERLAP_OF_MOVE) from exc
    return _to_view(row, settings.tz, viewer=actor, locale=locale)
