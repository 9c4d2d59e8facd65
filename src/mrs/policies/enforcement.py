"""Checking a booking against the room's policy and the user's quota.

Every booking door calls `judge_booking` before it writes: one read gives the user's
role, the room's policy and the user's quota (room value, else site default), the pure
rules (`mrs.policies.rules`) judge it, and administrators are not bound. When a quota
applies, the caller writes in a transaction that first holds it
(`mrs.reservations.quota_usage.hold_quota`: lock the user's row, count, then insert).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    Table,
    bindparam,
    exists,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from mrs.accounts.models import User, UserGroupMember
from mrs.db.engine import Database
from mrs.errors import InvalidInput
from mrs.policies import rules
from mrs.policies.models import GroupQuota, RoomPolicy, RoomPolicyGroup, UserQuotaOverride
from mrs.policies.rules import Limits, Quota, Slot
from mrs.rooms.models import RoomManager
from mrs.settings import Settings

usr: Table = User.__table__  # type: ignore[assignment]
member: Table = UserGroupMember.__table__  # type: ignore[assignment]
room_policy: Table = RoomPolicy.__table__  # type: ignore[assignment]
room_policy_group: Table = RoomPolicyGroup.__table__  # type: ignore[assignment]
group_quota: Table = GroupQuota.__table__  # type: ignore[assignment]
override: Table = UserQuotaOverride.__table__  # type: ignore[assignment]
room_manager: Table = RoomManager.__table__  # type: ignore[assignment]

_USER = bindparam("user_id", type_=String())
_ROOM = bindparam("room_id", type_=Integer())


def site_limits(settings: Settings) -> Limits:
    """The site-wide policy (MRS_POLICY_*)."""
    return Limits(
        max_minutes=settings.policy_max_minutes,
        max_days_ahead=settings.policy_max_days_ahead,
        min_notice_minutes=settings.policy_min_notice_minutes,
    )


def site_quota(settings: Settings) -> Quota:
    return Quota(
        max_future_reservations=settings.policy_max_future_reservations,
        max_hours_per_week=settings.policy_max_hours_per_week,
    )


def effective_limits(
    settings: Settings,
    *,
    max_minutes: int | None = None,
    max_days_ahead: int | None = None,
    min_notice_minutes: int | None = None,
    roles: frozenset[str] = frozenset(),
    names_groups: bool = False,
) -> Limits:
    """The policy in force for a room: each of the room's values, else the site default."""
    site = site_limits(settings)
    return Limits(
        max_minutes=site.max_minutes if max_minutes is None else max_minutes,
        max_days_ahead=site.max_days_ahead if max_days_ahead is None else max_days_ahead,
        min_notice_minutes=site.min_notice_minutes
        if min_notice_minutes is None
        else min_notice_minutes,
        roles=roles,
        names_groups=names_groups,
    )


def _group_quota_figures() -> list[Any]:
    """Scalar subqueries over the quotas of the user's groups: how many groups have one,
    and per limit how many leave it at the site default (NULL) and the largest."""
    mine = group_quota.join(member, member.c.group_id == group_quota.c.group_id)

    def scalar(column: Any, *where: Any) -> Any:
        return select(column).select_from(mine).where(member.c.user_id == _USER, *where)

    figures = [scalar(func.count()).scalar_subquery().label("group_quotas")]
    for name in ("max_future_reservations", "max_hours_per_week"):
        column = group_quota.c[name]
        figures.append(
            scalar(func.count(), column.is_(None)).scalar_subquery().label(f"g_{name}_default")
        )
        figures.append(scalar(func.max(column)).scalar_subquery().label(f"g_{name}"))
    return figures


@cache
def standing_statement() -> Any:
    """One row: the user's role, the room's policy (NULLs without one), whether the room
    names groups and the user is in one of them, and the user's quota figures."""
    room_groups = select(room_policy_group.c.group_id).where(room_policy_group.c.room_id == _ROOM)
    in_named_group = exists(
        select(literal_column("1"))
        .select_from(member)
        .where(member.c.user_id == _USER, member.c.group_id.in_(room_groups))
    )
    return (
        select(
            usr.c.role_name,
            room_policy.c.max_minutes,
            room_policy.c.max_days_ahead,
            room_policy.c.min_notice_minutes,
            room_policy.c.allowed_roles,
            room_policy.c.approval_required,
            exists(
                select(literal_column("1"))
                .select_from(room_manager)
                .where(room_manager.c.room_id == _ROOM, room_manager.c.user_id == _USER)
            ).label("manages_room"),
            exists(room_groups).label("names_groups"),
            in_named_group.label("in_named_group"),
            override.c.user_id.label("override_user_id"),
            override.c.max_future_reservations.label("o_max_future_reservations"),
            override.c.max_hours_per_week.label("o_max_hours_per_week"),
            *_group_quota_figures(),
        )
        .select_from(
            usr.outerjoin(room_policy, room_policy.c.room_id == _ROOM).outerjoin(
                override, override.c.user_id == usr.c.user_id
            )
        )
        .where(usr.c.user_id == _USER)
    )


