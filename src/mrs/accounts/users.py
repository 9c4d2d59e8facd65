"""Users: creating them (one validation for every front door), finding them, and the
administrator's changes to one (disable, enable, end sessions, role)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mrs.accounts import passwords, rules
from mrs.accounts.errors import (
    CannotChangeOwnAccount,
    EmailDomainNotAllowed,
    EmailTaken,
    InvalidUserState,
    LastAdministrator,
    UserIdTaken,
    UserNotFound,
    policy_error,
)
from mrs.accounts.models import Role, User, UserStatus
from mrs.accounts.sessions import changing_sessions, revoke_all
from mrs.audit import service as audit
from mrs.db.engine import Database
from mrs.settings import Settings

logger = logging.getLogger(__name__)

# Longest search text looked at: longer than any id, name or email column.
MAX_SEARCH_LENGTH = 100


async def new_user(
    *,
    user_id: str,
    password: str,
    email: str,
    first_name: str,
    last_name: str,
    role: Role,
    status: UserStatus,
    now: datetime,
    locale: str | None,
    allowed_domains: frozenset[str] = frozenset(),
) -> User:
    """A checked, not yet stored user; a broken rule names its own field.

    The one validation behind `create_user` and `register_user`. The password is hashed
    last, so a refused form costs no argon2 time.
    """
    checks = (
        ("user_id", rules.check_user_id, user_id),
        ("email", rules.check_email, email),
        ("first_name", rules.check_name, first_name),
        ("last_name", rules.check_name, last_name),
    )
    clean: dict[str, str] = {}
    for field, check, value in checks:
        try:
            clean[field] = check(value)
        except rules.PolicyViolation as violation:
            raise policy_error(violation, field) from violation
    try:
        rules.check_password(password, user_id=clean["user_id"], email=clean["email"])
    except rules.PolicyViolation as violation:
        raise policy_error(violation, "password") from violation
    if allowed_domains and not rules.domain_allowed(clean["email"], allowed_domains):
        raise EmailDomainNotAllowed(
            details={"field": "email"}, domains=", ".join(sorted(allowed_domains))
        )
    return User(
        user_id=clean["user_id"],
        password_hash=await passwords.hash_off_loop(password),
        email=clean["email"],
        first_name=clean["first_name"],
        last_name=clean["last_name"],
        role_name=role.value,
        status=status.value,
        created_at=now,
        locale=locale,
    )


async def insert_user(session: AsyncSession, user: User) -> None:
    """Add `user` in `session`; UserIdTaken or EmailTaken (regardless of case) if not free."""
    if await session.get(User, user.user_id) is not None:
        raise UserIdTaken(user_id=user.user_id)
    taken = await session.scalar(select(User.user_id).where(User.email == user.email))
    if taken is not None:
        raise EmailTaken()
    session.add(user)
    await session.flush()


def taken_error(exc: IntegrityError, user: User) -> EmailTaken | UserIdTaken:
    """Which uniqueness a racing insert lost on (the constraints decided, not our checks)."""
    return EmailTaken() if "email" in str(exc.orig) else UserIdTaken(user_id=user.user_id)


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
    """Create a user (CLI, tests, demo data); ids and emails are unique regardless of case."""
    user = await new_user(
        user_id=user_id,
        password=password,
        email=email,
        first_name=first_name,
        last_name=last_name,
        role=role,
        status=status,
        now=now,
        locale=locale,
    )
    try:
        async with db.transaction() as session:
            await insert_user(session, user)
    except IntegrityError as exc:
        raise taken_error(exc, user) from exc
    return user


def matching_search(search: str) -> list[ColumnElement[bool]]:
    """Users whose id, either name, the full name or email contains `search` (any case)."""
    term = " ".join(search.split())[:MAX_SEARCH_LENGTH].lower()
    if not term:
        return []
    columns = (
        User.user_id,
        User.email,
        User.first_name,
        User.last_name,
        User.last_name + " " + User.first_name,
        User.first_name + " " + User.last_name,
    )
    return [or_(*(func.lower(column).contains(term, autoescape=True) for column in columns))]


async def list_users(
    db: Database, *, search: str = "", offset: int = 0, limit: int | None = None
) -> list[User]:
    """Users by id, optionally only those matching `search`, one page at a time."""
    async with db.snapshot() as session:
        statement = select(User).where(*matching_search(search)).order_by(User.user_id)
        if limit is not None:
            statement = statement.offset(max(offset, 0)).limit(limit)
        return list((await session.scalars(statement)).all())


async def count_users(db: Database, *, search: str = "") -> int:
    """How many users `list_users` would list with no paging."""
    async with db.snapshot() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(User).where(*matching_search(search))
            )
            or 0
        )


# The attendees type-ahead offers at most this many people per query.
LOOKUP_LIMIT = 10


async def lookup_users(db: Database, *, query: str, limit: int = LOOKUP_LIMIT) -> list[User]:
    """Active users whose id, given or family name, full name (either order) or email
    starts with `query` (any case), by id: the attendees type-ahead."""
    term = " ".join(query.split())[:MAX_SEARCH_LENGTH].lower()
    if not term:
        return []
    columns = (
        User.user_id,
        User.email,
        User.first_name,
        User.last_name,
        User.last_name + " " + User.first_name,
        User.first_name + " " + User.last_name,
    )
    statement = (
        select(User)
        .where(
            User.status == UserStatus.ACTIVE.value,
            or_(*(func.lower(column).startswith(term, autoescape=True) for column in columns)),
        )
        .order_by(User.user_id)
        .limit(limit)
    )
    async with db.snapshot() as session:
        return list((await session.scalars(statement)).all())


async def get_user(db: Database, *, user_id: str) -> User | None:
    async with db.snapshot() as session:
        return await session.get(User, rules.normalize_user_id(user_id))


async def locked_user(session: AsyncSession, user_id: str) -> User:
    """The user, locked for this transaction; UserNotFound if there is none."""
    user = await session.scalar(
        select(User).where(User.user_id == rules.normalize_user_id(user_id)).with_for_update()
    )
    if user is None:
        raise UserNotFound(user_id=rules.normalize_user_id(user_id)[:64])
    return user


async def admin_addresses(session: AsyncSession, settings: Settings) -> list[str]:
    """Where mail for the administrators goes: the configured list, else every active admin."""
    configured = [a.strip() for a in settings.admin_notification_emails.split(",") if a.strip()]
    if configured:
        return configured
    rows = await session.scalars(
        select(User.email).where(
            User.role_name == Role.ADMIN.value, User.status == UserStatus.ACTIVE.value
        )
    )
    return list(rows.all())


async def _keep_an_admin(session: AsyncSession, user: User) -> None:
    """Refuse to take away `user`'s active administrator rights if nobody else has them.

    The other active admins are locked too, so two admins demoting each other at once
    cannot both succeed (SQLite serialises writers anyway)."""
    if user.role_name != Role.ADMIN or user.status != UserStatus.ACTIVE:
        return
    others = await session.scalars(
        select(User.user_id)
        .where(
            User.role_name == Role.ADMIN.value,
            User.status == UserStatus.ACTIVE.value,
            User.user_id != user.user_id,
        )
        .with_for_update()
    )
    if not others.all():
        raise LastAdministrator()


async def disable_user(db: Database, *, user_id: str, admin_id: str, now: datetime) -> User:
    """Disable an ACTIVE user: every session ends at once and login is refused."""
    async with changing_sessions(db, user_id=user_id) as session:
        user = await locked_user(session, user_id)
        if user.user_id == admin_id:
            raise CannotChangeOwnAccount()
        if user.status != UserStatus.ACTIVE:
            raise InvalidUserState(user_id=user.user_id, status=user.status)
        await _keep_an_admin(session, user)
        user.status = UserStatus.DISABLED.value
        ended = await revoke_all(session, user.user_id, now=now, reason="disabled")
        await audit.record(
            session,
            action="user.disable",
            subject_type="user",
            subject_id=user.user_id,
            before={"status": UserStatus.ACTIVE.value},
            after={"status": user.status, "sessions_ended": ended},
            actor_id=admin_id,
            at=now,
        )
    logger.info("user %s disabled by %s", user.user_id, admin_id)
    return user


async def enable_user(db: Database, *, user_id: str, admin_id: str, now: datetime) -> User:
    """Re-enable a DISABLED user."""
    async with db.transaction() as session:
        user = await locked_user(session, user_id)
        if user.status != UserStatus.DISABLED:
            raise InvalidUserState(user_id=user.user_id, status=user.status)
        user.status = UserStatus.ACTIVE.value
        await audit.record(
            session,
            action="user.enable",
            subject_type="user",
            subject_id=user.user_id,
            before={"status": UserStatus.DISABLED.value},
            after={"status": user.status},
            actor_id=admin_id,
            at=now,
        )
    logger.info("user %s enabled by %s at %s", user.user_id, admin_id, now.isoformat())
    return user


async def change_role(
    db: Database, *, user_id: str, role: Role, admin_id: str, now: datetime | None = None
) -> User:
    """Make a user an administrator or a plain user (never the last active administrator).

    Their sessions stay open; every process sees the new role at the next request.
    """
    async with changing_sessions(db, user_id=user_id) as session:
        user = await locked_user(session, user_id)
        if user.role_name == role:
            return user
        if role != Role.ADMIN:
            await _keep_an_admin(session, user)
        await audit.record(
            session,
            action="user.role",
            subject_type="user",
            subject_id=user.user_id,
            before={"role": user.role_name},
            after={"role": role.value},
            actor_id=admin_id,
            at=now,
        )
        user.role_name = role.value
    logger.info("user %s is now %s (by %s)", user.user_id, role.value, admin_id)
    return user


async def end_sessions(
    db: Database, *, user_id: str, now: datetime, admin_id: str | None = None
) -> int:
    """End every session of a user (an admin's "end sessions"); returns how many."""
    async with changing_sessions(db, user_id=user_id) as session:
        user = await locked_user(session, user_id)
        ended = await revoke_all(session, user.user_id, now=now, reason="ended_by_admin")
        await audit.record(
            session,
            action="user.end_sessions",
            subject_type="user",
            subject_id=user.user_id,
            after={"sessions_ended": ended},
            actor_id=admin_id,
            at=now,
        )
        return ended
