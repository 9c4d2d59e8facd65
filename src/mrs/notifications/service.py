"""The outbox: queue mail in the caller's transaction; deliver due mail with retries.

Queuing never touches the network, so a mail server outage can neither fail nor slow the
work that produced the message. A worker (see mrs.notifications.worker) claims due rows,
sends them and records the outcome. Claims are leases: a worker that dies mid-send leaves
its rows to be retried once the lease has run out, so a message may in rare cases arrive
twice but is never lost. Several processes share the outbox safely: on PostgreSQL rows are
claimed with FOR UPDATE SKIP LOCKED; SQLite serialises writers.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import Counter
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mrs.clock import system_clock
from mrs.db.engine import Database
from mrs.notifications.models import MailState, OutboxMail
from mrs.notifications.sender import (
    Mail,
    PermanentMailError,
    SmtpConnection,
    TemporaryMailError,
    UnclearMailError,
    smtp_configured,
)
from mrs.settings import Settings

SUPPRESSED = Counter(
    "mrs_mail_suppressed_total",
    "Mails not queued because their recipient had reached the per-recipient cap.",
)

logger = logging.getLogger(__name__)

# How long a worker may hold claimed rows before another worker may retry them.
_LEASE = timedelta(minutes=5)
_MAX_SUBJECT = 200
_MAX_ERROR = 500


def recipient_ref(address: str) -> str:
    """A short, stable stand-in for an email address in logs (addresses are personal data)."""
    digest = hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest()
    return f"rcpt-{digest[:12]}"


def _recipient_cap(settings: Settings | None) -> tuple[int, timedelta]:
    fields = Settings.model_fields
    limit = (
        settings.mail_max_per_recipient
        if settings is not None
        else int(fields["mail_max_per_recipient"].default)
    )
    minutes = (
        settings.mail_recipient_window_minutes
        if settings is not None
        else int(fields["mail_recipient_window_minutes"].default)
    )
    return limit, timedelta(minutes=minutes)


async def enqueue_mail(
    session: AsyncSession,
    *,
    to: Sequence[str],
    subject: str,
    body: str,
    settings: Settings | None = None,
    html_body: str | None = None,
    calendar: str | None = None,
    calendar_method: str | None = None,
    per_recipient_limit: int | None = None,
) -> None:
    """Queue one message per recipient in the caller's transaction (sent after commit).

    `body` is plain text; `html_body` an HTML alternative of it; `calendar` an iCalendar
    object sent as a text/calendar part with `calendar_method` (REQUEST, CANCEL).

    A recipient who already has `mail_max_per_recipient` messages queued within the window
    gets no more (a mail bomb through registrations ends there): the message is dropped,
    logged and counted, never an error for the caller. Without `settings` the defaults
    of those settings apply. `per_recipient_limit` replaces `mail_max_per_recipient` for
    a kind of mail with its own cap (calendar mail: `calendar_mail_max_per_recipient`).
    """
    now = system_clock()
    limit, window = _recipient_cap(settings)
    if per_recipient_limit is not None:
        limit = per_recipient_limit
    subject = " ".join(subject.split())[:_MAX_SUBJECT]  # no header injection, bounded
    for recipient in dict.fromkeys(address.strip() for address in to if address.strip()):
        recent = await session.scalar(
            select(func.count()).where(
                OutboxMail.recipient == recipient, OutboxMail.created_at > now - window
            )
        )
        if int(recent or 0) >= limit:
            SUPPRESSED.inc()
            logger.warning(
                "mail to %s not queued: %s mails within %s minutes already (%s)",
                recipient_ref(recipient),
                limit,
                int(window.total_seconds() // 60),
                subject,
            )
            continue
        session.add(
            OutboxMail(
                recipient=recipient,
                subject=subject,
                body=body,
                state=MailState.PENDING.value,
                attempts=0,
                unclear_attempts=0,
                created_at=now,
                next_attempt_at=now,
                html_body=html_body,
                calendar=calendar,
                calendar_method=calendar_method,
            )
        )
        logger.info("mail queued for %s: %s", recipient_ref(recipient), subject)


async def outbox_summary(db: Database) -> dict[str, int]:
    """Counts by state (lower-case keys) and the age of the oldest unsent message."""
    now = system_clock()
    async with db.snapshot() as session:
        rows = (
            await session.execute(
                select(OutboxMail.state, func.count(), func.min(OutboxMail.created_at)).group_by(
                    OutboxMail.state
                )
            )
        ).all()
    summary = {state.value.lower(): 0 for state in MailState}
    oldest: datetime | None = None
    for state, count, created_at in rows:
        summary[str(state).lower()] = int(count)
        if state in (MailState.PENDING, MailState.SENDING) and created_at is not None:
            created = _aware(created_at)
            oldest = created if oldest is None else min(oldest, created)
    # Retries are visible at a glance: messages tried more than once, and those whose
    # outcome was unclear (the recipient may have two copies with one Message-ID).
    async with db.snapshot() as session:
        retried, unclear = (
            await session.execute(
                select(
                    func.count().filter(OutboxMail.attempts > 1),
                    func.count().filter(OutboxMail.unclear_attempts > 0),
                )
            )
        ).one()
    summary["retried"] = int(retried or 0)
    summary["unclear"] = int(unclear or 0)
    summary["oldest_pending_seconds"] = max(0, int((now - oldest).total_seconds())) if oldest else 0
    return summary


def _aware(value: datetime) -> datetime:
    # Defensive: an aggregate may come back naive (UTC) from SQLite.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class OutboxEntry:
    mail_id: int
    recipient: str
    subject: str
    state: str
    attempts: int
    unclear_attempts: int
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None


async def list_outbox(
    db: Database, *, state: MailState | None = None, limit: int = 100, offset: int = 0
) -> list[OutboxEntry]:
    """The newest messages (without bodies), optionally of one state, for admins."""
    query = select(OutboxMail).order_by(OutboxMail.mail_id.desc()).limit(limit).offset(offset)
    if state is not None:
        query = query.where(OutboxMail.state == state.value)
    async with db.snapshot() as session:
        rows = (await session.scalars(query)).all()
    return [
        OutboxEntry(
            mail_id=row.mail_id,
            recipient=row.recipient,
            subject=row.subject,
            state=row.state,
            attempts=row.attempts,
            unclear_attempts=row.unclear_attempts,
            created_at=row.created_at,
            next_attempt_at=row.next_attempt_at,
            sent_at=row.sent_at,
            last_error=row.last_error,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class DeliveryStatus:
    """How delivery went lately: the last message sent, the last attempt that failed."""

    last_sent_at: datetime | None
    last_error: str | None
    # When the message with that error was queued (failed attempts keep no time of their own).
    last_error_queued_at: datetime | None


async def delivery_status(db: Database) -> DeliveryStatus:
    """The admin's view of whether mail is getting out."""
    async with db.snapshot() as session:
        last_sent = await session.scalar(select(func.max(OutboxMail.sent_at)))
        failed = (
            await session.execute(
                select(OutboxMail.last_error, OutboxMail.created_at)
                .where(OutboxMail.last_error.is_not(None))
                .order_by(OutboxMail.mail_id.desc())
                .limit(1)
            )
        ).first()
    return DeliveryStatus(
        last_sent_at=_aware(last_sent) if last_sent else None,
        last_error=failed[0] if failed else None,
        last_error_queued_at=_aware(failed[1]) if failed else None,
    )


