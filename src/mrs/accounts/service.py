"""Account use cases: creating users, logging in, resolving tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from mrs.accounts import passwords
from mrs.accounts.errors import (
    EmailTaken,
    InvalidCredentials,
    InvalidToken,
    UserIdTaken,
    WeakPassword,
)
from mrs.accounts.models import Role, User, UserStatus
from mrs.accounts.tokens import TokenClaims
from mrs.db.engine import Database


@dataclass(frozen=True)
class AuthenticatedUser:
    """The caller of a request, as the HTTP layer and services see it."""

    user_id: str
    role_name: str

    @property
    def is_admin(self) -> bool:
        return self.role_name == Role.ADMIN


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
) -> User:
    """Create a user; ids and emails are unique regardless of case."""
    if len(password) < passwords.MIN_PASSWORD_LENGTH:
        raise WeakPassword(min_length=passwords.MIN_PASSWORD_LENGTH)
    user = User(
        user_id=user_id.lower(),
        password_hash=passwords.hash_password(password),
        email=email.strip().lower(),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        role_name=role.value,
        status=status.value,
        created_at=now,
    )
    try:
        async with db.transaction() as session:
            if await session.get(User, user.user_id) is not None:
                raise UserIdTaken(user_id=user.user_id)
            taken = await session.scalar(select(User.user_id).where(User.email == user.email))
            if taken is not None:
                raise EmailTaken()
            session.add(user)
    except IntegrityError as exc:
        # Two registrations raced past the checks; the unique constraints decided.
        raise (
            UserIdTaken(user_id=user.user_id) if "email" not in str(exc.orig) else EmailTaken()
        ) from exc
    return user


async def authenticate(db: Database, *, user_id: str, password: str) -> User:
    """The ACTIVE user with these credentials, or InvalidCredentials."""
    async with db.snapshot() as session:
        user = await session.get(User, user_id.strip().lower())
    if user is None:
        passwords.burn_verification_time(password)
        raise InvalidCredentials()
    if not passwords.verify_password(user.password_hash, password):
        raise InvalidCredentials()
    if user.status != UserStatus.ACTIVE:
        raise InvalidCredentials()
    if passwords.needs_rehash(user.password_hash):
        async with db.transaction() as session:
            await session.execute(
                update(User)
                .where(User.user_id == user.user_id)
                .values(password_hash=passwords.hash_password(password))
            )
    return user


async def user_for_token(db: Database, *, claims: TokenClaims) -> AuthenticatedUser:
    """The active user a valid token speaks for; revoked or stale tokens are refused."""
    async with db.snapshot() as session:
        row = (
            await session.execute(
                select(User.user_id, User.role_name, User.status, User.tokens_valid_after).where(
                    User.user_id == claims.subject
                )
            )
        ).one_or_none()
    if row is None or row.status != UserStatus.ACTIVE:
        raise InvalidToken()
    if row.tokens_valid_after is not None and claims.issued_at < row.tokens_valid_after:
        raise InvalidToken()
    return AuthenticatedUser(user_id=row.user_id, role_name=row.role_name)


async def revoke_tokens(db: Database, *, user_id: str, now: datetime) -> None:
    """Invalidate every token issued to `user_id` before now."""
    async with db.transaction() as session:
        await session.execute(
            update(User).where(User.user_id == user_id).values(tokens_valid_after=now)
        )


async def list_users(db: Database) -> list[User]:
    async with db.snapshot() as session:
        return list((await session.scalars(select(User).order_by(User.user_id))).all())


async def get_user(db: Database, *, user_id: str) -> User | None:
    async with db.snapshot() as session:
        return await session.get(User, user_id)