def quota_from(settings: Settings, row: Any) -> Quota:
    """The quota in force for the user of a `standing_statement` row."""
    return rules.resolve_quota(
        site_quota(settings),
        override=Quota(row.o_max_future_reservations, row.o_max_hours_per_week)
        if row.override_user_id is not None
        else None,
        groups=(
            rules.GroupLimit(
                bool(row.g_max_future_reservations_default), row.g_max_future_reservations
            ),
            rules.GroupLimit(bool(row.g_max_hours_per_week_default), row.g_max_hours_per_week),
        )
        if row.group_quotas
        else None,
    )


@dataclass(frozen=True)
class Standing:
    """What one user may do in one room: admins are not bound by either.
    `needs_approval`: the room requires approval and the user neither is an admin nor
    manages the room, so their bookings wait as PENDING."""

    role: str
    limits: Limits
    in_named_group: bool
    quota: Quota
    needs_approval: bool = False


async def standing(
    db: Database,
    *,
    settings: Settings,
    user_id: str,
    room_id: int,
    session: AsyncSession | None = None,
) -> Standing:
    """The user's standing in the room, read in one statement (in `session` when given)."""
    params = {"user_id": user_id, "room_id": room_id}
    if session is None:
        rows = await db.read(standing_statement(), params)
    else:
        rows = (await session.execute(standing_statement(), params)).all()
    if not rows:  # no such user (deleted meanwhile): bound like anyone, never an admin
        return Standing("USER", site_limits(settings), False, site_quota(settings))
    row = rows[0]
    return Standing(
        role=row.role_name,
        limits=effective_limits(
            settings,
            max_minutes=row.max_minutes,
            max_days_ahead=row.max_days_ahead,
            min_notice_minutes=row.min_notice_minutes,
            roles=rules.parse_roles(row.allowed_roles),
            names_groups=bool(row.names_groups),
        ),
        in_named_group=bool(row.in_named_group),
        quota=quota_from(settings, row),
        needs_approval=bool(row.approval_required)
        and row.role_name != rules.ADMIN_ROLE
        and not row.manages_room,
    )


@dataclass(frozen=True)
class Verdict:
    """A booking the policy allows: the quota to hold (None: none applies) and whether it
    waits for a room manager's approval (PENDING)."""

    quota: Quota | None
    pending: bool


async def judge_booking(
    db: Database,
    *,
    settings: Settings,
    user_id: str,
    room_id: int,
    slots: Sequence[Slot],
    now: datetime,
    session: AsyncSession | None = None,
) -> Verdict:
    """Refuse the booking of `slots` in the room when the policy forbids it (the refusal
    names the rule). The quota the caller must then hold (`hold_quota`) in its writing
    transaction, or None when none applies (an admin, or no limit): the fast path."""
    found = await standing(db, settings=settings, user_id=user_id, room_id=room_id, session=session)
    if found.role == rules.ADMIN_ROLE:
        return Verdict(None, pending=False)
    rules.check_policy(
        found.limits,
        slots,
        role=found.role,
        in_named_group=found.in_named_group,
        now=now,
        tz=settings.tz,
    )
    return Verdict(found.quota if found.quota.applies else None, pending=found.needs_approval)


def ungoverned(room_id: Any, user_id: Any) -> Any:
    """SQL: no room policy and no user quota (override or group) govern this booking,
    so the site-wide limits (checked beforehand, `site_allows`) are all there is."""
    one: Any = literal_column("1")
    return ~or_(
        exists(select(one).select_from(room_policy).where(room_policy.c.room_id == room_id)),
        exists(select(one).select_from(override).where(override.c.user_id == user_id)),
        exists(
            select(one)
            .select_from(group_quota.join(member, member.c.group_id == group_quota.c.group_id))
            .where(member.c.user_id == user_id)
        ),
    )


def site_allows(settings: Settings, slots: Sequence[Slot], *, now: datetime) -> bool:
    """Whether the booking passes the site-wide limits and no site quota applies (pure):
    then an `ungoverned` booking needs no other check."""
    if site_quota(settings).applies:
        return False
    try:
        rules.check_policy(
            site_limits(settings),
            slots,
            role="USER",
            in_named_group=False,
            now=now,
            tz=settings.tz,
        )
    except InvalidInput:
        return False
    return True
