"""The invitation mail job: recorded reservation changes become mail with an iCalendar part.

Every use case that creates, changes or cancels a meeting or series records a
`reservation_change` row in its own transaction (`mrs.reservations.changes`), which costs
the request one INSERT. Each round of this job claims pending rows (FOR UPDATE SKIP LOCKED
on PostgreSQL, so several processes share the work; SQLite's writers take turns) and, in
the same transaction, renders the mail from the rows as they are now and queues it in the
outbox, then marks the changes notified: each change is mailed once, and a change that
rolled back is never mailed.

Who is told: the owner, who booked it for them (a delegate, `booked_by`), and every
attendee, each in their own language and each with the
calendar as they may see it (METHOD:REQUEST for created and changed, METHOD:CANCEL for
cancelled); people taken off the attendees get a CANCEL. Mail preferences are honoured:
`own_bookings` off spares the owner mail about their own changes (an administrator's
change always reaches them, with the reason), `invitations` off spares an attendee.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from prometheus_client import Counter
from sqlalchemy import exists, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from mrs.accounts.models import Role, User, UserStatus
from mrs.background import Job, JobContext
from mrs.calendars import ical, reading
from mrs.calendars.mail_texts import Happening, Meeting, Telling, compose
from mrs.calendars.preferences import MailPreferences, preferences_of
from mrs.calendars.reading import Recipient
from mrs.db.engine import Database
from mrs.i18n import supported_locale
from mrs.notifications.service import enqueue_mail
from mrs.reservations import recurrence
from mrs.reservations.changes import read_details
from mrs.reservations.models import (
    SLOT_HOLDING,
    ChangeKind,
    Reservation,
    ReservationChange,
    ReservationSeries,
    ReservationStatus,
    SeriesStatus,
)
from mrs.settings import Settings

logger = logging.getLogger(__name__)

JOB_NAME = "calendar-invitations"
# Changes per transaction, and transactions per round: a backlog drains in bounded steps.
BATCH_SIZE = 50
MAX_BATCHES_PER_ROUND = 20

SKIPPED = Counter(
    "mrs_invitation_changes_skipped_total",
    "Reservation changes that could not be turned into mail (logged) and were skipped.",
)


@dataclass(frozen=True)
class _Subject:
    """The meeting or series a change is about, as its rows are now."""

    reservation_ids: tuple[int, ...]
    series_ids: tuple[int, ...]
    cancelled: bool  # the meeting, or the whole series, is cancelled (or released) now
    # An occurrence of a series changed or cancelled on its own: its row.
    occurrence: Any | None = None
    # A series: its row (for its rule in words).
    series: Any | None = None
    # Released: nobody checked in by start + grace (`mrs.reservations.release`).
    released: bool = False
    # Waiting for a room manager's approval (the booking, or occurrences of the series).
    waiting: bool = False


async def send_pending(
    db: Database, settings: Settings, *, now: datetime, limit: int = BATCH_SIZE
) -> int:
    """Claim up to `limit` pending changes, queue their mail and mark them notified, all
    in one transaction (a failure leaves them pending). How many changes were claimed.

    A change that cannot be turned into mail (a bug, not the database) must not hold up
    every later one: the batch is then done again one change at a time, and the change
    that fails on its own is logged, counted and marked notified without mail.
    """
    try:
        return await _send_batch(db, settings, now=now, limit=limit)
    except (SQLAlchemyError, OSError, TimeoutError):
        raise  # the database is away or refused: everything stays pending
    except Exception:
        logger.exception("a batch of reservation changes failed; trying them one by one")
    claimed = 0
    for _ in range(limit):
        try:
            done = await _send_batch(db, settings, now=now, limit=1)
        except (SQLAlchemyError, OSError, TimeoutError):
            raise
        except Exception:
            await _skip_first_pending(db, now=now)
            done = 1
        if not done:
            break
        claimed += done
    return claimed


async def _send_batch(db: Database, settings: Settings, *, now: datetime, limit: int) -> int:
    async with db.transaction() as session:
        claimed = list(
            (
                await session.scalars(
                    select(ReservationChange)
                    .where(ReservationChange.notified_at.is_(None))
                    .order_by(ReservationChange.change_id)
                    .limit(limit)
                    # Another process's claimed rows are skipped, never waited for.
                    .with_for_update(skip_locked=True)
                )
            ).all()
        )
        superseded = _superseded(claimed)
        for change in claimed:
            if change.change_id not in superseded:
                await _mail_change(session, settings, change, now=now)
        if claimed:
            await session.execute(
                update(ReservationChange)
                .where(ReservationChange.change_id.in_([each.change_id for each in claimed]))
                .values(notified_at=now)
            )
    return len(claimed)


def _superseded(claimed: Sequence[ReservationChange]) -> set[int]:
    """The changes a later one in the same batch says all there is to say about: an edit
    of a meeting followed by another edit of it. Each mail shows the meeting as it is
    now, so the earlier one would only repeat the later. An edit that took attendees off
    or was an administrator's (whose reason the owner is told) is always mailed."""
    edited_later: set[tuple[int | None, int | None]] = set()
    superseded: set[int] = set()
    for change in sorted(claimed, key=lambda each: each.change_id, reverse=True):
        if change.kind != ChangeKind.CHANGED.value:
            continue
        subject = (change.reservation_id, change.series_id)
        if subject in edited_later and not read_details(change.details):
            superseded.add(change.change_id)
        edited_later.add(subject)
    return superseded


