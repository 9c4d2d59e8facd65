"""The reservation table, and the series that recurring reservations belong to.

Times are minutes since local midnight (`start_minute`, `end_minute`), not SQL TIME: a
reservation may end at 24:00, which neither Python's `time` nor SQLite can hold, and
integer ranges make the PostgreSQL exclusion constraint simple
(`int4range(start_minute, end_minute)` is half-open, like our rule).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    FetchedValue,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from mrs.db.base import Base
from mrs.db.types import UTCDateTime


class ReservationStatus(enum.StrEnum):
    """A booking's state. ACTIVE and PENDING hold their slot (`SLOT_HOLDING`); the others
    are history: CANCELLED by a person, REJECTED by a room manager, RELEASED because nobody
    checked in by start + grace."""

    ACTIVE = "ACTIVE"
    PENDING = "PENDING"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"
    RELEASED = "RELEASED"


# The statuses that hold a slot: the exclusion constraint, the day index and every read of
# who has a room cover exactly these. The SQL spelling must stay textually equal to the
# index predicate so SQLite can use the partial index (migration 0018).
SLOT_HOLDING = (ReservationStatus.ACTIVE.value, ReservationStatus.PENDING.value)
SLOT_HOLDING_SQL = "status IN ('ACTIVE', 'PENDING')"


class Visibility(enum.StrEnum):
    """Who sees what a meeting is: PRIVATE shows others only "reserved" and the owner."""

    PUBLIC = "PUBLIC"
    PRIVATE = "PRIVATE"


class Reservation(Base):
    __tablename__ = "reservation"
    __table_args__ = (
        ForeignKeyConstraint(
            ["reserved_date", "room_id"],
            ["reservable_room.reserved_date", "reservable_room.room_id"],
            name="fk_reservation_reservable_room",
        ),
        CheckConstraint("end_minute > start_minute", name="end_after_start"),
        CheckConstraint("start_minute >= 0 AND end_minute <= 1440", name="within_day"),
        CheckConstraint(
            "status IN ('ACTIVE', 'PENDING', 'CANCELLED', 'REJECTED', 'RELEASED')",
            name="status",
        ),
        CheckConstraint("visibility IN ('PUBLIC', 'PRIVATE')", name="visibility"),
        CheckConstraint(
            "(series_id IS NULL) = (occurrence_date IS NULL)", name="occurrence_of_series"
        ),
        # One occurrence per series and rule date (a moved one keeps its rule date).
        UniqueConstraint("series_id", "occurrence_date"),
        Index("ix_reservation_room_day", "room_id", "reserved_date", "start_minute"),
        Index("ix_reservation_user_day", "user_id", "reserved_date", "start_minute"),
        # The slot-holding reservations of a day, room by room: the day timeline, the
        # free-room search and the rooms page (migrations 0011, 0018).
        Index(
            "ix_reservation_active_day",
            "reserved_date",
            "room_id",
            "start_minute",
            postgresql_where=text(SLOT_HOLDING_SQL),
            sqlite_where=text(SLOT_HOLDING_SQL),
        ),
        # Bookings waiting for a room manager's decision (migration 0018).
        Index(
            "ix_reservation_pending",
            "room_id",
            "reserved_date",
            "start_minute",
            postgresql_where=text("status = 'PENDING'"),
            sqlite_where=text("status = 'PENDING'"),
        ),
    )

    reservation_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    room_id: Mapped[int] = mapped_column(Integer)
    reserved_date: Mapped[date] = mapped_column(Date)
    start_minute: Mapped[int] = mapped_column(SmallInteger)
    end_minute: Mapped[int] = mapped_column(SmallInteger)
    user_id: Mapped[str] = mapped_column(ForeignKey("usr.user_id"))
    status: Mapped[str] = mapped_column(
        String(16), default=ReservationStatus.ACTIVE.value, server_default=text("'ACTIVE'")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(ForeignKey("usr.user_id"))
    # NULL: no title given; readers are shown the owner's name in their own language.
    title: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), server_default="")
    visibility: Mapped[str] = mapped_column(String(8), server_default=Visibility.PUBLIC.value)
    # Rises with every change; a reservation's ETag, so a stale edit can be refused.
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An occurrence of a series: the date its rule gave it (kept when it is moved), and
    # whether it was changed or cancelled on its own (a series edit then leaves it alone).
    series_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("reservation_series.series_id"),
    )
    occurrence_date: Mapped[date | None] = mapped_column(Date)
    is_exception: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # The meeting's UID in calendars (an occurrence appears under its series' UID): 32
    # random hex digits the database fills on every insert path (migration 0013).
    ical_uid: Mapped[str] = mapped_column(String(64), server_default=FetchedValue())
    # Who made the booking when it was not the owner: a delegate or an admin.
    booked_by: Mapped[str | None] = mapped_column(ForeignKey("usr.user_id"))
    # A room manager's decision on a PENDING booking, and the last reminder to decide.
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("usr.user_id"))
    decision_reason: Mapped[str | None] = mapped_column(String(500))
    approval_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Check-in in rooms that require it; RELEASED bookings say when they were released.
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_by: Mapped[str | None] = mapped_column(ForeignKey("usr.user_id"))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SeriesStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    CANCELLED = "CANCELLED"


class ReservationSeries(Base):
    """A recurring meeting: one room, one time of day, and the dates its `rule` gives.

    `rule` is the canonical text of an RFC 5545 RRULE subset (`recurrence.parse_rule`);
    times are local wall minutes like a reservation's, so 10:00 stays 10:00 when the
    clocks change. Its occurrences are `reservation` rows pointing here.
    """

    __tablename__ = "reservation_series"
    __table_args__ = (
        CheckConstraint("end_minute > start_minute", name="end_after_start"),
        CheckConstraint("start_minute >= 0 AND end_minute <= 1440", name="within_day"),
        CheckConstraint("status IN ('ACTIVE', 'CANCELLED')", name="status"),
        CheckConstraint("visibility IN ('PUBLIC', 'PRIVATE')", name="visibility"),
    )

    series_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    room_id: Mapped[int] = mapped_column(ForeignKey("meeting_room.room_id"))
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("usr.user_id"), index=True)
    title: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), server_default="")
    visibility: Mapped[str] = mapped_column(String(8), server_default=Visibility.PUBLIC.value)
    start_date: Mapped[date] = mapped_column(Date)
    start_minute: Mapped[int] = mapped_column(SmallInteger)
    end_minute: Mapped[int] = mapped_column(SmallInteger)
    rule: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), server_default=SeriesStatus.ACTIVE.value)
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The series' UID in calendars (one event with an RRULE), filled by the database.
    ical_uid: Mapped[str] = mapped_column(String(64), server_default=FetchedValue())


class SeriesAttendee(Base):
    """A user invited to a whole series (each occurrence copies them as its attendees)."""

    __tablename__ = "series_attendee"

    series_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("reservation_series.series_id", ondelete="CASCADE"),
        primary_key=True,
    )
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("usr.user_id"), primary_key=True)


class ReservationAttendee(Base):
    """A user invited to a meeting: they see it (even when private) and find it in "mine"."""

    __tablename__ = "reservation_attendee"
    __table_args__ = (Index("ix_reservation_attendee_user_id", "user_id", "reservation_id"),)

    reservation_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("reservation.reservation_id", ondelete="CASCADE"),
        primary_key=True,
    )
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("usr.user_id"), primary_key=True)


class IdempotencyKey(Base):
    """A client's `Idempotency-Key` on creating a reservation and the answer it got.

    Written in the transaction that creates the reservation, so a committed reservation
    always has its key and a refused request leaves none. Scoped per user: two users may
    pick the same key. Pruned once older than `MRS_IDEMPOTENCY_KEY_HOURS`.
    """

    __tablename__ = "idempotency_key"
    __table_args__ = (
        PrimaryKeyConstraint("user_id", "idem_key", name="pk_idempotency_key"),
        Index("ix_idempotency_key_created_at", "created_at"),
    )

    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("usr.user_id", ondelete="CASCADE"))
    idem_key: Mapped[str] = mapped_column(String(255))
    # SHA-256 (hex) of the request it was first used with: the same key with another
    # request is refused, never answered with the first one's result.
    fingerprint: Mapped[str] = mapped_column(String(64))
    reservation_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("reservation.reservation_id", ondelete="CASCADE"),
    )
    response_status: Mapped[int | None] = mapped_column(SmallInteger)
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChangeKind(enum.StrEnum):
    CREATED = "created"
    CHANGED = "changed"
    CANCELLED = "cancelled"


class ReservationChange(Base):
    """What happened to a reservation or a series, written in the change's transaction.

    Readers outside the request (the invitation mail job) take it from here, so nothing is
    said about a change that rolled back, and nothing slows the request. `details` is a
    JSON object (see `mrs.reservations.changes`).
    """

    __tablename__ = "reservation_change"
    __table_args__ = (
        CheckConstraint("kind IN ('created', 'changed', 'cancelled')", name="kind"),
        CheckConstraint("reservation_id IS NOT NULL OR series_id IS NOT NULL", name="subject"),
        Index(
            "ix_reservation_change_pending",
            "change_id",
            postgresql_where=text("notified_at IS NULL"),
            sqlite_where=text("notified_at IS NULL"),
        ),
    )

    change_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    reservation_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("reservation.reservation_id", ondelete="CASCADE"),
    )
    series_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("reservation_series.series_id", ondelete="CASCADE"),
    )
    # Who made the change (None: the system, e.g. a job).
    actor_id: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(500))
    details: Mapped[str] = mapped_column(Text, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the invitation job turned it into mail (None: not yet).
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReservationDelegate(Base):
    """A user the principal lets book, edit and cancel on their behalf (代理予約)."""

    __tablename__ = "reservation_delegate"
    __table_args__ = (
        CheckConstraint("principal_id <> delegate_id", name="other"),
        Index("ix_reservation_delegate_delegate_id", "delegate_id"),
    )

    principal_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("usr.user_id", ondelete="CASCADE"), primary_key=True
    )
    delegate_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("usr.user_id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
