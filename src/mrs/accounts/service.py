"""Account use cases: users, registration and approval, login, sessions, throttling.

Every function owns its transaction. Functions the web pages call as well as the JSON API:
register_user, list_pending_users, approve_user, reject_user, disable_user, enable_user,
end_sessions, change_password, list_sessions, end_session, login, logout.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from mrs.accounts import metrics, notices, passwords, rules, session_cache, throttle
from mrs.accounts.errors import (
    AccountDisabled,
    AccountPending,
    AccountRejected,
    AlreadyDecided,
    CannotChangeOwnAccount,
    EmailDomainNotAllowed,
    EmailTaken,
    InvalidCredentials,
    InvalidToken,
    InvalidUserState,
    PasswordCheckThrottled,
    RegistrationClosed,
    SessionNotFound,
    UserIdTaken,
    UserNotFound,
    WeakPassword,
    WrongCurrentPassword,
)
from mrs.accounts.models import (
    LoginAttempt,
    LoginOutcome,
    RegistrationAttempt,
    RegistrationOutcome,
    Role,
    ThrottleKey,
    User,
    UserSession,
    UserStatus,
)
from mrs.accounts.tokens import TokenClaims
from mrs.clock import system_clock
from mrs.db.engine import Database
from mrs.db.types import UTCDateTime
from mrs.errors import InvalidInput
from mrs.notifications.service import enqueue_mail
from mrs.settings import Settings

logger = logging.getLogger(__name__)

# last_seen_at is written at most this often per session: no write on every request.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
_MAX_ADDRESS = 64
_MAX_USER_AGENT = 200


@dataclass(frozen=True)
class AuthenticatedUser:
    """The caller of a request, as the HTTP layer and services see it."""

    user_id: str
    role_name: str
    session_id: str = ""

    @property
    def is_admin(self) -> bool:
        return self.role_name == Role.ADMIN


@dataclass(frozen=True)
class NewSession:
    """A session just opened by a login (or a password change)."""

    user: User
    session_id: str
    expires_at: datetime


@dataclass(frozen=True)
class SessionInfo:
    session_id: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    client_address: str | None
    user_agent: str | None


def _policy_error(violation: rules.PolicyViolation, field: str) -> InvalidInput:
    error = WeakPassword if field in ("password", "new_password") else InvalidInput
    return error(violation.msgid, details={"field": field}, **violation.params)


async def _hash(password: str) -> str:
    # argon2 takes tens of milliseconds of CPU: keep the event loop free meanwhile.
    return await asyncio.to_thread(passwords.hash_password, password)


async def _verify(password_hash: str | None, password: str) -> bool:
    if password_hash is None:
        await asyncio.to_thread(passwords.burn_verification_time, password)
        return False
    return await asyncio.to_thread(passwords.verify_password, password_hash, password)


# --- users -------------------------------------------------------------------------------


async def create_user(
    db: Database,
    *,
    user_id: str,
    password: str,
    email: str,
    first_name: str,
    last_name: str,
    role: Role = Role.USER,
    status: UserStatus = UserStatus.ACTIVE,
    now: datetime,
    locale: str | None = None,
) -> User:
    """Create a user (CLI, tests, registration); ids and emails are unique regardless of case."""
    try:
        clean_id = rules.check_user_id(user_id)
    except rules.PolicyViolation as violation:
        raise _policy_error(violation, "user_id") from violation
    try:
        clean_email = rules.check_email(email)
    except rules.PolicyViolation as violation:
        raise _policy_error(violation, "email") from violation
    try:
        clean_first, clean_last = rules.check_name(first_name), rules.check_name(last_name)
    except rules.PolicyViolation as violation:
        raise _policy_error(violation, "name") from violation
    try:
        rules.check_password(password, user_id=clean_id, email=clean_email)
    except rules.PolicyViolation as violation:
        raise _policy_error(violation, "password") from violation
    user = User(
        user_id=clean_id,
        password_hash=await _hash(password),
        email=clean_email,
        first_name=clean_first,
        last_name=clean_last,
        role_name=role.value,
        status=status.value,
        created_at=now,
        locale=locale,
    )
    try:
        async with db.transaction() as session:
            await _insert_user(session, user)
    except IntegrityError as exc:
        # Two registrations raced past the checks; the unique constraints decided.
        raise (
            EmailTaken() if "email" in str(exc.orig) else UserIdTaken(user_id=user.user_id)
        ) from exc
    return user


async def _insert_user(session: AsyncSession, user: User) -> None:
    if await session.get(User, user.user_id) is not None:
        raise UserIdTaken(user_id=user.user_id)
    taken = await session.scalar(select(User.user_id).where(User.email == user.email))
    if taken is not None:
        raise EmailTaken()
    session.add(user)
    await session.flush()


async def list_users(db: Database) -> list[User]:
    async with db.snapshot() as session:
        return list((await session.scalars(select(User).order_by(User.user_id))).all())


async def get_user(db: Database, *, user_id: str) -> User | None:
    async with db.snapshot() as session:
        return await session.get(User, rules.normalize_user_id(user_id))


async def _admin_addresses(session: AsyncSession, settings: Settings) -> list[str]:
    configured = [a.strip() for a in settings.admin_notification_emails.split(",") if a.strip()]
    if configured:
        return configured
    rows = await session.scalars(
        select(User.email).where(
            User.role_name == Role.ADMIN.value, User.status == UserStatus.ACTIVE.value
        )
    )
    return list(rows.all())


# --- registration and approval ---------------------------------------------------------


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
        clean_id = rules.check_user_id(user_id)
        clean_email = rules.check_email(email)
        clean_first, clean_last = rules.check_name(first_name), rules.check_name(last_name)
        rules.check_password(password, user_id=clean_id, email=clean_email)
    except rules.PolicyViolation as violation:
        metrics.REGISTRATIONS.labels(outcome="invalid").inc()
        raise _policy_error(violation, "password") from violation
    allowed = rules.allowed_domains(settings.registration_allowed_domains)
    if not rules.domain_allowed(clean_email, allowed):
        metrics.REGISTRATIONS.labels(outcome="invalid").inc()
        raise EmailDomainNotAllowed(details={"field": "email"}, domains=", ".join(sorted(allowed)))
    user = User(
        user_id=clean_id,
        password_hash=await _hash(password),
        email=clean_email,
        first_name=clean_first,
        last_name=clean_last,
        role_name=Role.USER.value,
        status=UserStatus.PENDING.value,
        created_at=now,
        locale=locale,
    )
    try:
        async with db.transaction() as session:
            await _insert_user(session, user)
            await throttle.settle_registration(
                session, attempt_id, RegistrationOutcome.SUBMITTED, user_id=user.user_id
            )
            to_admins = notices.registration_for_admins(
                user_id=user.user_id,
                first_name=user.first_name,
                last_name=user.last_name,
                email=user.email,
            )
            admins = await _admin_addresses(session, settings)
            if admins:
                await enqueue_mail(
                    session,
                    to=admins,
                    subject=to_admins.subject,
                    body=to_admins.body,
                    settings=settings,
                )
            else:
                logger.warning("registration of %s: no administrator address to notify", clean_id)
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
        raise (
            EmailTaken() if "email" in str(exc.orig) else UserIdTaken(user_id=user.user_id)
        ) from exc
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


async def _locked_user(session: AsyncSession, user_id: str) -> User:
    user = await session.scalar(
        select(User).where(User.user_id == rules.normalize_user_id(user_id)).with_for_update()
    )
    if user is None:
        raise UserNotFound(user_id=rules.normalize_user_id(user_id)[:64])
    return user


async def _decide(
    db: Database,
    *,
    user_id: str,
    admin_id: str,
    now: datetime,
    approve: bool,
    reason: str | None,
) -> User:
    async with _changing_sessions(db, user_id=user_id) as session:
        user = await _locked_user(session, user_id)
        if user.status != UserStatus.PENDING:
            raise AlreadyDecided(user_id=user.user_id, status=user.status)
        user.status = (UserStatus.ACTIVE if approve else UserStatus.REJECTED).value
        user.decided_at = now
        user.decided_by = admin_id
        user.decision_reason = reason
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


async def disable_user(db: Database, *, user_id: str, admin_id: str, now: datetime) -> User:
    """Disable an ACTIVE user: every session ends at once and login is refused."""
    async with _changing_sessions(db, user_id=user_id) as session:
        user = await _locked_user(session, user_id)
        if user.user_id == admin_id:
            raise CannotChangeOwnAccount()
        if user.status != UserStatus.ACTIVE:
            raise InvalidUserState(user_id=user.user_id, status=user.status)
        user.status = UserStatus.DISABLED.value
        await _revoke_all(session, user.user_id, now=now, reason="disabled")
    logger.info("user %s disabled by %s", user.user_id, admin_id)
    return user


async def enable_user(db: Database, *, user_id: str, admin_id: str, now: datetime) -> User:
    """Re-enable a DISABLED user."""
    async with db.transaction() as session:
        user = await _locked_user(session, user_id)
        if user.status != UserStatus.DISABLED:
            raise InvalidUserState(user_id=user.user_id, status=user.status)
        user.status = UserStatus.ACTIVE.value
    logger.info("user %s enabled by %s at %s", user.user_id, admin_id, now.isoformat())
    return user


async def end_sessions(db: Database, *, user_id: str, now: datetime) -> int:
    """End every session of a user (an admin's "end sessions"); returns how many."""
    async with _changing_sessions(db, user_id=user_id) as session:
        user = await _locked_user(session, user_id)
        return await _revoke_all(session, user.user_id, now=now, reason="ended_by_admin")


# --- sessions ------------------------------------------------------------------------------


@asynccontextmanager
async def _changing_sessions(
    db: Database, *, session_id: str | None = None, user_id: str | None = None
) -> AsyncIterator[AsyncSession]:
    """A write transaction that revokes sessions or changes who may use them: once it is
    committed, this process forgets the sessions at once (others hear of it by NOTIFY)."""
    async with db.transaction() as session:
        yield session
    session_cache.forget(db, session_id=session_id, user_id=user_id)


async def _revoke_all(
    session: AsyncSession, user_id: str, *, now: datetime, reason: str, keep: str | None = None
) -> int:
    statement = (
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    if keep:
        statement = statement.where(UserSession.session_id != keep)
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


def _open_session(
    session: AsyncSession,
    settings: Settings,
    *,
    user_id: str,
    now: datetime,
    client_address: str | None,
    user_agent: str | None,
) -> UserSession:
    row = UserSession(
        session_id=secrets.token_urlsafe(32),
        user_id=user_id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(minutes=settings.session_absolute_minutes),
        client_address=(client_address or None) and client_address[:_MAX_ADDRESS],
        user_agent=(user_agent or None) and user_agent[:_MAX_USER_AGENT],
    )
    session.add(row)
    return row


def session_token_lifetime(settings: Settings, *, expires_at: datetime, now: datetime) -> timedelta:
    """A token never outlives its session's absolute timeout."""
    return min(timedelta(minutes=settings.access_token_minutes), expires_at - now)


# Every authenticated request runs this, so it is plain SQL on the hot path (Database.read).
_SESSION_OF_TOKEN = text(
    """
    SELECT usr.user_id, usr.role_name, usr.status,
           user_session.last_seen_at, user_session.expires_at, user_session.revoked_at
    FROM user_session JOIN usr ON usr.user_id = user_session.user_id
    WHERE user_session.session_id = :session_id AND user_session.user_id = :user_id
    """
).columns(
    last_seen_at=UTCDateTime(),
    expires_at=UTCDateTime(),
    revoked_at=UTCDateTime(),
)
_TOUCH_SESSION = text(
    """
    UPDATE user_session SET last_seen_at = :now
    WHERE session_id = :session_id AND last_seen_at < :seen_before
    """
).bindparams(bindparam("now", type_=UTCDateTime()), bindparam("seen_before", type_=UTCDateTime()))


async def user_for_token(
    db: Database,
    *,
    claims: TokenClaims,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> AuthenticatedUser:
    """The active user a valid token speaks for: its session must be open and fresh.

    One query (session joined with user); last_seen_at is written at most once a minute.
    `now` defaults to the real time and `settings` to the database's settings.
    """
    now = now or system_clock()
    settings = settings or db.settings
    if not claims.session_id:
        raise InvalidToken()
    cache = session_cache.for_database(db)
    row = cache.get(claims.session_id) if cache is not None else None
    if row is None or not _session_is_usable(row, claims, now, settings):
        # Not remembered, or remembered with a "no" that only the database may confirm
        # (another process may have seen the session more recently).
        generation = cache.generation if cache is not None else 0
        rows = await db.read(
            _SESSION_OF_TOKEN, {"session_id": claims.session_id, "user_id": claims.subject}
        )
        row = rows[0] if rows else None
        if row is None or not _session_is_usable(row, claims, now, settings):
            if cache is not None:
                cache.forget(claims.session_id)
            raise InvalidToken()
        if cache is not None:
            cache.put(claims.session_id, row, generation=generation)
    if now - row.last_seen_at >= LAST_SEEN_RESOLUTION:
        await db.write(
            _TOUCH_SESSION,
            {
                "session_id": claims.session_id,
                "now": now,
                "seen_before": now - LAST_SEEN_RESOLUTION,
            },
        )
        if cache is not None:
            cache.update(claims.session_id, row._replace(last_seen_at=now))
    return AuthenticatedUser(
        user_id=row.user_id, role_name=row.role_name, session_id=claims.session_id
    )


def _session_is_usable(row: Any, claims: TokenClaims, now: datetime, settings: Settings) -> bool:
    """The session check's verdict on a session row read for `claims`."""
    return (
        row.user_id == claims.subject
        and row.revoked_at is None
        and row.status == UserStatus.ACTIVE
        and now < row.expires_at
        and now - row.last_seen_at <= timedelta(minutes=settings.session_idle_minutes)
    )


def _active_session_filter(settings: Settings, now: datetime) -> list[ColumnElement[bool]]:
    return [
        UserSession.revoked_at.is_(None),
        UserSession.expires_at > now,
        UserSession.last_seen_at >= now - timedelta(minutes=settings.session_idle_minutes),
    ]


async def list_sessions(
    db: Database, settings: Settings, *, user_id: str, now: datetime
) -> list[SessionInfo]:
    """A user's open sessions, newest first."""
    async with db.snapshot() as session:
        rows = await session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user_id, *_active_session_filter(settings, now))
            .order_by(UserSession.created_at.desc())
        )
        return [
            SessionInfo(
                session_id=row.session_id,
                created_at=row.created_at,
                last_seen_at=row.last_seen_at,
                expires_at=row.expires_at,
                client_address=row.client_address,
                user_agent=row.user_agent,
            )
            for row in rows.all()
        ]


async def end_session(db: Database, *, user_id: str, session_id: str, now: datetime) -> None:
    """End one of the user's own sessions (logout, or from the sessions list)."""
    async with _changing_sessions(db, session_id=session_id) as session:
        result = await session.execute(
            update(UserSession)
            .where(
                UserSession.session_id == session_id,
                UserSession.user_id == user_id,
                UserSession.revoked_at.is_(None),
            )
            .values(revoked_at=now, revoked_reason="ended")
        )
        if not getattr(result, "rowcount", 0):
            raise SessionNotFound()


async def end_other_sessions(db: Database, *, user_id: str, keep: str, now: datetime) -> int:
    """End every session of the user but the current one."""
    async with _changing_sessions(db, user_id=user_id) as session:
        return await _revoke_all(session, user_id, now=now, reason="ended", keep=keep)


async def revoke_tokens(db: Database, *, user_id: str, now: datetime) -> None:
    """End every session of `user_id` (kept for callers written before sessions existed;
    a logout should use `logout`, which ends only the current session)."""
    async with _changing_sessions(db, user_id=user_id) as session:
        await _revoke_all(session, user_id, now=now, reason="ended")


async def logout(db: Database, *, user: AuthenticatedUser, now: datetime) -> None:
    """End the caller's current session only."""
    async with _changing_sessions(db, session_id=user.session_id) as session:
        await session.execute(
            update(UserSession)
            .where(
                UserSession.session_id == user.session_id,
                UserSession.user_id == user.user_id,
                UserSession.revoked_at.is_(None),
            )
            .values(revoked_at=now, revoked_reason="logout")
        )


async def change_password(
    db: Database,
    settings: Settings,
    *,
    user_id: str,
    current_password: str,
    new_password: str,
    now: datetime,
    client_address: str | None = None,
    user_agent: str | None = None,
) -> NewSession:
    """Change the password (the current one is required); every session ends, and a new
    one is opened for the caller so they stay logged in on this device."""
    async with db.snapshot() as session:
        user = await session.get(User, user_id)
    if user is None or user.status != UserStatus.ACTIVE:
        raise InvalidToken()
    # The new password first: a refused one must not cost one of the limited checks.
    try:
        rules.check_password(new_password, user_id=user.user_id, email=user.email)
    except rules.PolicyViolation as violation:
        raise _policy_error(violation, "new_password") from violation
    # Throttled and recorded like a login, so a stolen session cannot guess the password.
    attempt_id = await throttle.admit_password_check(
        db,
        settings,
        account_key=user.user_id,
        client_address=client_address or "unknown",
        now=now,
        refusal=PasswordCheckThrottled,
    )
    if not await _verify(user.password_hash, current_password):
        metrics.LOGINS.labels(outcome="failed").inc()
        raise WrongCurrentPassword(details={"field": "current_password"})
    new_hash = await _hash(new_password)
    async with _changing_sessions(db, user_id=user_id) as session:
        await throttle.settle_password_check(session, attempt_id, LoginOutcome.SUCCEEDED)
        await session.execute(
            update(User).where(User.user_id == user.user_id).values(password_hash=new_hash)
        )
        await _revoke_all(session, user.user_id, now=now, reason="password_changed")
        row = _open_session(
            session,
            settings,
            user_id=user.user_id,
            now=now,
            client_address=client_address,
            user_agent=user_agent,
        )
    logger.info("password changed for %s; all sessions ended", user.user_id)
    return NewSession(user=user, session_id=row.session_id, expires_at=row.expires_at)


# --- login and throttling ------------------------------------------------------------------


async def login(
    db: Database,
    settings: Settings,
    *,
    user_id: str,
    password: str,
    client_address: str,
    user_agent: str | None,
    now: datetime,
) -> NewSession:
    """Check the credentials (throttled), open a session; the caller issues the token.

    Unknown ids and wrong passwords get one answer and take as long (a dummy hash is
    verified). Whether an account is pending, rejected or disabled is said only after the
    right password.
    """
    account_key = rules.normalize_user_id(user_id)[:64]
    address = (client_address or "unknown")[:_MAX_ADDRESS]
    # Counted (as a failure) before the password is verified: parallel guesses queue on
    # the throttle and never get more checks than the limit.
    attempt_id = await throttle.admit_password_check(
        db, settings, account_key=account_key, client_address=address, now=now
    )
    async with db.snapshot() as session:
        user = await session.get(User, account_key) if len(account_key) <= 32 else None
    if not await _verify(user.password_hash if user else None, password) or user is None:
        metrics.LOGINS.labels(outcome="failed").inc()
        raise InvalidCredentials()
    refusal = {
        UserStatus.PENDING: AccountPending,
        UserStatus.REJECTED: AccountRejected,
        UserStatus.DISABLED: AccountDisabled,
    }.get(UserStatus(user.status))
    if refusal is not None:
        async with db.transaction() as session:
            await throttle.settle_password_check(session, attempt_id, LoginOutcome.REFUSED)
        metrics.LOGINS.labels(outcome="failed").inc()
        raise refusal()
    rehash = await _hash(password) if passwords.needs_rehash(user.password_hash) else None
    async with db.transaction() as session:
        await throttle.settle_password_check(session, attempt_id, LoginOutcome.SUCCEEDED)
        if rehash is not None:
            await session.execute(
                update(User).where(User.user_id == user.user_id).values(password_hash=rehash)
            )
        row = _open_session(
            session,
            settings,
            user_id=user.user_id,
            now=now,
            client_address=address,
            user_agent=user_agent,
        )
    metrics.LOGINS.labels(outcome="succeeded").inc()
    return NewSession(user=user, session_id=row.session_id, expires_at=row.expires_at)


async def authenticate(db: Database, *, user_id: str, password: str) -> User:
    """The ACTIVE user with these credentials, or InvalidCredentials (no session, no
    throttling: for tools that check a password once)."""
    async with db.snapshot() as session:
        user = await session.get(User, rules.normalize_user_id(user_id)[:32])
    if not await _verify(user.password_hash if user else None, password) or user is None:
        raise InvalidCredentials()
    if user.status != UserStatus.ACTIVE:
        raise InvalidCredentials()
    return user


# --- housekeeping and statistics -----------------------------------------------------------


async def prune_history(db: Database, settings: Settings, *, now: datetime) -> None:
    """Delete login attempts and ended sessions older than the history period."""
    from sqlalchemy import delete, or_

    cutoff = now - timedelta(days=settings.login_history_days)
    async with db.transaction() as session:
        await session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < cutoff))
        await session.execute(delete(ThrottleKey).where(ThrottleKey.touched_at < cutoff))
        await session.execute(
            delete(UserSession).where(
                or_(UserSession.revoked_at < cutoff, UserSession.expires_at < cutoff)
            )
        )


