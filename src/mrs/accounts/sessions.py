"""Sessions: who a token speaks for, opening and ending sessions, and their history.

Every authenticated request runs `user_for_token`; the rest are the user's own session
list and the primitives the other account modules change sessions with.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from mrs.accounts import session_cache
from mrs.accounts.errors import InvalidToken, SessionNotFound
from mrs.accounts.models import LoginAttempt, Role, ThrottleKey, User, UserSession, UserStatus
from mrs.accounts.tokens import TokenClaims
from mrs.clock import system_clock
from mrs.db.engine import Database
from mrs.db.types import UTCDateTime
from mrs.settings import Settings

# last_seen_at is written at most this often per session: no write on every request.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
MAX_ADDRESS = 64
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


@asynccontextmanager
async def changing_sessions(
    db: Database, *, session_id: str | None = None, user_id: str | None = None
) -> AsyncIterator[AsyncSession]:
    """A write transaction that revokes sessions or changes who may use them: once it is
    committed, this process forgets the sessions at once (others hear of it by NOTIFY)."""
    async with db.transaction() as session:
        yield session
    session_cache.forget(db, session_id=session_id, user_id=user_id)


async def revoke_all(
    session: AsyncSession, user_id: str, *, now: datetime, reason: str, keep: str | None = None
) -> int:
    """Revoke every open session of `user_id` (but `keep`) in `session`; returns how many."""
    statement = (
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    if keep:
        statement = statement.where(UserSession.session_id != keep)
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


def open_session(
    session: AsyncSession,
    settings: Settings,
    *,
    user_id: str,
    now: datetime,
    client_address: str | None,
    user_agent: str | None,
) -> UserSession:
    """Add a new session row for `user_id` to `session` (committed by the caller)."""
    row = UserSession(
        session_id=secrets.token_urlsafe(32),
        user_id=user_id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(minutes=settings.session_absolute_minutes),
        client_address=(client_address or None) and client_address[:MAX_ADDRESS],
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


async def _end_own_session(
    db: Database, *, user_id: str, session_id: str, now: datetime, reason: str
) -> int:
    async with changing_sessions(db, session_id=session_id) as session:
        result = await session.execute(
            update(UserSession)
            .where(
                UserSession.session_id == session_id,
                UserSession.user_id == user_id,
                UserSession.revoked_at.is_(None),
            )
            .values(revoked_at=now, revoked_reason=reason)
        )
        return int(getattr(result, "rowcount", 0) or 0)


async def end_session(db: Database, *, user_id: str, session_id: str, now: datetime) -> None:
    """End one of the user's own sessions (from the sessions list)."""
    ended = await _end_own_session(
        db, user_id=user_id, session_id=session_id, now=now, reason="ended"
    )
    if not ended:
        raise SessionNotFound()


async def end_other_sessions(db: Database, *, user_id: str, keep: str, now: datetime) -> int:
    """End every session of the user but the current one."""
    async with changing_sessions(db, user_id=user_id) as session:
        return await revoke_all(session, user_id, now=now, reason="ended", keep=keep)


async def logout(db: Database, *, user: AuthenticatedUser, now: datetime) -> None:
    """End the caller's current session only (ending it twice is no error)."""
    await _end_own_session(
        db, user_id=user.user_id, session_id=user.session_id, now=now, reason="logout"
    )


async def prune_history(db: Database, settings: Settings, *, now: datetime) -> None:
    """Delete login attempts and ended sessions older than the history period."""
    cutoff = now - timedelta(days=settings.login_history_days)
    async with db.transaction() as session:
        await session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < cutoff))
        await session.execute(delete(ThrottleKey).where(ThrottleKey.touched_at < cutoff))
        await session.execute(
            delete(UserSession).where(
                or_(UserSession.revoked_at < cutoff, UserSession.expires_at < cutoff)
            )
        )
