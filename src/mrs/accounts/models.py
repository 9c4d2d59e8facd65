"""Account tables."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, String
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
    tokens_valid_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