async def _skip_first_pending(db: Database, *, now: datetime) -> None:
    """Mark the first pending change notified without mail (it failed on its own)."""
    async with db.transaction() as session:
        change_id = await session.scalar(
            select(ReservationChange.change_id)
            .where(ReservationChange.notified_at.is_(None))
            .order_by(ReservationChange.change_id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if change_id is None:
            return
        await session.execute(
            update(ReservationChange)
            .where(ReservationChange.change_id == change_id)
            .values(notified_at=now)
        )
    SKIPPED.inc()
    logger.error("reservation change %s could not be turned into mail: skipped", change_id)


def jobs(context: JobContext) -> list[Job]:
    """The invitation job: turn recorded changes into mail, in every process."""
    db, settings = context.db, context.settings
    # Real time, like the outbox's queue times (and DTSTAMP is the time the mail is made).
    clock = context.auth_clock

    async def send() -> None:
        mailed = 0
        for _ in range(MAX_BATCHES_PER_ROUND):
            claimed = await send_pending(db, settings, now=clock())
            mailed += claimed
            if claimed < BATCH_SIZE:
                break
        if mailed:
            logger.info("invitations: %s reservation change(s) turned into mail", mailed)

    # No leader lock: row claims (SKIP LOCKED) keep processes from mailing a change twice.
    return [Job(JOB_NAME, send, interval_seconds=settings.calendar_mail_interval_seconds)]


# --- one change ---


async def _subject_of(session: AsyncSession, change: ReservationChange) -> _Subject | None:
    """What the change is about now (None: it no longer exists)."""
    if change.reservation_id is not None:
        row = (
            await session.execute(
                select(
                    Reservation.reservation_id,
                    Reservation.series_id,
                    Reservation.status,
                    Reservation.occurrence_date,
                    Reservation.reserved_date,
                    Reservation.start_minute,
                    Reservation.end_minute,
                    Reservation.version,
                ).where(Reservation.reservation_id == change.reservation_id)
            )
        ).first()
        if row is None:
            return None
        released = row.status == ReservationStatus.RELEASED
        cancelled = row.status not in SLOT_HOLDING  # cancelled, rejected or released
        waiting = row.status == ReservationStatus.PENDING
        if row.series_id is None:
            return _Subject(
                (row.reservation_id,), (), cancelled=cancelled, released=released, waiting=waiting
            )
        series = await _series_row(session, row.series_id)
        return _Subject(
            (row.reservation_id,),
            (),
            cancelled=cancelled,
            occurrence=row,
            series=series,
            released=released,
            waiting=waiting,
        )
    assert change.series_id is not None  # a change names a reservation or a series
    series = await _series_row(session, change.series_id)
    if series is None:
        return None
    waiting = await session.scalar(
        select(
            exists().where(
                Reservation.series_id == series.series_id,
                Reservation.status == ReservationStatus.PENDING.value,
            )
        )
    )
    return _Subject(
        (),
        (series.series_id,),
        cancelled=series.status == SeriesStatus.CANCELLED,
        series=series,
        waiting=bool(waiting),
    )


async def _series_row(session: AsyncSession, series_id: int) -> Any:
    return (
        await session.execute(
            select(
                ReservationSeries.series_id,
                ReservationSeries.status,
                ReservationSeries.rule,
                ReservationSeries.start_date,
                ReservationSeries.start_minute,
                ReservationSeries.end_minute,
            ).where(ReservationSeries.series_id == series_id)
        )
    ).first()


async def _mail_change(
    session: AsyncSession, settings: Settings, change: ReservationChange, *, now: datetime
) -> None:
    """Queue the mail one change calls for (none when its subject is gone)."""
    subject = await _subject_of(session, change)
    if subject is None:
        return
    kind = ChangeKind(change.kind)
    if kind is not ChangeKind.CANCELLED and subject.cancelled:
        return  # cancelled since: the cancellation tells everyone, once
    details = read_details(change.details)
    by_admin = bool(details.get("by_admin"))
    recipients = await reading.recipients_of(
        session,
        reservation_id=change.reservation_id,
        series_id=None if change.reservation_id is not None else change.series_id,
    )
    still_invited = {each.user_id for each in recipients}
    removed = [
        each
        for each in await _people(session, details.get("removed_attendees") or (), active_only=True)
        if each.user_id not in still_invited
    ]
    owner = next((each for each in recipients if each.is_owner), None)
    booker = [
        each
        for each in await _people(session, await _booked_by(session, change), active_only=True)
        if each.user_id not in still_invited
    ]
    everyone = [*recipients, *removed, *booker]
    preferences = await preferences_of(session, [each.user_id for each in everyone])
    # Usually the owner, already read; a delegate, an administrator or the system otherwise.
    actor = [each for each in everyone if each.user_id == change.actor_id] or await _people(
        session, [change.actor_id] if change.actor_id else []
    )
    # Someone else acted for the owner: a delegate unless an administrator, a room
    # manager deciding on it, or the system (a release).
    by_delegate = (
        by_admin
        and change.actor_id is not None
        and details.get("decision") is None
        and not await _is_admin(session, change.actor_id)
    )
    by_admin = by_admin and not by_delegate
    happening = {
        ChangeKind.CREATED: Happening.CREATED,
        ChangeKind.CHANGED: Happening.CHANGED,
        ChangeKind.CANCELLED: Happening.CANCELLED,
    }[kind]
    if kind is ChangeKind.CANCELLED and subject.released:
        happening = Happening.RELEASED
    # A room manager's decision on a booking waiting for approval: an approval is sent as
    # a change (REQUEST, now CONFIRMED), a rejection as a cancellation (CANCEL).
    decision = details.get("decision")
    if decision == "approved":
        happening = Happening.APPROVED
    elif decision == "rejected":
        happening = Happening.REJECTED
    cancelled_dates = sorted(
        date.fromisoformat(day) for day in details.get("occurrence_dates") or ()
    )
    for person in everyone:
        if not _wants(person, preferences[person.user_id], by_admin=by_admin or by_delegate):
            continue
        locale = supported_locale(person.locale)
        events = await reading.events_of(
            session,
            reservation_ids=subject.reservation_ids,
            series_ids=subject.series_ids,
            tz=settings.tz,
            locale=locale,
            viewer_id=person.user_id,
        )
        if not events:
            continue
        if person in removed:
            method, told = ical.Method.CANCEL, Happening.REMOVED
            sent = [
                replace(each, attendees=(ical.Person(person.name(locale), person.email),))
                for each in _cancelled(events, subject)
            ]
        elif kind is ChangeKind.CANCELLED and (subject.cancelled or subject.occurrence is not None):
            method, sent, told = ical.Method.CANCEL, _cancelled(events, subject), happening
        else:
            # Created, changed, or a series cancelled from a date on (it goes on, shorter).
            method, sent, told = ical.Method.REQUEST, list(events), happening
        calendar = ical.invitation(
            sent,
            method=method,
            organizer=ical.Person("MRS", settings.smtp_from),
            tz=settings.tz,
            stamp=now,
        )
        as_booker = person in booker
        telling = Telling(
            locale=locale,
            reader_name=person.name(locale),
            as_owner=person.is_owner or as_booker,
            actor_name=actor[0].name(locale) if actor else None,
            by_admin=by_admin and person.is_owner,
            by_delegate=by_delegate and person.is_owner,
            booked_for=owner.name(locale) if as_booker and owner is not None else None,
            reason=change.reason if by_admin and person.is_owner else None,
            occurrence=subject.occurrence.occurrence_date if subject.occurrence else None,
            cancelled_count=len(cancelled_dates),
            cancelled_from=cancelled_dates[0] if cancelled_dates else None,
            waiting=subject.waiting and happening in (Happening.CREATED, Happening.CHANGED),
        )
        text = compose(told, _meeting(sent, subject, locale), telling)
        await enqueue_mail(
            session,
            to=[person.email],
            subject=text.subject,
            body=text.text,
            settings=settings,
            html_body=text.html,
            calendar=calendar,
            calendar_method=method.value,
            per_recipient_limit=settings.calendar_mail_max_per_recipient,
        )


async def _booked_by(session: AsyncSession, change: ReservationChange) -> list[str]:
    """Who booked the meeting for its owner (`booked_by`; for a series, its occurrences'),
    told of every change as the owner is (代理予約: mails go to both)."""
    if change.reservation_id is not None:
        where = Reservation.reservation_id == change.reservation_id
    else:
        where = Reservation.series_id == change.series_id
    booked_by = await session.scalar(
        select(Reservation.booked_by).where(where, Reservation.booked_by.is_not(None)).limit(1)
    )
    return [booked_by] if booked_by else []


async def _is_admin(session: AsyncSession, user_id: str | None) -> bool:
    if user_id is None:
        return False
    role = await session.scalar(select(User.role_name).where(User.user_id == user_id))
    return bool(role == Role.ADMIN.value)


def _cancelled(events: Sequence[ical.CalendarEvent], subject: _Subject) -> list[ical.CalendarEvent]:
    """The events of a CANCEL: one occurrence (its RECURRENCE-ID), or the whole meeting
    or series (its master alone: cancelling it cancels every occurrence)."""
    master = next((each for each in events if each.recurrence_id is None), events[0])
    occurrence = subject.occurrence
    if occurrence is not None:
        return [
            replace(
                master,
                # Above the occurrence's own override (series - 1 + occurrence - 1).
                sequence=master.sequence + occurrence.version,
                rrule=None,
                exdates=(),
                recurrence_id=occurrence.occurrence_date,
                series_start_minute=master.start_minute,
                day=occurrence.reserved_date,
                start_minute=occurrence.start_minute,
                end_minute=occurrence.end_minute,
                cancelled=True,
            )
        ]
    if master.rrule is None:
        # Cancelling a meeting keeps its version: the CANCEL must outrank the last REQUEST.
        return [replace(master, sequence=master.sequence + 1, cancelled=True)]
    return [replace(master, cancelled=True)]  # a series' cancel or change raised its version


def _wants(person: Recipient, preference: MailPreferences, *, by_admin: bool) -> bool:
    """Whether the person's preferences let this mail go: an owner may turn off mail
    about their own doings, never an administrator's."""
    if person.is_owner:
        return by_admin or preference.own_bookings
    return preference.invitations


def _meeting(sent: Sequence[ical.CalendarEvent], subject: _Subject, locale: str) -> Meeting:
    """The meeting as a mail describes it: one occurrence as it is now, a series by its
    rule in words, a single meeting by its date and time."""
    occurrence = subject.occurrence
    if occurrence is not None:
        shown = next((e for e in sent if e.recurrence_id == occurrence.occurrence_date), sent[0])
        return Meeting(
            title=shown.summary,
            place=shown.location,
            day=occurrence.reserved_date,
            start_minute=occurrence.start_minute,
            end_minute=occurrence.end_minute,
        )
    event = sent[0]
    repeats = None
    series = subject.series
    if series is not None and event.rrule is not None:
        repeats = recurrence.describe(
            recurrence.parse_rule(series.rule),
            series.start_date,
            series.start_minute,
            series.end_minute,
            locale,
        )
    return Meeting(
        title=event.summary,
        place=event.location,
        day=event.day,
        start_minute=event.start_minute,
        end_minute=event.end_minute,
        repeats=repeats,
    )


async def _people(
    session: AsyncSession, user_ids: Sequence[str], *, active_only: bool = False
) -> list[Recipient]:
    """Users by id (none of them owners here): attendees taken off (`active_only`: a
    disabled account gets no mail), or who acted."""
    if not user_ids:
        return []
    query = select(User.user_id, User.email, User.first_name, User.last_name, User.locale).where(
        User.user_id.in_(list(user_ids))
    )
    if active_only:
        query = query.where(User.status == UserStatus.ACTIVE.value)
    rows = await session.execute(query.order_by(User.user_id))
    return [
        Recipient(
            user_id=row.user_id,
            email=row.email,
            first_name=row.first_name,
            last_name=row.last_name,
            locale=supported_locale(row.locale),
            is_owner=False,
        )
        for row in rows
    ]
