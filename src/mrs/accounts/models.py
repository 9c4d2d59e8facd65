"""Account tables."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mrs.db.base import Base
from mrs.db.types import UTCDateTime


class Role(enum.StrEnum):
    USER = "USER"
    ADMIN = "ADMIN"


class UserStatus(enum.StrEnum):
    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    REJECTED = "REJECTED"
    DISABLED = "DISABLED"


class User(Base):
    """A person who can log in (once ACTIVE)."""

    __tablename__ = "usr"
    __table_args__ = (
        CheckConstraint("role_name IN ('USER', 'ADMIN')", name="role_name"),
        CheckConstraint("status IN ('PENDING', 'ACTIVE', 'REJECTED', 'DISABLED')", name="status"),
    )

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    # Stored lower-cased so uniqueness ignores case on every dialect.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role_name: Mapped[str] = mapped_column(String(16), default=Role.USER.value)
    status: Mapped[str] = mapped_column(String(16), default=UserStatus.ACTIVE.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(32))
    # Kept for the migration history; sessions (UserSession) now decide token validity.
    tokens_valid_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(String(500))
    # The language the user registered in; their notification mails use it.
    locale: Mapped[str | None] = mapped_column(String(8))


class UserSession(Base):
    """One login: the JWT's `sid` names it; revoking the row ends the token at once."""

    __tablename__ = "user_session"
    __table_args__ = (Index("ix_user_session_user_id", "user_id", "revoked_at"),)

    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("usr.user_id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(32))
    client_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))


class LoginOutcome(enum.StrEnum):
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"  # wrong user id or password: counts towards throttling
    REFUSED = "REFUSED"  # right password, but the account is not ACTIVE
    THROTTLED = "THROTTLED"
    # Admitted, its password still being checked: counts as a failure until settled (one
    # left behind by a process that died stays counted as one).
    CHECKING = "CHECKING"


class LoginAttempt(Base):
    """Every login attempt: the throttling counters (shared by all processes) and statistics."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        CheckConstraint(
            "outcome IN ('SUCCEEDED', 'FAILED', 'REFUSED', 'THROTTLED', 'CHECKING')",
            name="outcome",
        ),
        Index("ix_login_attempt_account_key", "account_key", "attempted_at"),
        Index("ix_login_attempt_client_address", "client_address", "attempted_at"),
        Index("ix_login_attempt_attempted_at", "attempted_at"),
    )

    attempt_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The user id as typed (lower-cased), whether or not such a user exists.
    account_key: Mapped[str] = mapped_column(String(64))
    client_address: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))


class RegistrationOutcome(enum.StrEnum):
    SUBMITTED = "SUBMITTED"
    INVALID = "INVALID"  # a field failed validation
    DUPLICATE = "DUPLICATE"  # user id or email already taken


class RegistrationAttempt(Base):
    """The registration log: the plan's "self-registration success rate" is read from it."""

    __tablename__ = "registration_attempt"
    __table_args__ = (
        CheckConstraint("outcome IN ('SUBMITTED', 'INVALID', 'DUPLICATE')", name="outcome"),
        Index("ix_registration_attempt_attempted_at", "attempted_at"),
        Index("ix_registration_attempt_client_address", "client_address", "attempted_at"),
        Index("ix_registration_attempt_email_domain", "email_domain", "attempted_at"),
    )

    attempt_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str | None] = mapped_column(String(32))
    # The registration throttle counts attempts per address and per email domain.
    client_address: Mapped[str | None] = mapped_column(String(64))
    email_domain: Mapped[str | None] = mapped_column(String(254))


class ThrottleKey(Base):
    """One row per throttled key (an account, an address, an email domain).

    Admitting an attempt locks the key's row first, so parallel attempts on one key are
    counted one after the other: each sees the attempts admitted before it, in every
    process and on every host.
    """

    __tablename__ = "throttle_key"

    throttle_key: Mapped[str] = mapped_column(String(320), primary_key=True)
    touched_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UserGroup(Base):
    """A group (department) of users, for permissions and reports."""

    __tablename__ = "user_group"

    group_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    name: Mapped[str] = mapped_column(String(100))
    # The name case-folded: unique, so "Sales" and "SALES" cannot both exist on any dialect
    # (SQLite's lower() folds ASCII only, so the key is computed in Python).
    name_key: Mapped[str] = mapped_column(String(400), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UserGroupMember(Base):
    """One user's membership of one group."""

    __tablename__ = "user_group_member"

    group_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("user_group.group_id", ondelete="CASCADE"),
        primary_key=True,
    )
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("usr.user_id", ondelete="CASCADE"), primary_key=True, index=True
    )


class PasswordResetToken(Base):
    """A password-reset link sent by mail: only the SHA-256 of its secret is kept, so the
    table cannot be read for working links. Used once (`used_at`); a newer link for the
    user ends the older unused ones (`superseded_at`); valid until `expires_at`."""

    __tablename__ = "password_reset_token"
    __table_args__ = (Index("ix_password_reset_token_user_id", "user_id", "used_at"),)

    token_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("usr.user_id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The administrator who sent it; NULL when the user asked for it.
    requested_by: Mapped[str | None] = mapped_column(String(32))


class PasswordResetRequest(Base):
    """Every "forgot password" request, whether or not the account exists: the reset
    throttle counts them per client address and per account key (the id or email typed)."""

    __tablename__ = "password_reset_request"
    __table_args__ = (
        Index("ix_password_reset_request_client_address", "client_address", "requested_at"),
        Index("ix_password_reset_request_account_key", "account_key", "requested_at"),
    )

    request_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    client_address: Mapped[str] = mapped_column(String(64))
    account_key: Mapped[str] = mapped_column(String(320))
