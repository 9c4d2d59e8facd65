"""The mail outbox: every message is stored first and sent later, so none is lost."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mrs.db.base import Base
from mrs.db.types import UTCDateTime


class MailState(enum.StrEnum):
    PENDING = "PENDING"  # waiting for its first or next attempt
    SENDING = "SENDING"  # claimed by a worker until `lease_until`
    SENT = "SENT"
    FAILED = "FAILED"  # gave up after the maximum number of attempts


class OutboxMail(Base):
    """One message to one recipient."""

    __tablename__ = "mail_outbox"
    __table_args__ = (
        CheckConstraint("state IN ('PENDING', 'SENDING', 'SENT', 'FAILED')", name="state"),
        Index("ix_mail_outbox_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_mail_outbox_recipient_created_at", "recipient", "created_at"),
    )

    mail_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=MailState.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # Attempts whose DATA was sent without a final answer: the server may have the message.
    unclear_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # An HTML alternative of `body`, and an iCalendar part (text/calendar; method=...).
    html_body: Mapped[str | None] = mapped_column(Text)
    calendar: Mapped[str | None] = mapped_column(Text)
    calendar_method: Mapped[str | None] = mapped_column(String(16))
