"""Self-registration and its approval: PENDING users, the admins' decisions, the mails."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from mrs.accounts import metrics, notices, rules, throttle
from mrs.accounts.errors import AlreadyDecided, EmailTaken, RegistrationClosed, UserIdTaken
from mrs.accounts.models import RegistrationOutcome, Role, User, UserStatus
from mrs.accounts.sessions import changing_sessions
from mrs.accounts.users import admin_addresses, insert_user, locked_user, new_user, taken_error
from mrs.audit import service as audit
from mrs.db.engine import Database
from mrs.errors import InvalidInput
from mrs.notifications.service import enqueue_mail
from mrs.settings import Settings

logger = logging.getLogger(__name__)


async def record_invalid_registration(
    db: Database, settings: Settings, *, client_address: str, email: object, now: datetime
) -> None:
    """Log a registration refused at the edge (the plan's success rate needs the failures);
    it counts towards the registration throttle like any other attempt."""
    await throttle.admit_registration(
        db,
        settings,
        client_address=client_address,
        email_domain=rules.email_domain(email) if isinstance(email, str) else None,
        now=now,
    )
    metrics.REGISTRATIONS.labels(outcome="invalid").inc()


async def _settle_registration(db: Database, attempt_id: int, outcome: RegistrationOutcome) -> None:
    async with db.transaction() as session:
        await throttle.settle_registration(session, attempt_id, outcome)


async def register_user(
    db: Database,
    settings: Settings,
    *,
    user_id: str,
    first_name: str,
    last_name: str,
    email: str,
    password: str,
    now: datetime,
    client_address: str = "unknown",
    locale: str | None = None,
) -> User:
    """Create a PENDING user and queue the mails (to the admins and to the user).

    The caller has checked the fields (RegistrationCreate); they are checked again here so
    every caller obeys the same rules. No session or token is ever made for this user.
    Every attempt is counted per client address and per email domain first (429 past the
    limit), so neither a flood nor probing which ids and emails are taken gets far.
    """
    if not settings.registration_enabled:
        raise RegistrationClosed()
    attempt_id = await throttle.admit_registration(
        db,
        settings,
        client_address=client_address,
        email_domain=rules.email_domain(email),
        now=now,
    )
    try:
        user = await new_user(
            user_id=user_id,
            password=password,
            email=email,
            first_name=first_name,
            last_name=last_name,
            role=Role.USER,
            status=UserStatus.PENDING,
            now=now,
            locale=locale,
            allowed_domains=rules.allowed_domains(settings.registration_allowed_domains),
        )
    except InvalidInput:
        metrics.REGISTRATIONS.labels(outcome="invalid").inc()
        raise
    try:
        async with db.transaction() as session:
            await insert_user(session, user)
            # The applicant is the actor: nobody is logged in while registering.
            await audit.record(
                session,
                action="user.register",
                subject_type="user",
                subject_id=user.user_id,
                after={
                    "first_name": user.first_name,
                    "last_name": user.last_name,
                    "email": user.email,
                    "status": str(user.status),
                },
                actor_id=user.user_id,
                at=now,
            )
            await throttle.settle_registration(
                session, attempt_id, RegistrationOutcome.SUBMITTED, user_id=user.user_id
            )
            to_admins = notices.registration_for_admins(
                user_id=user.user_id,
                first_name=user.first_name,
                last_name=user.last_name,
                email=user.email,
            )
            admins = await admin_addresses(session, settings)
            if admins:
                await enqueue_mail(
                    session,
                    to=admins,
                    subject=to_admins.subject,
                    body=to_admins.body,
                    settings=settings,
                )
            else:
                logger.warning(
                    "registration of %s: no administrator address to notify", user.user_id
                )
            receipt = notices.registration_received(
                locale, user_id=user.user_id, first_name=user.first_name
            )
            await enqueue_mail(
                session,
                to=[user.email],
                subject=receipt.subject,
                body=receipt.body,
                settings=settings,
            )
    except (UserIdTaken, EmailTaken):
        await _settle_registration(db, attempt_id, RegistrationOutcome.DUPLICATE)
        raise
    except IntegrityError as exc:
        await _settle_registration(db, attempt_id, RegistrationOutcome.DUPLICATE)
        raise taken_error(exc, user) from exc
    metrics.REGISTRATIONS.labels(outcome="submitted").inc()
    logger.info("registration received: %s", user.user_id)
    return user


async def list_pending_users(db: Database) -> list[User]:
    """Registrations waiting for a decision, oldest first."""
    async with db.snapshot() as session:
        rows = await session.scalars(
            select(User)
            .where(User.status == UserStatus.PENDING.value)
            .order_by(User.created_at, User.user_id)
        )
        return list(rows.all())


async def _decide(
    db: Database,
    *,
    user_id: str,
    admin_id: str,
    now: datetime,
    approve: bool,
    reason: str | None,
) -> User:
    async with changing_sessions(db, user_id=user_id) as session:
        user = await locked_user(session, user_id)
        if user.status != UserStatus.PENDING:
            raise AlreadyDecided(user_id=user.user_id, status=user.status)
        user.status = (UserStatus.ACTIVE if approve else UserStatus.REJECTED).value
        user.decided_at = now
        user.decided_by = admin_id
        user.decision_reason = reason
        await audit.record(
            session,
            action="user.approve" if approve else "user.reject",
            subject_type="user",
            subject_id=user.user_id,
            before={"status": UserStatus.PENDING.value},
            after={"status": user.status, **({"reason": reason} if reason else {})},
            actor_id=admin_id,
            at=now,
        )
        if approve:
            notice = notices.registration_approved(
                user.locale, user_id=user.user_id, first_name=user.first_name
            )
        else:
            notice = notices.registration_rejected(
                user.locale, user_id=user.user_id, first_name=user.first_name, reason=reason
            )
        await enqueue_mail(session, to=[user.email], subject=notice.subject, body=notice.body)
    metrics.REGISTRATIONS.labels(outcome="approved" if approve else "rejected").inc()
    logger.info(
        "registration of %s %s by %s", user.user_id, "approved" if approve else "rejected", admin_id
    )
    return user


async def approve_user(db: Database, *, user_id: str, admin_id: str, now: datetime) -> User:
    """Approve a PENDING registration: the user may log in from now on."""
    return await _decide(db, user_id=user_id, admin_id=admin_id, now=now, approve=True, reason=None)


async def reject_user(
    db: Database, *, user_id: str, admin_id: str, now: datetime, reason: str | None = None
) -> User:
    """Reject a PENDING registration, optionally with a reason the user is told."""
    clean = " ".join(reason.split())[: rules.MAX_REASON_LENGTH] if reason else None
    return await _decide(
        db, user_id=user_id, admin_id=admin_id, now=now, approve=False, reason=clean or None
    )


async def recent_decisions(db: Database, *, limit: int = 50) -> list[User]:
    """The latest approvals and rejections, newest first (with who decided and why)."""
    async with db.snapshot() as session:
        statement = (
            select(User)
            .where(User.decided_at.is_not(None))
            .order_by(User.decided_at.desc())
            .limit(limit)
        )
        return list((await session.scalars(statement)).all())