@dataclass(frozen=True)
class AccountStats:
    since: datetime
    registrations: dict[str, int]
    decisions: dict[str, int]
    logins: dict[str, int]

    @staticmethod
    def rate(good: int, total: int) -> float | None:
        return round(good / total, 4) if total else None


async def account_stats(db: Database, *, since: datetime) -> AccountStats:
    """Registration and login counts since `since`, from the database."""
    async with db.snapshot() as session:
        registrations = dict(
            (
                await session.execute(
                    select(RegistrationAttempt.outcome, func.count())
                    .where(RegistrationAttempt.attempted_at >= since)
                    .group_by(RegistrationAttempt.outcome)
                )
            ).all()
        )
        decided = (
            await session.execute(
                select(User.status, func.count())
                .where(User.decided_at >= since, User.decided_by.is_not(None))
                .group_by(User.status)
            )
        ).all()
        decisions = {"approved": 0, "rejected": 0}
        for status, count in decided:
            # An approved user may have been disabled since; they were still approved.
            key = "rejected" if status == UserStatus.REJECTED else "approved"
            decisions[key] += int(count)
        decisions["pending"] = int(
            await session.scalar(
                select(func.count()).where(User.status == UserStatus.PENDING.value)
            )
            or 0
        )
        logins = dict(
            (
                await session.execute(
                    select(LoginAttempt.outcome, func.count())
                    .where(LoginAttempt.attempted_at >= since)
                    .group_by(LoginAttempt.outcome)
                )
            ).all()
        )
    return AccountStats(
        since=since,
        registrations={str(k): int(v) for k, v in registrations.items()},
        decisions=decisions,
        logins={str(k): int(v) for k, v in logins.items()},
    )
