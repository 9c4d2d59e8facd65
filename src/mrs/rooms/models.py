"""Room tables."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from mrs.db.base import Base
from mrs.db.types import UTCDateTime


class MeetingRoom(Base):
    __tablename__ = "meeting_room"
    __table_args__ = (
        CheckConstraint(
            "capacity IS NULL OR (capacity >= 1 AND capacity <= 10000)", name="capacity"
        ),
    )

    room_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    room_name: Mapped[str] = mapped_column(String(100), unique=True)
    capacity: Mapped[int | None] = mapped_column(Integer)
    location: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    description: Mapped[str] = mapped_column(String(2000), server_default="")
    # The opening rule (migration 0010). ISO weekdays the room opens on, as digits
    # ("12345" = Monday to Friday); the bookable hours as minutes since local midnight
    # (a booking must lie within them); whether the daily job opens its dates ahead;
    # whether public holidays stay closed.
    open_weekdays: Mapped[str] = mapped_column(String(7), server_default="1234567")
    open_minute: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    close_minute: Mapped[int] = mapped_column(SmallInteger, server_default="1440")
    auto_open: Mapped[bool] = mapped_column(Boolean, server_default=false())
    closed_on_holidays: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # An administrator publishes this room's calendar feed (GET /calendar/{token}/rooms/{id}.ics).
    has_feed: Mapped[bool] = mapped_column(Boolean, server_default=false())


class Equipment(Base):
    """A tag from the admin-managed list of what rooms offer (projector, whiteboard, …)."""

    __tablename__ = "equipment"

    equipment_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_en: Mapped[str] = mapped_column(String(100))
    name_ja: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def name(self, locale: str) -> str:
        """The tag's name in the reader's language."""
        return self.name_ja if locale == "ja" else self.name_en


class RoomEquipment(Base):
    """What a room offers."""

    __tablename__ = "room_equipment"

    room_id: Mapped[int] = mapped_column(
        ForeignKey("meeting_room.room_id", ondelete="CASCADE"), primary_key=True
    )
    equipment_code: Mapped[str] = mapped_column(
        ForeignKey("equipment.equipment_code", ondelete="CASCADE"), primary_key=True, index=True
    )


class RoomManager(Base):
    """A user who approves or rejects bookings of a room that requires approval (admins
    always may)."""

    __tablename__ = "room_manager"

    room_id: Mapped[int] = mapped_column(
        ForeignKey("meeting_room.room_id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("usr.user_id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ReservableRoom(Base):
    """A room opened for reservation on one date.

    Closing a date sets `is_open` to false instead of deleting the row: cancelled
    reservations keep referring to it (the history is never deleted).
    """

    __tablename__ = "reservable_room"

    reserved_date: Mapped[date] = mapped_column(Date, primary_key=True)
    room_id: Mapped[int] = mapped_column(
        ForeignKey("meeting_room.room_id"), primary_key=True, index=True
    )
    is_open: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class ClosureDay(Base):
    """A date on which every room stays closed (company holidays, 年末年始)."""

    __tablename__ = "closure_day"

    closure_date: Mapped[date] = mapped_column(Date, primary_key=True)
    label: Mapped[str] = mapped_column(String(100))
    created_by: Mapped[str | None] = mapped_column(ForeignKey("usr.user_id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
