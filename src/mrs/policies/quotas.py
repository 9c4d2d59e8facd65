"""Quotas: a group's limits, an administrator's override for one user (with a reason),
and what a user's limits and usage are now. Every change is audited in its transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from mrs.accounts.errors import GroupNotFound, UserNotFound
from mrs.accounts.models import User, UserGroup
from mrs.audit import service as audit
from mrs.db.engine import Database
from mrs.policies import enforcement
from mrs.policies.models import GroupQuota, UserQuotaOverride
from mrs.policies.rules import Quota
from mrs.settings import Settings


@dataclass(frozen=True)
class GroupQuotaView:
    group_id: int
    quota: Quota | None  # None: the group has no quota (its members get the site default)


@dataclass(frozen=True)
class Override:
    quota: Quota
    reason: str
    set_by: str | None
    set_at: datetime


@dataclass(frozen=True)
class UserQuotaView:
    user_id: str
    override: Override | None
    effective: Quota


def _figures(quota: Quota | None) -> dict[str, Any] | None:
    if quota is None:
        return None
    return {
        "max_future_reservations": quota.max_future_reservations,
        "max_hours_per_week": quota.max_hours_per_week,
    }


async def _require_group(session: AsyncSession, group_id: int, *, lock: bool = False) -> None:
    statement = select(UserGroup.group_id).where(UserGroup.group_id == group_id)
    if await session.scalar(statement.with_for_update() if lock else statement) is None:
        raise GroupNotFound(group_id=group_id)


async def _require_user(session: AsyncSession, user_id: str) -> None:
    if await session.get(User, user_id) is None:
        raise UserNotFound(user_id=user_id)


async def get_group_quota(db: Database, *, group_id: int) -> GroupQuotaView:
    """The group's quota (None when it has none); GroupNotFound if no such group."""
    async with db.snapshot() as session:
        await _require_group(session, group_id)
        row = await session.get(GroupQuota, group_id)
    quota = None if row is None else Quota(row.max_future_reservations, row.max_hours_per_week)
    return GroupQuotaView(group_id=group_id, quota=quota)


async def list_group_quotas(db: Database) -> dict[int, Quota]:
    """Every group's quota, by group id (groups without one are left out)."""
    async with db.snapshot() as session:
        rows = (await session.scalars(select(GroupQuota))).all()
    return {
        int(row.group_id): Quota(row.max_future_reservations, row.max_hours_per_week)
        for row in rows
    }


async def set_group_quota(
    db: Database, *, group_id: int, quota: Quota, actor_id: str, now: datetime
) -> GroupQuotaView:
    """Give the group this quota (a None limit: the site default), audited."""
    async with db.transaction() as session:
        await _require_group(session, group_id, lock=True)
        row = await session.get(GroupQuota, group_id)
        before = None if row is None else Quota(row.max_future_reservations, row.max_hours_per_week)
        if row is None:
            row = GroupQuota(group_id=group_id)
            session.add(row)
        row.max_future_reservations = quota.max_future_reservations
        row.max_hours_per_week = quota.max_hours_per_week
        row.updated_at = now
        if before != quota:
            await audit.record(
                session,
                action="group.quota",
                subject_type="group",
                subject_id=group_id,
                before=_figures(before),
                after=_figures(quota),
                actor_id=actor_id,
                at=now,
            )
    return GroupQuotaView(group_id=group_id, quota=quota)


async def _override(session: AsyncSession, user_id: str) -> Override | None:
    row = await session.get(UserQuotaOverride, user_id)
    if row is None:
        return None
    return Override(
        quota=Quota(row.max_future_reservations, row.max_hours_per_week),
        reason=row.reason,
        set_by=row.set_by,
        set_at=row.set_at,
    )


async def quota_of(db: Database, *, settings: Settings, user_id: str) -> Quota:
    """The quota in force for the user (override, else groups, else the site default)."""
    found = await enforcement.standing(db, settings=settings, user_id=user_id, room_id=0)
    return found.quota


async def get_user_quota(db: Database, *, settings: Settings, user_id: str) -> UserQuotaView:
    """The user's override (if any) and the quota in force; UserNotFound if no such user."""
    async with db.snapshot() as session:
        await _require_user(session, user_id)
        override = await _override(session, user_id)
    return UserQuotaView(
        user_id=user_id,
        override=override,
        effective=await quota_of(db, settings=settings, user_id=user_id),
    )


async def list_overrides(db: Database) -> dict[str, Override]:
    """Every user override, by user id."""
    async with db.snapshot() as session:
        rows = (
            await session.scalars(select(UserQuotaOverride).order_by(UserQuotaOverride.user_id))
        ).all()
    return {
        row.user_id: Override(
            quota=Quota(row.max_future_reservations, row.max_hours_per_week),
            reason=row.reason,
            set_by=row.set_by,
            set_at=row.set_at,
        )
        for row in rows
    }


async def set_user_quota(
    db: Database,
    *,
    settings: Settings,
    user_id: str,
    quota: Quota,
    reason: str,
    actor_id: str,
    now: datetime,
) -> UserQuotaView:
    """Override the user's quota (a None limit: no limit), with the reason; audited."""
    async with db.transaction() as session:
        await _require_user(session, user_id)
        before = await _override(session, user_id)
        row = await session.get(UserQuotaOverride, user_id)
        if row is None:
            row = UserQuotaOverride(user_id=user_id)
            session.add(row)
        row.max_future_reservations = quota.max_future_reservations
        row.max_hours_per_week = quota.max_hours_per_week
        row.reason = reason
        row.set_by = actor_id
        row.set_at = now
        await audit.record(
            session,
            action="user.quota",
            subject_type="user",
            subject_id=user_id,
            before=None
            if before is None
            else {**(_figures(before.quota) or {}), "reason": before.reason},
            after={**(_figures(quota) or {}), "reason": reason},
            actor_id=actor_id,
            at=now,
        )
    return await get_user_quota(db, settings=settings, user_id=user_id)


async def delete_user_quota(
    db: Database, *, settings: Settings, user_id: str, actor_id: str, now: datetime
) -> UserQuotaView:
    """Remove the user's override (the groups' or the site's quota applies again); audited."""
    async with db.transaction() as session:
        await _require_user(session, user_id)
        before = await _override(session, user_id)
        if before is not None:
            await session.execute(
                delete(UserQuotaOverride).where(UserQuotaOverride.user_id == user_id)
            )
            await audit.record(
                session,
                action="user.quota.delete",
                subject_type="user",
                subject_id=user_id,
                before={**(_figures(before.quota) or {}), "reason": before.reason},
                actor_id=actor_id,
                at=now,
            )
    return await get_user_quota(db, settings=settings, user_id=user_id)
