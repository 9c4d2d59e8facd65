"""Throttling that parallel requests cannot beat: attempts are admitted before the work.

An attempt (a password check, a registration) is counted BEFORE the password is verified
or the registration looked at, in one transaction that first locks a row per throttled
key (`throttle_key`). Parallel attempts on one key therefore queue on that lock, and each
sees every attempt admitted before it, whichever process or host admitted it: never more
than the limit get through in a window. On PostgreSQL the lock is the row lock that
`INSERT … ON CONFLICT DO UPDATE` takes; on SQLite writers are serialised anyway.

A password check is admitted as a CHECKING login attempt and settled afterwards (FAILED,
SUCCEEDED or REFUSED); a check still running counts against the limit like a failure, and
a process that dies mid-check leaves one behind rather than a free try. When only checks
still running fill the budget (many people logging in at once from one office address),
the attempt waits for them to settle instead of being refused: the limit holds, and
nobody who types the right password is turned away because others were quicker.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql import ColumnElement

from mrs.accounts import metrics
from mrs.accounts.errors import LoginThrottled, PasswordResetThrottled, RegistrationThrottled
from mrs.accounts.models import (
    LoginAttempt,
    LoginOutcome,
    PasswordResetRequest,
    RegistrationAttempt,
    RegistrationOutcome,
    ThrottleKey,
)
from mrs.db.engine import Database
from mrs.errors import TooManyRequests
from mrs.settings import Settings

MAX_ADDRESS_LENGTH = 64
# How long an attempt waits for running checks to settle before it is refused; well under
# the request deadline. A check older than CHECK_STALE_SECONDS belongs to a process that
# died: it stays counted, and nobody waits for it.
ADMISSION_WAIT_SECONDS = 5.0
CHECK_STALE_SECONDS = 60.0


async def lock_keys(session: AsyncSession, keys: Sequence[str], *, now: datetime) -> None:
    """Lock one row per key until the transaction ends, creating missing rows.

    Keys are locked in sorted order, so two transactions locking overlapping keys never
    deadlock.
    """
    rows = [{"throttle_key": key, "touched_at": now} for key in sorted(set(keys))]
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(ThrottleKey).values(rows)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[ThrottleKey.throttle_key],
            set_={"touched_at": statement.excluded.touched_at},
        )
    )


def _wait(oldest_counted: datetime | None, window: timedelta, now: datetime) -> int | None:
    """Seconds until the attempt `oldest_counted` leaves the window (None: not blocking)."""
    if oldest_counted is None:
        return None
    return max(1, math.ceil((oldest_counted + window - now).total_seconds()))


async def _nth_latest(
    session: AsyncSession,
    column: InstrumentedAttribute[datetime],
    *,
    where: Sequence[ColumnElement[bool]],
    nth: int,
) -> datetime | None:
    """The time of the nth most recent row matching `where`, if there are that many."""
    return await session.scalar(
        select(column).where(*where).order_by(column.desc()).offset(nth - 1).limit(1)
    )


async def _window_retry_after(
    session: AsyncSession,
    column: InstrumentedAttribute[datetime],
    limits: Sequence[tuple[ColumnElement[bool], int]],
    *,
    window: timedelta,
    now: datetime,
) -> int | None:
    """Seconds until every (rows matching, limit) pair has room again within `window`
    (None: all have room now): the count behind the registration and reset throttles."""
    waits = [
        _wait(
            await _nth_latest(session, column, where=[matching, column > now - window], nth=limit),
            window,
            now,
        )
        for matching, limit in limits
    ]
    blocking = [wait for wait in waits if wait is not None]
    return max(blocking) if blocking else None


# --- password checks (login, and the current password of a password change) ----------


async def password_retry_after(
    session: AsyncSession,
    settings: Settings,
    *,
    account_key: str,
    address: str,
    now: datetime,
    settled_only: bool = False,
) -> int | None:
    """Per account: N failures since the window start (or since the last successful
    check, whichever is later). Per address: M failures in the window, whatever the account.
    Checks still running count as failures, unless `settled_only` (then only those old
    enough to belong to a dead process do).
    """
    window = timedelta(minutes=settings.login_failure_window_minutes)
    window_start = now - window
    # "Since the last success" by admission order, not by time: attempts admitted in the
    # same instant as the success (parallel ones) are still told apart.
    last_success = await session.scalar(
        select(func.max(LoginAttempt.attempt_id)).where(
            LoginAttempt.account_key == account_key,
            LoginAttempt.outcome == LoginOutcome.SUCCEEDED.value,
            LoginAttempt.attempted_at > window_start,
        )
    )
    running = LoginAttempt.outcome == LoginOutcome.CHECKING.value
    if settled_only:
        running &= LoginAttempt.attempted_at < now - timedelta(seconds=CHECK_STALE_SECONDS)
    failed = (LoginAttempt.outcome == LoginOutcome.FAILED.value) | running
    waits = [
        _wait(
            await _nth_latest(
                session,
                LoginAttempt.attempted_at,
                where=[
                    LoginAttempt.account_key == account_key,
                    failed,
                    LoginAttempt.attempt_id > (last_success or 0),
                    LoginAttempt.attempted_at > window_start,
                ],
                nth=settings.login_max_failures_per_account,
            ),
            window,
            now,
        ),
        _wait(
            await _nth_latest(
                session,
                LoginAttempt.attempted_at,
                where=[
                    LoginAttempt.client_address == address,
                    failed,
                    LoginAttempt.attempted_at > window_start,
                ],
                nth=settings.login_max_failures_per_address,
            ),
            window,
            now,
        ),
    ]
    blocking = [wait for wait in waits if wait is not None]
    return max(blocking) if blocking else None


async def admit_password_check(
    db: Database,
    settings: Settings,
    *,
    account_key: str,
    client_address: str,
    now: datetime,
    refusal: type[TooManyRequests] = LoginThrottled,
) -> int:
    """Admit one password check, or raise `refusal` (429) with the seconds to wait.

    The admitted check is recorded as CHECKING (its id is returned); settle it with
    `settle_password_check` once the password has been verified. While only checks still
    running stand in the way, wait (up to ADMISSION_WAIT_SECONDS) for them to settle.
    """
    address = (client_address or "unknown")[:MAX_ADDRESS_LENGTH]
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + ADMISSION_WAIT_SECONDS
    pause = 0.02
    while True:
        attempt_id, retry_after, only_running = await _try_admission(
            db, settings, account_key=account_key, address=address, now=now
        )
        if attempt_id is not None:
            return attempt_id
        assert retry_after is not None
        if not only_running or loop.time() + pause > give_up_at:
            break
        # Wait without the lock until the budget looks free: many attempts polling the
        # key's row lock would queue on it and slow every admission down. Jittered,
        # growing pauses, so that waiting attempts do not look in lockstep.
        while loop.time() + pause <= give_up_at:
            await asyncio.sleep(pause * (0.5 + random.random()))  # noqa: S311 - not a secret
            pause = min(pause * 2, 0.25)
            async with db.snapshot() as session:
                if (
                    await password_retry_after(
                        session, settings, account_key=account_key, address=address, now=now
                    )
                    is None
                ):
                    break
    async with db.transaction() as session:
        session.add(
            LoginAttempt(
                attempted_at=now,
                account_key=account_key,
                client_address=address,
                outcome=LoginOutcome.THROTTLED,
            )
        )
    metrics.LOGINS.labels(outcome="throttled").inc()
    raise refusal(retry_after=retry_after)


async def _try_admission(
    db: Database, settings: Settings, *, account_key: str, address: str, now: datetime
) -> tuple[int | None, int | None, bool]:
    """(attempt id, None, _) when admitted; else (None, seconds to wait, whether only
    checks still running stand in the way)."""
    async with db.transaction() as session:
        await lock_keys(
            session, [f"login-account:{account_key}", f"login-address:{address}"], now=now
        )
        retry_after = await password_retry_after(
            session, settings, account_key=account_key, address=address, now=now
        )
        if retry_after is not None:
            settled = await password_retry_after(
                session,
                settings,
                account_key=account_key,
                address=address,
                now=now,
                settled_only=True,
            )
            return None, retry_after, settled is None
        attempt = LoginAttempt(
            attempted_at=now,
            account_key=account_key,
            client_address=address,
            outcome=LoginOutcome.CHECKING,
        )
        session.add(attempt)
        await session.flush()
        return attempt.attempt_id, None, False


async def settle_password_check(
    session: AsyncSession, attempt_id: int, outcome: LoginOutcome
) -> None:
    """Record the real outcome of an admitted check, in the caller's transaction."""
    await session.execute(
        update(LoginAttempt)
        .where(LoginAttempt.attempt_id == attempt_id)
        .values(outcome=outcome.value)
    )


