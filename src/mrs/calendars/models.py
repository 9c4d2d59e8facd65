"""The calendars package's tables: mail preferences, feed tokens, reminders sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from mrs.db.base import Base
from mrs.db.types import UTCDateTime

# The reminder times a user may choose (minutes before the start); None is off.
REMINDER_CHOICES = (10, 15, 30, 60)


class MailPreference(Base):
    """Which kinds of mail a user wants. No row: the defaults (all mail, no reminder)."""

    __tablename__ = "mail_preference"
    __table_args__ = (
        CheckConstraint(
            "reminder_minutes IS NULL OR reminder_minutes IN (10, 15, 30, 60)",
            name="reminder_minutes",
        ),
        Index(
            "ix_mail_preference_reminder",
            "reminder_minutes",
            postgresql_where=text("reminder_minutes IS NOT NULL"),
            sqlite_where=text("reminder_minutes IS NOT NULL"),
        ),
    )

    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("usr.user_id", ondelete="CASCADE"), primary_key=True
    )
    # Mail about meetings the user owns (created, changed, cancelled by themselves). Mail
    # about what an administrator did to them is always sent.
    own_bookings: Mapped[bool] = mapped_column(Boolean, server_default=true())
    # Mail about meetings the user is invited to.
    invitations: Mapped[bool] = mapped_column(Boolean, server_default=true())
    reminder_minutes: Mapped[int | None] = mapped_column(SmallInteger)


class CalendarFeed(Base):
    """A user's secret feed token, stored as its SHA-256; deleting the row revokes it."""

    __tablename__ = "calendar_feed"

    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("usr.user_id", ondelete="CASCADE"), primary_key=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReminderSent(Base):
    """A reminder that went (into the outbox) for one meeting, person and start time.

    The primary key makes a second process's attempt fail, so each goes once; a meeting
    moved to another time gets a reminder for its new start.
    """

    __tablename__ = "reminder_sent"
    __table_args__ = (Index("ix_reminder_sent_sent_at", "sent_at"),)

    reservation_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("reservation.reservation_id", ondelete="CASCADE"),
        primary_key=True,
    )
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("usr.user_id", ondelete="CASCADE"), primary_key=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