def retry_delay(settings: Settings, attempts: int) -> timedelta:
    """Exponential backoff after the `attempts`-th failed attempt, capped."""
    seconds = settings.mail_retry_base_seconds * (2 ** max(0, attempts - 1))
    return timedelta(seconds=min(seconds, settings.mail_retry_max_seconds))


async def _claim(db: Database, settings: Settings, *, now: datetime, limit: int) -> list[Mail]:
    lease_over = and_(OutboxMail.state == MailState.SENDING.value, OutboxMail.lease_until < now)
    due = or_(
        and_(OutboxMail.state == MailState.PENDING.value, OutboxMail.next_attempt_at <= now),
        # A worker died holding these: its lease ran out, so they are tried again.
        and_(lease_over, OutboxMail.attempts < settings.mail_max_attempts),
    )
    async with db.transaction() as session:
        # Rows whose last allowed attempt died with its worker: give up, keep the record.
        await session.execute(
            update(OutboxMail)
            .where(lease_over, OutboxMail.attempts >= settings.mail_max_attempts)
            .values(
                state=MailState.FAILED.value,
                lease_until=None,
                last_error="the worker stopped during the last attempt",
            )
        )
        query: Any = (
            select(
                OutboxMail.mail_id,
                OutboxMail.recipient,
                OutboxMail.subject,
                OutboxMail.body,
                OutboxMail.html_body,
                OutboxMail.calendar,
                OutboxMail.calendar_method,
            )
            .where(due)
            .order_by(OutboxMail.next_attempt_at, OutboxMail.mail_id)
            .limit(limit)
        )
        if db.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = (await session.execute(query)).all()
        if not rows:
            return []
        await session.execute(
            update(OutboxMail)
            .where(OutboxMail.mail_id.in_([row.mail_id for row in rows]))
            .values(
                state=MailState.SENDING.value,
                lease_until=now + _LEASE,
                attempts=OutboxMail.attempts + 1,
            )
        )
    return [
        Mail(
            row.mail_id,
            row.recipient,
            row.subject,
            row.body,
            html_body=row.html_body,
            calendar=row.calendar,
            calendar_method=row.calendar_method,
        )
        for row in rows
    ]


