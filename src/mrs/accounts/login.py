"""Password checks: logging in and changing the password, both throttled and recorded."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import update

from mrs.accounts import metrics, passwords, rules, throttle
from mrs.accounts.errors import (
    AccountDisabled,
    AccountPending,
    AccountRejected,
    InvalidCredentials,
    InvalidToken,
    PasswordCheckThrottled,
    WrongCurrentPassword,
    policy_error,
)
from mrs.accounts.models import LoginOutcome, User, UserStatus
from mrs.accounts.sessions import (
    MAX_ADDRESS,
    NewSession,
    changing_sessions,
    open_session,
    revoke_all,
)
from mrs.audit import service as audit
from mrs.db.engine import Database
from mrs.settings import Settings

logger = logging.getLogger(__name__)


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
    address = (client_address or "unknown")[:MAX_ADDRESS]
    # Counted (as a failure) before the password is verified: parallel guesses queue on
    # the throttle and never get more checks than the limit.
    attempt_id = await throttle.admit_password_check(
        db, settings, account_key=account_key, client_address=address, now=now
    )
    async with db.snapshot() as session:
        user = await session.get(User, account_key) if len(account_key) <= 32 else None
    if not await passwords.verify_off_loop(user.password_hash if user else None, password):
        await throttle.settle_failed_check(db, attempt_id)
        metrics.LOGINS.labels(outcome="failed").inc()
        raise InvalidCredentials()
    assert user is not None  # a missing user never verifies
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
    rehash = (
        await passwords.hash_off_loop(password)
        if passwords.needs_rehash(user.password_hash)
        else None
    )
    async with db.transaction() as session:
        await throttle.settle_password_check(session, attempt_id, LoginOutcome.SUCCEEDED)
        if rehash is not None:
            await session.execute(
                update(User).where(User.user_id == user.user_id).values(password_hash=rehash)
            )
        row = open_session(
            session,
            settings,
            user_id=user.user_id,
            now=now,
            client_address=address,
            user_agent=user_agent,
        )
    metrics.LOGINS.labels(outcome="succeeded").inc()
    return NewSession(user=user, session_id=row.session_id, expires_at=row.expires_at)


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
        raise policy_error(violation, "new_password") from violation
    # Throttled and recorded like a login, so a stolen session cannot guess the password.
    attempt_id = await throttle.admit_password_check(
        db,
        settings,
        account_key=user.user_id,
        client_address=client_address or "unknown",
        now=now,
        refusal=PasswordCheckThrottled,
    )
    if not await passwords.verify_off_loop(user.password_hash, current_password):
        await throttle.settle_failed_check(db, attempt_id)
        metrics.LOGINS.labels(outcome="failed").inc()
        raise WrongCurrentPassword(details={"field": "current_password"})
    new_hash = await passwords.hash_off_loop(new_password)
    async with changing_sessions(db, user_id=user_id) as session:
        await throttle.settle_password_check(session, attempt_id, LoginOutcome.SUCCEEDED)
        await session.execute(
            update(User).where(User.user_id == user.user_id).values(password_hash=new_hash)
        )
        ended = await revoke_all(session, user.user_id, now=now, reason="password_changed")
        # Never the hash: that it changed, and what it ended.
        await audit.record(
            session,
            action="user.password",
            subject_type="user",
            subject_id=user.user_id,
            after={"password": "changed", "sessions_ended": ended},
            actor_id=user.user_id,
            at=now,
        )
        row = open_session(
            session,
            settings,
            user_id=user.user_id,
            now=now,
            client_address=client_address,
            user_agent=user_agent,
        )
    logger.info("password changed for %s; all sessions ended", user.user_id)
    return NewSession(user=user, session_id=row.session_id, expires_at=row.expires_at)
