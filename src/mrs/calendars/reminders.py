"""Reminders: mail to a meeting's owner and attendees N minutes before it starts.

A job looks, every `reminder_interval_seconds`, at the active meetings starting within the
next hour (the longest reminder) and not yet started. Each person there whose reminder
reaches the start gets one mail: a `reminder_sent` row (meeting, person, start instant) is
written in the same transaction as the queued mail, and its primary key refuses a second
one, so the reminder goes once however many processes run the job (a leader lock keeps it
to one normally). A moved meeting has a new start, hence a new reminder; a cancelled one
is no longer active; a job that was down catches up only for meetings not yet started.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, or_, select, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from mrs.accounts.models import User, UserStatus
from mrs.background import Job, JobContext
from mrs.calendars.models import REMINDER_CHOICES, MailPreference, ReminderSent
from mrs.calendars.reminder_texts import Meeting, reminder_mail
from mrs.db.engine import Database
from mrs.i18n import display_name, supported_locale
from mrs.notifications.service import enqueue_mail
from mrs.reservations.models import Reservation, ReservationAttendee, ReservationStatus
from mrs.rooms.models import MeetingRoom
from mrs.settings import Settings
from mrs.wallclock import MINUTES_PER_DAY, minutes_gone, wall_instant

logger = logging.getLogger(__name__)

JOB_NAME = "reminders"
# The furthest ahead any reminder looks.
LOOKAHEAD = timedelta(minutes=max(REMINDER_CHOICES))
# Rows of reminders sent are kept this long (a meeting is over well before), then pruned.
KEEP_SENT = timedelta(days=2)
# The page where people choose their reminder (linked from every reminder).
PREFERENCES_PATH = "/account/mail"


def reminder_due(starts_at: datetime, now: datetime, reminder_minutes: int) -> bool:
    """Whether a meeting starting at `starts_at` is reminded now: it has not started, and
    it starts within the person's reminder time (exactly N minutes before counts)."""
    return now < starts_at and starts_at - now <= timedelta(minutes=reminder_minutes)


def search_windows(now: datetime, tz: ZoneInfo) -> list[tuple[date, int, int]]:
    """The (day, first minute, last minute) ranges of wall time that may start within the
    look-ahead: today's rest of the hour, and tomorrow's first hour near midnight.

    A superset (whole minutes); `reminder_due` decides exactly.
    """
    end = now + LOOKAHEAD
    windows = []
    day = now.astimezone(tz).date()
    while day <= end.astimezone(tz).date():
        first = minutes_gone(day, now, tz)
        last = min(minutes_gone(day, end, tz), MINUTES_PER_DAY - 1)
        if first <= last:
            windows.append((day, first, last))
        day += timedelta(days=1)
    return windows


@dataclass(frozen=True)
class _Due:
    reservation_id: int
    user_id: str
    email: str
    locale: str | None
    reminder_minutes: int
    starts_at: datetime
    meeting: Meeting


async def _due(session: AsyncSession, settings: Settings, now: datetime) -> list[_Due]:
    """Who is to be reminded of which meeting now, in a stable order (meeting, person)."""
    tz = settings.tz
    windows = search_windows(now, tz)
    if not windows:
        return []
    owner = aliased(User)
    # Served by ix_reservation_active_day (the active meetings of a day, by start).
    meetings = (
        await session.execute(
            select(
                Reservation.reservation_id,
                Reservation.title,
                Reservation.reserved_date,
                Reservation.start_minute,
                Reservation.end_minute,
                MeetingRoom.room_name,
                MeetingRoom.location,
                owner.first_name,
                owner.last_name,
            )
            .join(MeetingRoom, MeetingRoom.room_id == Reservation.room_id)
            .join(owner, owner.user_id == Reservation.user_id)
            .where(
                Reservation.status == ReservationStatus.ACTIVE.value,
                or_(
                    *(
                        and_(
                            Reservation.reserved_date == day,
                            Reservation.start_minute.between(first, last),
                        )
                        for day, first, last in windows
                    )
                ),
            )
        )
    ).all()
    starts = {
        row.reservation_id: wall_instant(row.reserved_date, row.start_minute, tz)
        for row in meetings
    }
    upcoming = {row.reservation_id: row for row in meetings if now < starts[row.reservation_id]}
    if not upcoming:
        return []
    ids = sorted(upcoming)
    people = union_all(
        select(
            Reservation.reservation_id.label("reservation_id"),
            Reservation.user_id.label("user_id"),
        ).where(Reservation.reservation_id.in_(ids)),
        select(ReservationAttendee.reservation_id, ReservationAttendee.user_id).where(
            ReservationAttendee.reservation_id.in_(ids)
        ),
    ).subquery()
    rows = (
        await session.execute(
            select(
                people.c.reservation_id,
                User.user_id,
                User.email,
                User.locale,
                MailPreference.reminder_minutes,
            )
            .join(User, User.user_id == people.c.user_id)
            .join(MailPreference, MailPreference.user_id == User.user_id)
            .where(
                MailPreference.reminder_minutes.is_not(None),
                User.status == UserStatus.ACTIVE.value,
            )
            .distinct()
        )
    ).all()
    due = []
    for row in rows:
        meeting = upcoming[row.reservation_id]
        starts_at = starts[row.reservation_id]
        if row.reminder_minutes is None or not reminder_due(starts_at, now, row.reminder_minutes):
            continue
        title = meeting.title or display_name(
            supported_locale(row.locale), meeting.first_name, meeting.last_name
        )
        due.append(
            _Due(
                reservation_id=row.reservation_id,
                user_id=row.user_id,
                email=row.email,
                locale=row.locale,
                reminder_minutes=row.reminder_minutes,
                starts_at=starts_at,
                meeting=Meeting(
                    title=title,
                    room=meeting.room_name,
                    location=meeting.location,
                    day=meeting.reserved_date,
                    start_minute=meeting.start_minute,
                    end_minute=meeting.end_minute,
                    link=f"{settings.site_url}/reservations/{row.reservation_id}",
                ),
            )
        )
    # One order for every process: two transactions inserting the same keys never deadlock.
    due.sort(key=lambda item: (item.reservation_id, item.user_id))
    return due