async def settle_failed_check(db: Database, attempt_id: int) -> None:
    """Record that an admitted check found the password wrong."""
    async with db.transaction() as session:
        await settle_password_check(session, attempt_id, LoginOutcome.FAILED)


# --- registrations ---------------------------------------------------------------------


async def admit_registration(
    db: Database,
    settings: Settings,
    *,
    client_address: str,
    email_domain: str | None,
    now: datetime,
) -> int:
    """Admit one registration attempt (any outcome counts), or raise RegistrationThrottled.

    The attempt is recorded as INVALID at once (its id is returned); settle it with
    `settle_registration` when it turns out otherwise.
    """
    address = (client_address or "unknown")[:MAX_ADDRESS_LENGTH]
    window = timedelta(minutes=settings.registration_window_minutes)
    keys = [f"register-address:{address}"]
    if email_domain:
        keys.append(f"register-domain:{email_domain}")
    async with db.transaction() as session:
        await lock_keys(session, keys, now=now)
        # Per address, and per email domain when there is one.
        limits = [
            (RegistrationAttempt.client_address == address, settings.registration_max_per_address)
        ]
        if email_domain:
            limits.append(
                (
                    RegistrationAttempt.email_domain == email_domain,
                    settings.registration_max_per_domain,
                )
            )
        retry_after = await _window_retry_after(
            session, RegistrationAttempt.attempted_at, limits, window=window, now=now
        )
        if retry_after is None:
            attempt = RegistrationAttempt(
                attempted_at=now,
                outcome=RegistrationOutcome.INVALID.value,
                client_address=address,
                email_domain=email_domain,
            )
            session.add(attempt)
            await session.flush()
            return attempt.attempt_id
    metrics.REGISTRATIONS.labels(outcome="throttled").inc()
    raise RegistrationThrottled(retry_after=retry_after)


