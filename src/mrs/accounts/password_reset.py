"""Password reset by mail, an administrator's "send a reset mail", and the CLI's password.

A reset link carries a random secret (`secrets.token_urlsafe(32)`); only its SHA-256 is
stored, so reading the table gives no working link. A link works once, for
`MRS_PASSWORD_RESET_MINUTES`, and a newer link for the same user ends the older unused
ones. Using it changes the password and ends every session of the user in one
transaction. Asking for a link answers the same, in about the same time, whether or not
the account exists: nobody learns from it who has an account.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mrs.accounts import passwords, rules, throttle
from mrs.accounts.errors import (
    InvalidUserState,
    ResetTokenExpired,
    ResetTokenInvalid,
    ResetTokenUsed,
    UserNotFound,
    policy_error,
)
from mrs.accounts.models import PasswordResetRequest, PasswordResetToken, User, UserStatus
from mrs.accounts.notices import password_reset_mail
from mrs.accounts.sessions import changing_sessions, revoke_all
from mrs.accounts.users import locked_user
from mrs.audit import service as audit
from mrs.db.engine import Database
from mrs.errors import InvalidInput
from mrs.notifications.service import enqueue_mail
from mrs.settings import Settings

logger = logging.getLogger(__name__)

# What secrets.token_urlsafe(32) makes: 43 URL-safe base64 characters. Anything else is
# refused before the database is asked.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
# Longest account text looked at: the longest email an account can have (longer input
# names no account; the throttle counts it under its first 254 characters).
MAX_ACCOUNT_LENGTH = 254


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The stored form of a reset secret."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def is_token_shaped(token: str) -> bool:
    return _TOKEN_SHAPE.fullmatch(token) is not None


def account_key(account: str) -> str:
    """What was typed, checked for shape only: an email address (with "@") or a user id,
    normalised as accounts store them; InvalidInput (422) otherwise. Syntax alone, so the
    refusal says nothing about whether such an account exists. It is also the key the
    throttle counts under, existing account or not."""
    text = " ".join(account.split())
    if not text:
        raise InvalidInput("Enter your email address or user ID.", details={"field": "email"})
    try:
        key = rules.check_email(text) if "@" in text else rules.check_user_id(text)
    except rules.PolicyViolation as violation:
        raise InvalidInput(
            "Enter a valid email address or user ID.", details={"field": "email"}
        ) from violation
    return key[:MAX_ACCOUNT_LENGTH]


def reset_link(base_url: str, token: str) -> str:
    """The link in the mail; `base_url` is MRS_PUBLIC_URL or the address the request came to."""
    return f"{base_url.rstrip('/')}/password/reset?token={token}"


def token_state(row: PasswordResetToken | None, now: datetime) -> type[Exception] | None:
    """Why a stored token cannot be used at `now` (the error to raise), or None if it can.

    Valid while `now` is before `expires_at`: at the expiry instant it no longer works."""
    if row is None:
        return ResetTokenInvalid
    if row.used_at is not None or row.superseded_at is not None:
        return ResetTokenUsed
    if now >= row.expires_at:
        return ResetTokenExpired
    return None


async def _issue(
    session: AsyncSession,
    settings: Settings,
    *,
    user: User,
    token: str,
    token_hash: str,
    base_url: str,
    now: datetime,
    requested_by: str | None,
) -> None:
    """Store the token's hash (ending the user's older unused links) and queue the mail."""
    await session.execute(
        update(PasswordResetToken)
        .where(
            PasswordResetToken.user_id == user.user_id,
            PasswordResetToken.used_at.is_(None),
            PasswordResetToken.superseded_at.is_(None),
        )
        .values(superseded_at=now)
    )
    session.add(
        PasswordResetToken(
            token_hash=token_hash,
            user_id=user.user_id,
            created_at=now,
            expires_at=now + timedelta(minutes=settings.password_reset_minutes),
            requested_by=requested_by,
        )
    )
    notice = password_reset_mail(
        user.locale,
        first_name=user.first_name,
        user_id=user.user_id,
        link=reset_link(base_url, token),
        minutes=settings.password_reset_minutes,
    )
    await enqueue_mail(
        session, to=[user.email], subject=notice.subject, body=notice.body, settings=settings
    )


async def request_reset(
    db: Database,
    settings: Settings,
    *,
    account: str,
    client_address: str,
    base_url: str,
    now: datetime,
) -> None:
    """Mail a reset link to the ACTIVE account named by `account` (email or user id).

    Throttled first (per address and per what was typed). Whatever the account, the same
    work is done (a token made and hashed, one lookup in one transaction) and nothing is
    returned or raised that depends on it: only an active account's row and mail differ,
    and they are not visible to the caller.
    """
    key = account_key(account)
    await throttle.admit_password_reset(
        db, settings, client_address=client_address, account_key=key, now=now
    )
    # Made and hashed before the lookup: the same work whether or not the account exists.
    token = new_token()
    token_hash = hash_token(token)
    async with db.transaction() as session:
        # Emails are stored as check_email leaves them; user ids never contain "@".
        user = await session.scalar(
            select(User).where(or_(User.user_id == key[:32], User.email == key)).limit(1)
        )
        if user is None or user.status != UserStatus.ACTIVE:
            # Nothing stored, nothing mailed, and nothing said to the caller about it.
            return
        await _issue(
            session,
            settings,
            user=user,
            token=token,
            token_hash=token_hash,
            base_url=base_url,
            now=now,
            requested_by=None,
        )
        # Nobody is logged in: the system acts, for whoever holds the mailbox.
        await audit.record(
            session,
            action="user.password_reset_request",
            subject_type="user",
            subject_id=user.user_id,
            after={"reset_mail": "sent"},
            actor_id=None,
            at=now,
        )
    logger.info("password reset mail queued for %s", user.user_id)


async def send_reset(
    db: Database,
    settings: Settings,
    *,
    user_id: str,
    admin_id: str,
    base_url: str,
    now: datetime,
) -> None:
    """An administrator sends an ACTIVE user the reset mail (the same link and mail)."""
    async with db.transaction() as session:
        user = await locked_user(session, user_id)
        if user.status != UserStatus.ACTIVE:
            raise InvalidUserState(user_id=user.user_id, status=user.status)
        token = new_token()
        await _issue(
            session,
            settings,
            user=user,
            token=token,
            token_hash=hash_token(token),
            base_url=base_url,
            now=now,
            requested_by=admin_id,
        )
        await audit.record(
            session,
            action="user.password_reset_sent",
            subject_type="user",
            subject_id=user.user_id,
            after={"reset_mail": "sent"},
            actor_id=admin_id,
            at=now,
        )
    logger.info("password reset mail for %s sent by %s", user.user_id, admin_id)


async def _usable_token(db: Database, token: str, now: datetime) -> PasswordResetToken:
    if not is_token_shaped(token):
        raise ResetTokenInvalid()
    async with db.snapshot() as session:
        row = await session.scalar(
            select(PasswordResetToken).where(PasswordResetToken.token_hash == hash_token(token))
        )
    refusal = token_state(row, now)
    if refusal is not None:
        raise refusal()
    assert row is not None
    return row


async def check_token(db: Database, *, token: str, now: datetime) -> None:
    """Raise why `token` cannot reset a password now (the reset page says so at once)."""
    await _usable_token(db, token, now)


async def reset_password(db: Database, *, token: str, new_password: str, now: datetime) -> str:
    """Set a new password with a reset link; returns the user id.

    The password follows the registration rules. The token is consumed by a conditional
    UPDATE in the same transaction as the password change and the end of every session,
    so two uses at once cannot both succeed, on either database.
    """
    row = await _usable_token(db, token, now)
    async with db.snapshot() as session:
        user = await session.get(User, row.user_id)
    if user is None or user.status != UserStatus.ACTIVE:
        raise ResetTokenInvalid()
    try:
        rules.check_password(new_password, user_id=user.user_id, email=user.email)
    except rules.PolicyViolation as violation:
        raise policy_error(violation, "new_password") from violation
    new_hash = await passwords.hash_off_loop(new_password)
    async with changing_sessions(db, user_id=user.user_id) as session:
        consumed = await session.execute(
            update(PasswordResetToken)
            .where(
                PasswordResetToken.token_id == row.token_id,
                PasswordResetToken.used_at.is_(None),
                PasswordResetToken.superseded_at.is_(None),
                PasswordResetToken.expires_at > now,
            )
            .values(used_at=now)
        )
        if int(getattr(consumed, "rowcount", 0) or 0) != 1:
            raise ResetTokenExpired() if now >= row.expires_at else ResetTokenUsed()
        await session.execute(
            update(User).where(User.user_id == user.user_id).values(password_hash=new_hash)
        )
        ended = await revoke_all(session, user.user_id, now=now, reason="password_reset")
        # Never the token nor the hash: that it happened, and what it ended.
        await audit.record(
            session,
            action="user.password_reset",
            subject_type="user",
            subject_id=user.user_id,
            after={"password": "reset", "sessions_ended": ended},
            actor_id=user.user_id,
            at=now,
        )
    logger.info("password reset for %s; all sessions ended", user.user_id)
    return user.user_id


async def set_password(db: Database, *, user_id: str, password: str, now: datetime) -> int:
    """The CLI's `mrs user set-password`: a new password (the usual rules), every session
    ended, audited as done by the CLI (actor none, `"by": "cli"`). Returns the sessions ended."""
    async with db.snapshot() as session:
        user = await session.get(User, rules.normalize_user_id(user_id))
    if user is None:
        raise UserNotFound(user_id=rules.normalize_user_id(user_id)[:64])
    try:
        rules.check_password(password, user_id=user.user_id, email=user.email)
    except rules.PolicyViolation as violation:
        raise policy_error(violation, "password") from violation
    new_hash = await passwords.hash_off_loop(password)
    async with changing_sessions(db, user_id=user.user_id) as session:
        await session.execute(
            update(User).where(User.user_id == user.user_id).values(password_hash=new_hash)
        )
        # Any reset link still open would undo this: end them too.
        await session.execute(
            update(PasswordResetToken)
            .where(
                PasswordResetToken.user_id == user.user_id,
                PasswordResetToken.used_at.is_(None),
                PasswordResetToken.superseded_at.is_(None),
            )
            .values(superseded_at=now)
        )
        ended = await revoke_all(session, user.user_id, now=now, reason="password_set")
        await audit.record(
            session,
            action="user.password_set",
            subject_type="user",
            subject_id=user.user_id,
            after={"password": "set", "by": "cli", "sessions_ended": ended},
            actor_id=None,
            at=now,
        )
    logger.info("password set for %s from the CLI; all sessions ended", user.user_id)
    return ended


async def prune_history(db: Database, settings: Settings, *, now: datetime) -> None:
    """Forget reset requests and links older than the login history period (the
    throttle looks back an hour at most; an expired link is of no use to anybody)."""
    cutoff = now - timedelta(days=settings.login_history_days)
    async with db.transaction() as session:
        await session.execute(
            delete(PasswordResetRequest).where(PasswordResetRequest.requested_at < cutoff)
        )
        await session.execute(
            delete(PasswordResetToken).where(PasswordResetToken.expires_at < cutoff)
        )