# Rows per INSERT when claiming (4 parameters each: well within SQLite's limit).
_CLAIM_BATCH = 500

_Key = tuple[int, str, datetime]


def _key(item: _Due) -> _Key:
    return (item.reservation_id, item.user_id, item.starts_at)


async def _sent_before(session: AsyncSession, due: list[_Due]) -> set[_Key]:
    """The reminders among `due` already recorded: every round until the start finds the
    same meetings due, and must not try them again one by one."""
    ids = sorted({item.reservation_id for item in due})
    rows = await session.execute(
        select(ReminderSent.reservation_id, ReminderSent.user_id, ReminderSent.starts_at).where(
            ReminderSent.reservation_id.in_(ids)
        )
    )
    return {(row.reservation_id, row.user_id, row.starts_at) for row in rows}


async def _claim(session: AsyncSession, due: list[_Due], now: datetime) -> set[_Key]:
    """Record the reminders as sent; returns those this transaction recorded. One another
    process recorded first is refused by the primary key (on PostgreSQL the insert waits
    for that process's commit, then skips the row), so it is not ours to send."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    claimed: set[_Key] = set()
    for first in range(0, len(due), _CLAIM_BATCH):
        batch = due[first : first + _CLAIM_BATCH]
        # RETURNING, not rowcount: it names the rows inserted, and an ORM-enabled INSERT
        # does not report a reliable rowcount.
        rows = await session.execute(
            insert(ReminderSent)
            .values(
                [
                    {
                        "reservation_id": item.reservation_id,
                        "user_id": item.user_id,
                        "starts_at": item.starts_at,
                        "sent_at": now,
                    }
                    for item in batch
                ]
            )
            .on_conflict_do_nothing()
            .returning(ReminderSent.reservation_id, ReminderSent.user_id, ReminderSent.starts_at)
        )
        claimed.update((row.reservation_id, row.user_id, row.starts_at) for row in rows)
    return claimed


async def send_due_reminders(db: Database, settings: Settings, *, now: datetime) -> int:
    """Queue the reminders due at `now` (each once); returns how many were queued."""
    queued = 0
    async with db.transaction() as session:
        due = await _due(session, settings, now)
        if due:
            sent = await _sent_before(session, due)
            due = [item for item in due if _key(item) not in sent]
        claimed = await _claim(session, due, now) if due else set()
        for item in due:
            if _key(item) not in claimed:
                continue
            mail = reminder_mail(
                item.locale,
                item.meeting,
                minutes=item.reminder_minutes,
                settings_link=f"{settings.site_url}{PREFERENCES_PATH}",
            )
            await enqueue_mail(
                session,
                to=[item.email],
                subject=mail.subject,
                body=mail.body,
                html_body=mail.html_body,
                settings=settings,
                per_recipient_limit=settings.calendar_mail_max_per_recipient,
            )
            queued += 1
    if queued:
        logger.info("reminders: %s queued", queued)
    return queued


async def prune_sent(db: Database, *, now: datetime) -> int:
    """Forget reminders sent more than two days ago; returns how many rows went."""
    async with db.transaction() as session:
        result = await session.execute(
            delete(ReminderSent).where(ReminderSent.sent_at < now - KEEP_SENT)
        )
    return int(getattr(result, "rowcount", 0) or 0)


def jobs(context: JobContext) -> list[Job]:
    """The reminder job: queue due reminders and prune old records, once across processes."""
    db, settings, clock = context.db, context.settings, context.clock

    async def remind() -> None:
        # The domain clock: meeting times are judged by it (tests pin it).
        now = clock()
        await send_due_reminders(db, settings, now=now)
        await prune_sent(db, now=now)

    return [
        Job(
            JOB_NAME,
            remind,
            interval_seconds=settings.reminder_interval_seconds,
            leader_lock=JOB_NAME,
        )
    ]