async def settle_registration(
    session: AsyncSession,
    attempt_id: int,
    outcome: RegistrationOutcome,
    *,
    user_id: str | None = None,
) -> None:
    """Record the real outcome of an admitted registration, in the caller's transaction."""
    await session.execute(
        update(RegistrationAttempt)
        .where(RegistrationAttempt.attempt_id == attempt_id)
        .values(outcome=outcome.value, user_id=user_id)
    )


# --- password reset requests -----------------------------------------------------------


async def admit_password_reset(
    db: Database,
    settings: Settings,
    *,
    client_address: str,
    account_key: str,
    now: datetime,
) -> None:
    """Admit one "forgot password" request, or raise PasswordResetThrottled (429).

    Counted per client address and per account key (the id or email as typed, whether
    or not such an account exists: the refusal says nothing about the account), every
    request recorded before any lookup, under the keys' row locks like the other throttles.
    """
    address = (client_address or "unknown")[:MAX_ADDRESS_LENGTH]
    # Fits `throttle_key` (320) with its prefix; password_reset.account_key cuts it already.
    account_key = account_key[:254]
    window = timedelta(minutes=settings.password_reset_window_minutes)
    async with db.transaction() as session:
        await lock_keys(
            session, [f"reset-address:{address}", f"reset-account:{account_key}"], now=now
        )
        limits = (
            (
                PasswordResetRequest.client_address == address,
                settings.password_reset_max_per_address,
            ),
            (
                PasswordResetRequest.account_key == account_key,
                settings.password_reset_max_per_account,
            ),
        )
        retry_after = await _window_retry_after(
            session, PasswordResetRequest.requested_at, limits, window=window, now=now
        )
        if retry_after is None:
            session.add(
                PasswordResetRequest(
                    requested_at=now, client_address=address, account_key=account_key
                )
            )
            return
    raise PasswordResetThrottled(retry_after=retry_after)
