"""The policy tables (migration 0016)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from mrs.db.base import Base
from mrs.db.types import UTCDateTime

_GROUP_ID = BigInteger().with_variant(Integer(), "sqlite")


class RoomPolicy(Base):
    """A room's departures from the site-wide policy; a NULL limit is the site default."""

    __tablename__ = "room_policy"
    __table_args__ = (
        CheckConstraint("max_minutes > 0", name="max_minutes"),
        CheckConstraint("max_days_ahead >= 0", name="max_days_ahead"),
        CheckConstraint("min_notice_minutes >= 0", name="min_notice_minutes"),
        CheckConstraint("checkin_grace_minutes >= 0", name="checkin_grace"),
    )

    room_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("meeting_room.room_id", ondelete="CASCADE"), primary_key=True
    )
    max_minutes: Mapped[int | None] = mapped_column(Integer)
    max_days_ahead: Mapped[int | None] = mapped_column(Integer)
    min_notice_minutes: Mapped[int | None] = mapped_column(Integer)
    # Comma-separated role names (e.g. "ADMIN,USER"); NULL: every role.
    allowed_roles: Mapped[str | None] = mapped_column(String(64))
    approval_required: Mapped[bool] = mapped_column(Boolean, server_default=false())
    checkin_required: Mapped[bool] = mapped_column(Boolean, server_default=false())
    checkin_grace_minutes: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str | None] = mapped_column(String(32))


class RoomPolicyGroup(Base):
    """A group whose members may book the room (beside the roles the policy allows)."""

    __tablename__ = "room_policy_group"

    room_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("room_policy.room_id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[int] = mapped_column(
        _GROUP_ID, ForeignKey("user_group.group_id", ondelete="CASCADE"), primary_key=True
    )


class GroupQuota(Base):
    """A group's booking limits; NULL: the site default."""

    __tablename__ = "group_quota"
    __table_args__ = (
        CheckConstraint("max_future_reservations >= 0", name="max_future"),
        CheckConstraint("max_hours_per_week >= 0", name="max_hours"),
    )

    group_id: Mapped[int] = mapped_column(
        _GROUP_ID, ForeignKey("user_group.group_id", ondelete="CASCADE"), primary_key=True
    )
    max_future_reservations: Mapped[int | None] = mapped_column(Integer)
    max_hours_per_week: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UserQuotaOverride(Base):
    """An admin's override of one user's limits, with the reason (NULL: no limit)."""

    __tablename__ = "user_quota_override"
    __table_args__ = (
        CheckConstraint("max_future_reservations >= 0", name="max_future"),
        CheckConstraint("max_hours_per_week >= 0", name="max_hours"),
        CheckConstraint("length(reason) > 0", name="reason"),
    )

    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("usr.user_id", ondelete="CASCADE"), primary_key=True
    )
    max_future_reservations: Mapped[int | None] = mapped_column(Integer)
    max_hours_per_week: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(500))
    set_by: Mapped[str | None] = mapped_column(String(32))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime)
