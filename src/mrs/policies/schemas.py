"""Request and response shapes of the policy and quota routes."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mrs.policies.rules import Quota

# The schema's limits (the columns are INTEGER; these keep them sensible).
MAX_MINUTES = 24 * 60
MAX_DAYS_AHEAD = 3660
MAX_NOTICE_MINUTES = 60 * 24 * 366
MAX_GRACE_MINUTES = 24 * 60
MAX_FUTURE_RESERVATIONS = 100_000
MAX_HOURS_PER_WEEK = 7 * 24
MAX_GROUPS = 100

RoleName = Literal["USER", "ADMIN"]


class PolicyLimits(BaseModel):
    """A room's limits; null: the site default."""

    max_minutes: int | None = Field(
        default=None, ge=1, le=MAX_MINUTES, description="Longest booking, in minutes."
    )
    max_days_ahead: int | None = Field(
        default=None,
        ge=0,
        le=MAX_DAYS_AHEAD,
        description="How many days ahead a booking may be (0: today only).",
    )
    min_notice_minutes: int | None = Field(
        default=None,
        ge=0,
        le=MAX_NOTICE_MINUTES,
        description="How many minutes before its start a booking must be made.",
    )


class RoomPolicyWrite(PolicyLimits):
    """A room's whole policy (what is left out is the site default or off)."""

    model_config = ConfigDict(extra="forbid")

    allowed_roles: list[RoleName] = Field(
        default_factory=list,
        max_length=2,
        description="Roles that may book (with allowed_group_ids; both empty: everyone).",
    )
    allowed_group_ids: list[int] = Field(
        default_factory=list,
        max_length=MAX_GROUPS,
        description="Groups whose members may book.",
    )
    approval_required: bool = Field(
        default=False,
        description="Bookings by users other than administrators and the room's managers "
        "wait PENDING for a manager's approval.",
    )
    checkin_required: bool = Field(
        default=False,
        description="Someone must check in from shortly before the start until start + "
        "grace, or the booking is RELEASED and the room is free again.",
    )
    checkin_grace_minutes: int | None = Field(
        default=None,
        ge=0,
        le=MAX_GRACE_MINUTES,
        description="Minutes after the start within which to check in (empty: the site "
        "default, MRS_POLICY_CHECKIN_GRACE_MINUTES).",
    )

    @field_validator("allowed_group_ids")
    @classmethod
    def _group_ids(cls, value: list[int]) -> list[int]:
        if any(not 1 <= each <= 2**62 for each in value):
            raise ValueError("Group ids are positive whole numbers.")
        return sorted(set(value))

    @field_validator("allowed_roles")
    @classmethod
    def _roles(cls, value: list[str]) -> list[str]:
        return sorted(set(value))


class EffectiveLimits(BaseModel):
    """The limits in force (the room's value, else the site default); null: no limit."""

    max_minutes: int | None
    max_days_ahead: int | None
    min_notice_minutes: int


class RoomPolicyRead(RoomPolicyWrite):
    room_id: int
    effective: EffectiveLimits


class QuotaWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_future_reservations: int | None = Field(
        default=None, ge=0, le=MAX_FUTURE_RESERVATIONS, description="Reservations to come."
    )
    max_hours_per_week: int | None = Field(
        default=None, ge=0, le=MAX_HOURS_PER_WEEK, description="Booked hours per ISO week."
    )


class GroupQuotaRead(QuotaWrite):
    """A group's quota (null: the site default); `has_quota` false: the group has none."""

    group_id: int
    has_quota: bool


class UserQuotaWrite(QuotaWrite):
    """An override (null: no limit for this user), with why."""

    reason: str = Field(min_length=1, max_length=500)

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("Say why this user's quota is changed.")
        return value


class QuotaLimits(QuotaWrite):
    """Limits in force; null: no limit."""

    @classmethod
    def of(cls, quota: Quota) -> QuotaLimits:
        return cls(
            max_future_reservations=quota.max_future_reservations,
            max_hours_per_week=quota.max_hours_per_week,
        )


class UserQuotaRead(BaseModel):
    user_id: str
    override: UserQuotaWrite | None
    effective: QuotaLimits


class QuotaUsage(BaseModel):
    future_reservations: int
    week_start: date
    hours_this_week: float


class MyQuotaRead(BaseModel):
    limits: QuotaLimits
    usage: QuotaUsage