async def _record_sent(db: Database, mail_id: int, *, now: datetime) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(OutboxMail)
            .where(OutboxMail.mail_id == mail_id)
            .values(state=MailState.SENT.value, sent_at=now, lease_until=None, last_error=None)
        )


async def _record_failure(
    db: Database,
    settings: Settings,
    mail: Mail,
    *,
    error: str,
    permanent: bool,
    now: datetime,
    unclear: bool = False,
) -> None:
    """Record a failed attempt: retry later with backoff, or give up.

    An unclear attempt (DATA sent, no final answer) has probably delivered the message:
    it is retried later like any temporary failure, with the same Message-ID so the
    recipient can tell the copies apart, but at most `mail_max_unclear_attempts` times.
    """
    mail_id = mail.mail_id or 0
    async with db.transaction() as session:
        row = (
            await session.execute(
                select(OutboxMail.attempts, OutboxMail.unclear_attempts).where(
                    OutboxMail.mail_id == mail_id
                )
            )
        ).first()
        attempts = int(row.attempts) if row else 0
        unclear_attempts = (int(row.unclear_attempts) if row else 0) + (1 if unclear else 0)
        unclear_limit = unclear and unclear_attempts >= settings.mail_max_unclear_attempts
        give_up = permanent or attempts >= settings.mail_max_attempts or unclear_limit
        if unclear_limit:
            error = (
                f"gave up after {unclear_attempts} attempts without a final answer to DATA "
                f"(the server has probably received the message): {error}"
            )
        values: dict[str, Any] = {
            "lease_until": None,
            "last_error": error[:_MAX_ERROR],
            "unclear_attempts": unclear_attempts,
            "state": MailState.FAILED.value if give_up else MailState.PENDING.value,
        }
        if not give_up:
            values["next_attempt_at"] = now + retry_delay(settings, attempts)
        await session.execute(
            update(OutboxMail).where(OutboxMail.mail_id == mail_id).values(**values)
        )
    # The error may quote the address (a refused recipient): logs get a stand-in.
    logged = error.replace(mail.recipient, recipient_ref(mail.recipient))
    if give_up:
        logger.error("mail %s failed for good after %s attempts: %s", mail_id, attempts, logged)
    else:
        logger.warning("mail %s not sent (attempt %s), will retry: %s", mail_id, attempts, logged)


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    claimed: int = 0


async def deliver_due(db: Database, settings: Settings, *, now: datetime) -> DeliveryReport:
    """Send every message that is due, in batches; returns what happened."""
    if not smtp_configured(settings):
        return DeliveryReport()
    sent = failed = claimed = 0
    # Bounded: at most ten batches per round, the rest waits for the next round.
    for _ in range(10):
        batch = await _claim(db, settings, now=now, limit=settings.mail_batch_size)
        if not batch:
            break
        claimed += len(batch)
        try:
            async with SmtpConnection(settings) as connection:
                for index, mail in enumerate(batch):
                    try:
                        await connection.send(mail, now=now)
                    except PermanentMailError as exc:
                        failed += 1
                        await _record_failure(
                            db, settings, mail, error=str(exc), permanent=True, now=now
                        )
                    except TemporaryMailError as exc:
                        # The connection is likely gone: this and the rest of the batch retry
                        # later (never at once: the server may already have this one).
                        for position, rest in enumerate(batch[index:]):
                            failed += 1
                            await _record_failure(
                                db,
                                settings,
                                rest,
                                error=str(exc),
                                permanent=False,
                                now=now,
                                unclear=position == 0 and isinstance(exc, UnclearMailError),
                            )
                        return DeliveryReport(sent=sent, failed=failed, claimed=claimed)
                    else:
                        sent += 1
                        await _record_sent(db, mail.mail_id or 0, now=now)
        except TemporaryMailError as exc:
            for mail in batch:
                failed += 1
                await _record_failure(db, settings, mail, error=str(exc), permanent=False, now=now)
            break
    return DeliveryReport(sent=sent, failed=failed, claimed=claimed)
