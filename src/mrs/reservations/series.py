"""Recurring series: create (or preview), read, change and cancel a series of reservations.

Occurrences are ordinary `reservation` rows (series_id, occurrence_date), so every rule and
guarantee of a single booking holds for each: the dates are checked with the booking's
rules (`rules`, `availability.bookable_slot`, `service.room_refusal`) and written in one
transaction, all or nothing. A race with another booking is decided as for a single one:
on PostgreSQL by the exclusion constraint (the violation becomes SeriesConflict naming
the dates), on SQLite by the single writer (BEGIN IMMEDIATE, this process's writers in
turn), so the check and the insert cannot be separated.

A series edit regenerates the occurrences still to come that are not exceptions (changed
or cancelled on their own): updated in place where their date stays in the rule, removed
where it no longer is, inserted where new. Exceptions and the past are never touched.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from mrs.accounts.models import User
from mrs.audit import service as audit
from mrs.db.engine import Database
from mrs.errors import InvalidInput
from mrs.i18n import DEFAULT_LOCALE, display_name
from mrs.policies import enforcement as policies
from mrs.policies.rules import Quota, Slot
from mrs.reservations import (
    changes,
    delegation,
    editing,
    events,
    quota_usage,
    recurrence,
    rules,
    service,
    statements,
)
from mrs.reservations.errors import (
    CancelNotAllowed,
    EditNotAllowed,
    FromDateRequired,
    NoOccurrences,
    ReservationConflict,
    SeriesCancelled,
    SeriesConflict,
    SeriesNotFound,
    SeriesStaleVersion,
)
from mrs.reservations.events import ReservationEvent
from mrs.reservations.models import (
    SLOT_HOLDING,
    ChangeKind,
    Reservation,
    ReservationAttendee,
    ReservationSeries,
    ReservationStatus,
    SeriesAttendee,
    SeriesStatus,
    Visibility,
)
from mrs.reservations.reads import AttendeeView, ReservationView, to_view
from mrs.rooms.errors import RoomNotFound
from mrs.rooms.models import MeetingRoom
from mrs.settings import Settings
from mrs.wallclock import wall_instant

OnConflict = Literal["fail", "skip"]


@dataclass(frozen=True)
class SeriesFields:
    """What a series is: where, at what time of day, how it repeats, and the meeting."""

    room_id: int
    start_date: date
    start_minute: int
    end_minute: int
    rule: str
    title: str | None = None
    description: str = ""
    visibility: Visibility = Visibility.PUBLIC
    attendees: Collection[str] = ()


class DateState(enum.StrEnum):
    FREE = "free"
    CONFLICT = "conflict"
    UNBOOKABLE = "unbookable"


@dataclass(frozen=True)
class PlannedDate:
    """One date of a rule and whether it can be booked: `reason` is the error code a
    single booking would get that day, `reservation_id` the reservation in the way."""

    date: date
    state: DateState
    reason: str | None = None
    reservation_id: int | None = None


@dataclass(frozen=True)
class Booked:
    """A series written: its occurrences as its owner sees them, and the dates skipped."""

    series_id: int
    rule: str
    occurrences: list[ReservationView]
    skipped: list[PlannedDate]


# --- which dates can be booked ---


async def plan_dates(
    session: AsyncSession,
    db: Database,
    *,
    settings: Settings,
    room_id: int,
    dates: Sequence[date],
    start_minute: int,
    end_minute: int,
    now: datetime,
    replacing: Collection[int] = (),
    locked: bool = False,
    exclusive: bool = False,
) -> list[PlannedDate]:
    """Each of `dates` (in order) judged as a single booking of that time would be:
    free, taken (by a reservation not in `replacing`) or unbookable (with the reason).
    `locked`: inside the writing transaction, the bookable dates are locked FOR SHARE;
    `exclusive`: FOR UPDATE instead, so no single booking can take them meanwhile."""
    if not dates:
        return []
    span = {"room_id": room_id, "from_day": dates[0], "to_day": dates[-1]}
    times = {"start_minute": start_minute, "end_minute": end_minute}
    bookable = set(
        (
            await session.execute(statements.bookable_dates(locked, exclusive), {**span, **times})
        ).scalars()
    )
    taken: dict[date, int] = {}
    for row in await session.execute(statements.taken_between(), {**span, **times}):
        if row.reservation_id not in replacing:
            taken.setdefault(row.reserved_date, row.reservation_id)
    planned: list[PlannedDate] = []
    for day in dates:
        try:
            rules.check_times_exist(day, start_minute, end_minute, settings.tz)
            rules.check_not_in_past(day, start_minute, now, settings.tz)
        except InvalidInput as refused:
            planned.append(PlannedDate(day, DateState.UNBOOKABLE, reason=refused.code))
            continue
        if day not in bookable:
            refusal = await service.room_refusal(
                db, room_id=room_id, day=day, start_minute=start_minute, end_minute=end_minute
            )
            # Bookable after all (opened meanwhile): say "not reservable" rather than guess.
            code = refusal.code if refusal is not None else "room_not_reservable"
            planned.append(PlannedDate(day, DateState.UNBOOKABLE, reason=code))
        elif day in taken:
            planned.append(
                PlannedDate(
                    day,
                    DateState.CONFLICT,
                    reason=ReservationConflict.code,
                    reservation_id=taken[day],
                )
            )
        else:
            planned.append(PlannedDate(day, DateState.FREE))
    return planned


def series_conflict(refused: Sequence[PlannedDate]) -> SeriesConflict:
    """The 409 naming every date that cannot be booked, with its reason."""
    return SeriesConflict(
        count=len(refused),
        dates=", ".join(each.date.isoformat() for each in refused),
        details={
            "dates": [
                {
                    "date": each.date.isoformat(),
                    "reason": each.reason,
                    **(
                        {"reservation_id": each.reservation_id}
                        if each.reservation_id is not None
                        else {}
                    ),
                }
                for each in refused
            ]
        },
    )


def rule_dates(settings: Settings, rule: recurrence.RecurrenceRule, first_date: date) -> list[date]:
    """The rule's dates from `first_date`, within the site's caps (422 beyond them)."""
    return recurrence.occurrence_dates(
        rule,
        first_date,
        horizon_days=settings.series_horizon_days,
        max_occurrences=settings.series_max_occurrences,
    )


async def preview(
    db: Database, *, settings: Settings, user_id: str, fields: SeriesFields, now: datetime
) -> list[PlannedDate]:
    """Every date the rule gives, free, taken or unbookable (nothing written): what the
    booking form shows before the series is saved."""
    rule = recurrence.parse_rule(fields.rule)
    rules.check_time_range(fields.start_minute, fields.end_minute, settings.slot_minutes)
    dates = rule_dates(settings, rule, fields.start_date)
    async with db.snapshot() as session:
        return await plan_dates(
            session,
            db,
            settings=settings,
            room_id=fields.room_id,
            dates=dates,
            start_minute=fields.start_minute,
            end_minute=fields.end_minute,
            now=now,
        )


async def _check_policy(
    session: AsyncSession,
    db: Database,
    *,
    settings: Settings,
    user_id: str,
    room_id: int,
    dates: Sequence[date],
    start_minute: int,
    end_minute: int,
    now: datetime,
) -> policies.Verdict:
    """Every date of the series passes the room's policy (else the first refusal); under
    a quota the owner's row is locked now, before the dates' rows, and the quota returned
    for `_write` to hold (with whether the occurrences wait for approval)."""
    verdict = await policies.judge_booking(
        db,
        settings=settings,
        user_id=user_id,
        room_id=room_id,
        slots=[Slot(day, start_minute, end_minute) for day in dates],
        now=now,
        session=session,
    )
    if verdict.quota is not None:
        await quota_usage.lock_user(session, dialect=db.dialect, user_id=user_id)
    return verdict


# --- writing occurrences ---


@dataclass(frozen=True)
class _Occurrences:
    """What the occurrences of one series are to be (the series' fields as stored)."""

    series_id: int
    user_id: str
    room_id: int
    start_minute: int
    end_minute: int
    title: str | None
    description: str
    visibility: str
    invited: Sequence[str]
    # Who booked them for the owner (a delegate or administrator); None: the owner.
    booked_by: str | None = None
    # The new occurrences wait for a room manager's approval (PENDING).
    pending: bool = False

    @property
    def status(self) -> str:
        """The new occurrences' status."""
        return (ReservationStatus.PENDING if self.pending else ReservationStatus.ACTIVE).value


async def _insert_occurrences(
    session: AsyncSession,
    dialect: str,
    target: _Occurrences,
    dates: Sequence[date],
    now: datetime,
) -> list[int]:
    """Insert one occurrence per date (one statement, however many) with its attendees."""
    if not dates:
        return []
    if dialect == "postgresql":
        params = {
            "room_id": target.room_id,
            "days": list(dates),
            "start_minute": target.start_minute,
            "end_minute": target.end_minute,
            "user_id": target.user_id,
            "booked_by": target.booked_by,
            "status": target.status,
            "now": now,
            "title": target.title,
            "description": target.description,
            "visibility": target.visibility,
            "series_id": target.series_id,
            "attendees": list(target.invited),
        }
        made = await session.execute(statements.insert_occurrences(), params)
        return [int(row.reservation_id) for row in made]
    rows = [
        {
            "room_id": target.room_id,
            "reserved_date": day,
            "start_minute": target.start_minute,
            "end_minute": target.end_minute,
            "user_id": target.user_id,
            "booked_by": target.booked_by,
            "status": target.status,
            "created_at": now,
            "title": target.title,
            "description": target.description,
            "visibility": target.visibility,
            "series_id": target.series_id,
            "occurrence_date": day,
            "is_exception": False,
        }
        for day in dates
    ]
    result = await session.execute(
        insert(statements.reservation).returning(statements.reservation.c.reservation_id), rows
    )
    ids = [int(row.reservation_id) for row in result]
    await service.set_attendees(session, ids, target.invited, replace=False)
    return ids


async def _write(
    session: AsyncSession,
    db: Database,
    *,
    settings: Settings,
    target: _Occurrences,
    dates: Sequence[date],
    on_conflict: OnConflict,
    now: datetime,
    existing: dict[date, int] | None = None,
    exclusive: bool = False,
    quota: Quota | None = None,
) -> tuple[list[int], list[PlannedDate]]:
    """Make the series' occurrences to come be `dates`: `existing` (rule date → id, the
    occurrences being regenerated) are updated in place where their date stays, removed
    where it does not; the other dates are inserted. Dates that cannot be booked refuse
    the whole change (`fail`) or are left out (`skip`, listed). Under a `quota` (the
    owner's row already locked) the dates to book must keep within it. The new ids, the
    skipped."""
    existing = existing or {}
    planned = await plan_dates(
        session,
        db,
        settings=settings,
        room_id=target.room_id,
        dates=dates,
        start_minute=target.start_minute,
        end_minute=target.end_minute,
        now=now,
        replacing=set(existing.values()),
        locked=True,
        exclusive=exclusive,
    )
    refused = [each for each in planned if each.state is not DateState.FREE]
    # Skipping every date would leave a series of nothing: refused like `fail`.
    if refused and (on_conflict == "fail" or len(refused) == len(planned)):
        events.emit(ReservationEvent.CONFLICT)
        raise series_conflict(refused)
    free = [each.date for each in planned if each.state is DateState.FREE]
    if quota is not None:
        await quota_usage.check_quota(
            session,
            settings=settings,
            user_id=target.user_id,
            quota=quota,
            slots=[Slot(day, target.start_minute, target.end_minute) for day in free],
            now=now,
            excluding=set(existing.values()),
        )
    kept = [existing[day] for day in free if day in existing]
    removed = [each for day, each in existing.items() if day not in set(free)]
    if removed:
        await session.execute(
            delete(ReservationAttendee).where(ReservationAttendee.reservation_id.in_(removed))
        )
        await session.execute(delete(Reservation).where(Reservation.reservation_id.in_(removed)))
    if kept:
        await session.execute(
            update(Reservation)
            .where(Reservation.reservation_id.in_(kept))
            .values(
                room_id=target.room_id,
                start_minute=target.start_minute,
                end_minute=target.end_minute,
                title=target.title,
                description=target.description,
                visibility=target.visibility,
                version=Reservation.version + 1,
                updated_at=now,
            )
        )
        await service.set_attendees(session, kept, target.invited, replace=True)
    inserted = await _insert_occurrences(
        session, db.dialect, target, [day for day in free if day not in existing], now
    )
    return inserted, refused


# A write the exclusion constraint refused (a booking took a date after the plan was
# made) is planned again this many times in all when the caller asked to skip taken dates.
RACE_ATTEMPTS = 3


def _last_skip(attempt: int, on_conflict: OnConflict) -> bool:
    """Whether this is the last attempt at a `skip` write: its dates are then locked
    FOR UPDATE while it plans and writes, so bookings arriving meanwhile wait for it (and
    then meet the exclusion constraint) instead of making it lose the race once more."""
    return on_conflict == "skip" and attempt == RACE_ATTEMPTS - 1


def _plan_again(exc: DBAPIError, *, attempt: int, on_conflict: OnConflict) -> bool:
    """Whether to plan and write again after `exc`: only for an occurrence refused by the
    exclusion constraint (anything else is raised as it is), only with `skip` (the date
    taken meanwhile is then skipped), and only while attempts remain; otherwise the caller
    answers 409 with the dates taken now."""
    if not service.inserted_or_why_not(exc):
        raise exc
    return on_conflict == "skip" and attempt + 1 < RACE_ATTEMPTS


async def _refused_after_race(
    db: Database, *, settings: Settings, target: _Occurrences, dates: Sequence[date], now: datetime
) -> SeriesConflict:
    """The 409 for a write that lost a race (PostgreSQL's exclusion constraint refused an
    occurrence): the dates taken or closed now, read afresh."""
    async with db.snapshot() as session:
        planned = await plan_dates(
            session,
            db,
            settings=settings,
            room_id=target.room_id,
            dates=dates,
            start_minute=target.start_minute,
            end_minute=target.end_minute,
            now=now,
        )
    events.emit(ReservationEvent.CONFLICT)
    return series_conflict([each for each in planned if each.state is not DateState.FREE])


async def create(
    db: Database,
    *,
    settings: Settings,
    user_id: str,
    fields: SeriesFields,
    on_conflict: OnConflict,
    now: datetime,
    locale: str = DEFAULT_LOCALE,
    booked_by: str | None = None,
) -> Booked:
    """Book a recurring series, all or nothing in one transaction: with `fail` any date
    that is taken or cannot be booked refuses it all (SeriesConflict naming every such
    date); with `skip` those dates are left out and listed. `booked_by`: who books it
    for `user_id` (allowed by `delegation.booking_owner`; the owner's policies apply)."""
    rule = recurrence.parse_rule(fields.rule)
    rules.check_time_range(fields.start_minute, fields.end_minute, settings.slot_minutes)
    dates = rule_dates(settings, rule, fields.start_date)
    invited = rules.attendee_ids(fields.attendees, owner_id=user_id)
    target = _Occurrences(
        series_id=0,
        user_id=user_id,
        room_id=fields.room_id,
        start_minute=fields.start_minute,
        end_minute=fields.end_minute,
        title=fields.title,
        description=fields.description,
        visibility=str(fields.visibility),
        invited=invited,
        booked_by=booked_by,
    )
    for attempt in range(RACE_ATTEMPTS):
        try:
            async with db.transaction() as session:
                await service.check_attendees(session, invited)
                verdict = await _check_policy(
                    session,
                    db,
                    settings=settings,
                    user_id=user_id,
                    room_id=fields.room_id,
                    dates=dates,
                    start_minute=fields.start_minute,
                    end_minute=fields.end_minute,
                    now=now,
                )
                quota = verdict.quota
                series_id = await _insert_series(session, target, fields.start_date, rule, now)
                target = replace(target, series_id=series_id, pending=verdict.pending)
                inserted, skipped = await _write(
                    session,
                    db,
                    settings=settings,
                    target=target,
                    dates=dates,
                    on_conflict=on_conflict,
                    now=now,
                    exclusive=_last_skip(attempt, on_conflict),
                    quota=quota,
                )
                await changes.record(
                    session,
                    ChangeKind.CREATED,
                    now=now,
                    actor_id=booked_by or user_id,
                    owner_id=user_id,
                    series_id=series_id,
                    after=_created(target, rule.text(), fields.start_date, skipped),
                )
            break
        except DBAPIError as exc:
            if _plan_again(exc, attempt=attempt, on_conflict=on_conflict):
                continue
            raise await _refused_after_race(
                db, settings=settings, target=target, dates=dates, now=now
            ) from exc
    for _ in inserted:
        events.emit(ReservationEvent.CREATED)
    views = await _occurrence_views(
        db, series_id, viewer=rules.Actor(user_id, False), locale=locale
    )
    return Booked(series_id=series_id, rule=rule.text(), occurrences=views, skipped=skipped)


def _audited_fields(
    target: _Occurrences, rule: str, attendees: Collection[str] | None
) -> dict[str, Any]:
    """A series as its audit rows show it (attendees only when part of the change)."""
    return changes.meeting_fields(
        room_id=target.room_id,
        day=None,
        rule=rule,
        start_minute=target.start_minute,
        end_minute=target.end_minute,
        title=target.title,
        description=target.description,
        visibility=target.visibility,
        attendees=attendees,
    )


def _created(
    target: _Occurrences, rule: str, start_date: date, skipped: Sequence[PlannedDate]
) -> dict[str, Any]:
    """A new series' audit `after`: what it is, from when, and the dates left out."""
    after = _audited_fields(target, rule, target.invited) | {"start_date": start_date.isoformat()}
    if skipped:
        after["skipped"] = [each.date.isoformat() for each in skipped]
    return after


async def _insert_series(
    session: AsyncSession,
    target: _Occurrences,
    start_date: date,
    rule: recurrence.RecurrenceRule,
    now: datetime,
) -> int:
    series_id = (
        await session.execute(
            insert(ReservationSeries)
            .values(
                room_id=target.room_id,
                user_id=target.user_id,
                title=target.title,
                description=target.description,
                visibility=target.visibility,
                start_date=start_date,
                start_minute=target.start_minute,
                end_minute=target.end_minute,
                rule=rule.text(),
                status=SeriesStatus.ACTIVE.value,
                created_at=now,
            )
            .returning(ReservationSeries.series_id)
        )
    ).scalar_one()
    if target.invited:
        await session.execute(
            insert(SeriesAttendee),
            [{"series_id": series_id, "user_id": user_id} for user_id in target.invited],
        )
    return int(series_id)


async def _occurrence_views(
    db: Database, series_id: int, *, viewer: rules.Actor | None, locale: str
) -> list[ReservationView]:
    rows = await db.read(statements.series_occurrences(db.dialect), {"series_id": series_id})
    return [to_view(row, db.settings.tz, viewer=viewer, locale=locale) for row in rows]


# --- reading a series ---


@dataclass(frozen=True)
class OccurrenceView:
    """One occurrence of a series: `state` is "active", "cancelled" or "moved" (an
    exception now on another date, time or room than the series')."""

    reservation_id: int
    occurrence_date: date
    date: date
    start_time: int
    end_time: int
    room_id: int
    status: str
    is_exception: bool
    state: Literal["active", "cancelled", "moved"]


@dataclass(frozen=True)
class SeriesView:
    """A series as one reader may see it (a private series' details as for a meeting)."""

    series_id: int
    room_id: int
    room_name: str
    user_id: str
    owner: str
    title: str
    title_given: bool
    details_visible: bool
    description: str
    visibility: str
    attendees: tuple[AttendeeView, ...]
    start_date: date
    start_time: int
    end_time: int
    rule: str
    rule_description: str
    status: str
    version: int
    created_at: datetime
    updated_at: datetime | None
    occurrences: tuple[OccurrenceView, ...]

    @property
    def exceptions(self) -> tuple[OccurrenceView, ...]:
        return tuple(each for each in self.occurrences if each.is_exception)


_SERIES = (
    select(
        ReservationSeries,
        MeetingRoom.room_name,
        User.first_name,
        User.last_name,
        User.email,
        User.locale,
    )
    .join(MeetingRoom, MeetingRoom.room_id == ReservationSeries.room_id)
    .join(User, User.user_id == ReservationSeries.user_id)
)


async def _attendees_of(session: AsyncSession, series_id: int) -> list[tuple[str, str, str]]:
    rows = await session.execute(
        select(SeriesAttendee.user_id, User.first_name, User.last_name)
        .join(User, User.user_id == SeriesAttendee.user_id)
        .where(SeriesAttendee.series_id == series_id)
        .order_by(SeriesAttendee.user_id)
    )
    return [(row.user_id, row.first_name, row.last_name) for row in rows]


def _state(series: ReservationSeries, row: Any) -> Literal["active", "cancelled", "moved"]:
    if row.status == ReservationStatus.CANCELLED:
        return "cancelled"
    where = (row.reserved_date, row.start_minute, row.end_minute, row.room_id)
    moved = where != (row.occurrence_date, series.start_minute, series.end_minute, series.room_id)
    return "moved" if moved and row.is_exception else "active"


async def get_series(
    db: Database,
    *,
    series_id: int,
    viewer: rules.Actor | None = None,
    locale: str = DEFAULT_LOCALE,
) -> SeriesView:
    """One series with its occurrences and exceptions, as `viewer` may see it."""
    async with db.snapshot() as session:
        found = (
            await session.execute(_SERIES.where(ReservationSeries.series_id == series_id))
        ).first()
        if found is None:
            raise SeriesNotFound(series_id=series_id)
        people = await _attendees_of(session, series_id)
        rows = (
            await session.execute(
                select(Reservation)
                .where(Reservation.series_id == series_id)
                .order_by(Reservation.occurrence_date)
            )
        ).scalars()
        occurrences = tuple(
            OccurrenceView(
                reservation_id=row.reservation_id,
                occurrence_date=row.occurrence_date or row.reserved_date,
                date=row.reserved_date,
                start_time=row.start_minute,
                end_time=row.end_minute,
                room_id=row.room_id,
                status=row.status,
                is_exception=row.is_exception,
                state=_state(found.ReservationSeries, row),
            )
            for row in rows
        )
    series: ReservationSeries = found.ReservationSeries
    visible = rules.sees_details(
        viewer_id=viewer.user_id if viewer else "",
        viewer_is_admin=viewer.is_admin if viewer else False,
        owner_id=series.user_id,
        visibility=series.visibility,
        attendee_ids=[user_id for user_id, _, _ in people],
    )
    owner = display_name(locale, found.first_name, found.last_name) or series.user_id
    rule = recurrence.parse_rule(series.rule)
    return SeriesView(
        series_id=series.series_id,
        room_id=series.room_id,
        room_name=found.room_name,
        user_id=series.user_id,
        owner=owner,
        title=rules.shown_title(locale, visible=visible, title=series.title, owner_name=owner),
        title_given=visible and series.title is not None,
        details_visible=visible,
        description=series.description if visible else "",
        visibility=series.visibility,
        attendees=tuple(
            AttendeeView(user_id, display_name(locale, first, last) or user_id)
            for user_id, first, last in people
        )
        if visible
        else (),
        start_date=series.start_date,
        start_time=series.start_minute,
        end_time=series.end_minute,
        rule=series.rule,
        rule_description=recurrence.describe(
            rule, series.start_date, series.start_minute, series.end_minute, locale
        ),
        status=series.status,
        version=series.version,
        created_at=series.created_at,
        updated_at=series.updated_at,
        occurrences=occurrences,
    )


# --- changing and cancelling a series ---


class Scope(enum.StrEnum):
    ALL = "all"
    FOLLOWING = "following"


@dataclass(frozen=True)
class SeriesChange:
    """What a series edit asks for; a field left at None (the title at KEEP) stays."""

    scope: Scope = Scope.ALL
    from_date: date | None = None
    title: str | editing.Keep | None = editing.KEEP
    description: str | None = None
    visibility: Visibility | None = None
    attendees: Collection[str] | None = None
    start_minute: int | None = None
    end_minute: int | None = None
    rule: str | None = None
    room_id: int | None = None
    on_conflict: OnConflict = "fail"


async def _locked_series(
    session: AsyncSession,
    *,
    series_id: int,
    actor: rules.Actor,
    expected_versions: Collection[int] | None,
    refused: type[EditNotAllowed] | type[CancelNotAllowed],
) -> Any:
    """The series row (with its owner's mail and names) locked for a change, after the
    permission (owner, a delegate of the owner, or administrator), version and status
    checks."""
    found = (
        await session.execute(
            _SERIES.where(ReservationSeries.series_id == series_id).with_for_update(
                of=ReservationSeries
            )
        )
    ).first()
    if found is None:
        raise SeriesNotFound(series_id=series_id)
    series: ReservationSeries = found.ReservationSeries
    if not rules.may_act_for(
        await delegation.acting_for(session, actor, series.user_id), owner_id=series.user_id
    ):
        raise refused()
    if expected_versions is not None and series.version not in expected_versions:
        raise SeriesStaleVersion(version=series.version)
    if series.status == SeriesStatus.CANCELLED:
        raise SeriesCancelled()
    return found


async def _occurrence_rows(session: AsyncSession, series_id: int) -> list[Any]:
    return list(
        await session.execute(
            select(
                Reservation.reservation_id,
                Reservation.occurrence_date,
                Reservation.reserved_date,
                Reservation.start_minute,
                Reservation.end_minute,
                Reservation.status,
                Reservation.is_exception,
            ).where(Reservation.series_id == series_id)
        )
    )


def _still_to_come(row: Any, *, from_date: date, now: datetime, settings: Settings) -> bool:
    """An occurrence a series edit or cancel acts on: on or after `from_date`, not started."""
    return bool(
        row.occurrence_date >= from_date
        and wall_instant(row.reserved_date, row.start_minute, settings.tz) > now
    )


async def change(
    db: Database,
    *,
    settings: Settings,
    actor: rules.Actor,
    series_id: int,
    change: SeriesChange,
    now: datetime,
    expected_versions: Collection[int] | None = None,
    locale: str = DEFAULT_LOCALE,
) -> tuple[SeriesView, list[PlannedDate]]:
    """Change a series from today ("all") or from `from_date` ("following": the series
    ends the day before and a new one, with the changes, continues it). Occurrences to
    come that are not exceptions are regenerated; exceptions and the past are kept. The
    series shown after (the new one for "following") and the dates skipped."""
    if change.scope is Scope.FOLLOWING and change.from_date is None:
        raise FromDateRequired()
    today = now.astimezone(settings.tz).date()
    for attempt in range(RACE_ATTEMPTS):
        target = dates = None
        try:
            async with db.transaction() as session:
                found = await _locked_series(
                    session,
                    series_id=series_id,
                    actor=actor,
                    expected_versions=expected_versions,
                    refused=EditNotAllowed,
                )
                series: ReservationSeries = found.ReservationSeries
                # As it was: the UPDATEs below refresh `series` itself.
                stored, stored_rule = _as_stored(series), series.rule
                old_rule = recurrence.parse_rule(series.rule)
                rule = recurrence.parse_rule(change.rule) if change.rule is not None else old_rule
                start = series.start_minute if change.start_minute is None else change.start_minute
                end = series.end_minute if change.end_minute is None else change.end_minute
                rules.check_time_range(start, end, settings.slot_minutes)
                invited_before = [
                    user_id for user_id, _, _ in await _attendees_of(session, series_id)
                ]
                if change.attendees is not None:
                    invited = rules.attendee_ids(change.attendees, owner_id=series.user_id)
                    await service.check_attendees(session, invited)
                else:
                    invited = invited_before
                from_date = max(change.from_date or today, today)
                occurrences = await _occurrence_rows(session, series_id)
                regenerated = {
                    row.occurrence_date: row.reservation_id
                    for row in occurrences
                    if not row.is_exception
                    and row.status in SLOT_HOLDING
                    and _still_to_come(row, from_date=from_date, now=now, settings=settings)
                }
                kept_dates = {row.occurrence_date for row in occurrences} - set(regenerated)
                first_date = series.start_date
                splitting = change.scope is Scope.FOLLOWING and from_date > series.start_date
                if splitting:
                    old_dates = rule_dates(settings, old_rule, series.start_date)
                    if change.rule is None:
                        # The same rule continues: from its next date, with the count left.
                        later = [day for day in old_dates if day >= from_date]
                        if not later:
                            raise NoOccurrences()
                        first_date = later[0]
                        if rule.count is not None:
                            rule = replace(rule, count=len(later))
                    else:
                        first_date = from_date
                dates = [
                    day
                    for day in rule_dates(settings, rule, first_date)
                    if day >= from_date
                    and day not in kept_dates
                    and wall_instant(day, start, settings.tz) > now
                ]
                if (
                    change.room_id is not None
                    and await session.get(MeetingRoom, change.room_id) is None
                ):
                    raise RoomNotFound(room_id=change.room_id)
                if splitting:
                    await session.execute(
                        update(ReservationSeries)
                        .where(ReservationSeries.series_id == series_id)
                        .values(
                            rule=old_rule.ended_before(from_date).text(),
                            version=ReservationSeries.version + 1,
                            updated_at=now,
                        )
                    )
                title = series.title if isinstance(change.title, editing.Keep) else change.title
                target = _Occurrences(
                    series_id=series_id,
                    user_id=series.user_id,
                    room_id=change.room_id or series.room_id,
                    start_minute=start,
                    end_minute=end,
                    title=title,
                    description=series.description
                    if change.description is None
                    else change.description,
                    visibility=str(change.visibility or series.visibility),
                    invited=invited,
                )
                if splitting:
                    target = replace(
                        target,
                        series_id=await _insert_series(session, target, first_date, rule, now),
                    )
                    # The occurrences regenerated move to the new series (same ids).
                    if regenerated:
                        await session.execute(
                            update(Reservation)
                            .where(Reservation.reservation_id.in_(list(regenerated.values())))
                            .values(series_id=target.series_id)
                        )
                else:
                    await session.execute(
                        update(ReservationSeries)
                        .where(ReservationSeries.series_id == series_id)
                        .values(
                            room_id=target.room_id,
                            title=target.title,
                            description=target.description,
                            visibility=target.visibility,
                            start_minute=start,
                            end_minute=end,
                            rule=rule.text(),
                            version=ReservationSeries.version + 1,
                            updated_at=now,
                        )
                    )
                    if change.attendees is not None:
                        await session.execute(
                            delete(SeriesAttendee).where(SeriesAttendee.series_id == series_id)
                        )
                        if invited:
                            await session.execute(
                                insert(SeriesAttendee),
                                [{"series_id": series_id, "user_id": each} for each in invited],
                            )
                quota = None
                if not actor.is_admin:  # administrators are not bound by policies
                    verdict = await _check_policy(
                        session,
                        db,
                        settings=settings,
                        user_id=series.user_id,
                        room_id=target.room_id,
                        dates=dates,
                        start_minute=start,
                        end_minute=end,
                        now=now,
                    )
                    quota = verdict.quota
                    target = replace(target, pending=verdict.pending)
                inserted, skipped = await _write(
                    session,
                    db,
                    settings=settings,
                    target=target,
                    dates=dates,
                    on_conflict=change.on_conflict,
                    now=now,
                    existing=regenerated,
                    exclusive=_last_skip(attempt, change.on_conflict),
                    quota=quota,
                )
                if splitting:
                    # The series ends before `from_date` and a new one (a new UID) goes on.
                    await changes.record(
                        session,
                        ChangeKind.CHANGED,
                        now=now,
                        actor_id=actor.user_id,
                        series_id=series_id,
                        owner_id=series.user_id,
                        before={"rule": stored_rule},
                        after={"rule": old_rule.ended_before(from_date).text()},
                    )
                    after = _created(target, rule.text(), first_date, skipped)
                    after["continues"] = series_id
                    before: dict[str, Any] = {}
                else:
                    changing_attendees = change.attendees is not None
                    before, after = audit.changed(
                        _audited_fields(
                            stored, stored_rule, invited_before if changing_attendees else None
                        ),
                        _audited_fields(
                            target, rule.text(), invited if changing_attendees else None
                        ),
                    )
                    if skipped:
                        after["skipped"] = [each.date.isoformat() for each in skipped]
                await changes.record(
                    session,
                    ChangeKind.CREATED if splitting else ChangeKind.CHANGED,
                    now=now,
                    actor_id=actor.user_id,
                    series_id=target.series_id,
                    owner_id=series.user_id,
                    removed_attendees=() if splitting else set(invited_before) - set(invited),
                    before=before or None,
                    after=after,
                )
            break
        except DBAPIError as exc:
            if target is None or dates is None:
                raise
            if _plan_again(exc, attempt=attempt, on_conflict=change.on_conflict):
                continue
            raise await _refused_after_race(
                db, settings=settings, target=target, dates=dates, now=now
            ) from exc
    assert target is not None  # set by the attempt that succeeded
    for _ in inserted:
        events.emit(ReservationEvent.CREATED)
    view = await get_series(db, series_id=target.series_id, viewer=actor, locale=locale)
    return view, skipped


async def cancel(
    db: Database,
    *,
    settings: Settings,
    actor: rules.Actor,
    series_id: int,
    now: datetime,
    from_date: date | None = None,
    expected_versions: Collection[int] | None = None,
    reason: str | None = None,
) -> int:
    """Cancel a series' occurrences still to come (from `from_date`, when given): kept
    with status CANCELLED like cancelled reservations. The series ends the day before
    `from_date`, and is CANCELLED once nothing of it remains active. The change is recorded
    for the invitation mail (an administrator's `reason` reaches the owner). How many
    occurrences were cancelled."""
    today = now.astimezone(settings.tz).date()
    start = max(from_date or today, today)
    async with db.transaction() as session:
        found = await _locked_series(
            session,
            series_id=series_id,
            actor=actor,
            expected_versions=expected_versions,
            refused=CancelNotAllowed,
        )
        series: ReservationSeries = found.ReservationSeries
        # As it was: the UPDATE below refreshes `series` itself.
        was = {"rule": series.rule, "status": str(series.status)}
        occurrences = await _occurrence_rows(session, series_id)
        cancelled = [
            row
            for row in occurrences
            if row.status in SLOT_HOLDING
            and _still_to_come(row, from_date=start, now=now, settings=settings)
        ]
        if cancelled:
            await session.execute(
                update(Reservation)
                .where(Reservation.reservation_id.in_([row.reservation_id for row in cancelled]))
                .values(
                    status=ReservationStatus.CANCELLED.value,
                    cancelled_at=now,
                    cancelled_by=actor.user_id,
                )
            )
        remaining = [
            row
            for row in occurrences
            if row.status in SLOT_HOLDING
            and _still_to_come(row, from_date=today, now=now, settings=settings)
            and row not in cancelled
        ]
        values: dict[str, Any] = {"version": ReservationSeries.version + 1, "updated_at": now}
        if from_date is not None and from_date > series.start_date:
            values["rule"] = recurrence.parse_rule(series.rule).ended_before(from_date).text()
        if not remaining:
            values["status"] = SeriesStatus.CANCELLED.value
        await session.execute(
            update(ReservationSeries)
            .where(ReservationSeries.series_id == series_id)
            .values(**values)
        )
        if cancelled or "rule" in values:
            by_admin = actor.user_id != series.user_id
            before, after = _cancelled(was, values, cancelled)
            if by_admin and reason:
                after["reason"] = reason
            await changes.record(
                session,
                ChangeKind.CANCELLED,
                now=now,
                actor_id=actor.user_id,
                series_id=series_id,
                owner_id=series.user_id,
                reason=reason if by_admin else None,
                occurrence_dates=[row.occurrence_date for row in cancelled],
                before=before,
                after=after,
            )
    for _ in cancelled:
        events.emit(ReservationEvent.CANCELLED)
    return len(cancelled)


def _as_stored(series: ReservationSeries) -> _Occurrences:
    """A stored series' fields, to compare with what an edit makes of them."""
    return _Occurrences(
        series_id=series.series_id,
        user_id=series.user_id,
        room_id=series.room_id,
        start_minute=series.start_minute,
        end_minute=series.end_minute,
        title=series.title,
        description=series.description,
        visibility=str(series.visibility),
        invited=(),
    )


def _cancelled(
    was: dict[str, str], values: dict[str, Any], cancelled: Sequence[Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A series cancel's audit before/after: the rule ended and the status (`was`: as
    they were), where they changed, and the dates of the occurrences cancelled."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {
        "cancelled_dates": sorted(row.occurrence_date.isoformat() for row in cancelled)
    }
    if "rule" in values:
        before["rule"], after["rule"] = was["rule"], values["rule"]
    if "status" in values:
        before["status"], after["status"] = was["status"], values["status"]
    return before, after
