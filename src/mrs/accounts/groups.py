"""Groups (departments) of users: the administrator's list, each group's members, and
the groups a user belongs to."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mrs.accounts import rules, users
from mrs.accounts.errors import GroupNameTaken, GroupNotFound, UnknownUsers
from mrs.accounts.models import User, UserGroup, UserGroupMember, UserStatus
from mrs.audit import service as audit
from mrs.db.engine import Database

logger = logging.getLogger(__name__)

MAX_NAME_LENGTH = 100
MAX_DESCRIPTION_LENGTH = 500
# The most user ids one member list may name (a department, not the whole directory twice).
MAX_MEMBERS = 10_000


def name_key(name: str) -> str:
    """What makes two group names the same: the name with its runs of spaces made one
    and trimmed, case-folded."""
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class GroupSummary:
    """A group with how many members it has (the list)."""

    group: UserGroup
    member_count: int


@dataclass(frozen=True)
class GroupDetail:
    """A group with its members' ids, sorted."""

    group: UserGroup
    member_ids: list[str]


async def list_groups(db: Database) -> list[GroupSummary]:
    """Every group by name (any case), with its member count, in one query."""
    counts = (
        select(UserGroupMember.group_id, func.count().label("members"))
        .group_by(UserGroupMember.group_id)
        .subquery()
    )
    statement = (
        select(UserGroup, func.coalesce(counts.c.members, 0))
        .outerjoin(counts, counts.c.group_id == UserGroup.group_id)
        .order_by(UserGroup.name_key, UserGroup.group_id)
    )
    async with db.snapshot() as session:
        rows = (await session.execute(statement)).all()
    return [GroupSummary(group=group, member_count=int(count)) for group, count in rows]


async def _member_ids(session: AsyncSession, group_id: int) -> list[str]:
    rows = await session.scalars(
        select(UserGroupMember.user_id)
        .where(UserGroupMember.group_id == group_id)
        .order_by(UserGroupMember.user_id)
    )
    return list(rows.all())


async def get_group(db: Database, *, group_id: int) -> GroupDetail:
    """The group with its members; GroupNotFound if there is none."""
    async with db.snapshot() as session:
        group = await session.get(UserGroup, group_id)
        if group is None:
            raise GroupNotFound(group_id=group_id)
        return GroupDetail(group=group, member_ids=await _member_ids(session, group_id))


async def _refuse_taken_name(session: AsyncSession, key: str, name: str, group_id: int) -> None:
    """GroupNameTaken when another group already has this name (regardless of case)."""
    other = await session.scalar(
        select(UserGroup.group_id).where(UserGroup.name_key == key, UserGroup.group_id != group_id)
    )
    if other is not None:
        raise GroupNameTaken(name=name)


async def create_group(
    db: Database, *, name: str, description: str, now: datetime, actor_id: str | None = None
) -> UserGroup:
    """Add a group; a name already taken (in any case) is a conflict."""
    name = name.strip()
    group = UserGroup(
        name=name, name_key=name_key(name), description=description.strip(), created_at=now
    )
    try:
        async with db.transaction() as session:
            await _refuse_taken_name(session, group.name_key, name, group_id=0)
            session.add(group)
            await session.flush()
            await audit.record(
                session,
                action="group.create",
                subject_type="group",
                subject_id=group.group_id,
                after={"name": group.name, "description": group.description},
                actor_id=actor_id,
                at=now,
            )
    except IntegrityError as exc:  # a racing create with the same name won
        raise GroupNameTaken(name=name) from exc
    logger.info("group %s created", group.group_id)
    return group


async def _locked_group(session: AsyncSession, group_id: int) -> UserGroup:
    """The group, locked for this transaction; GroupNotFound if there is none."""
    group = await session.scalar(
        select(UserGroup).where(UserGroup.group_id == group_id).with_for_update()
    )
    if group is None:
        raise GroupNotFound(group_id=group_id)
    return group


async def update_group(
    db: Database,
    *,
    group_id: int,
    changes: dict[str, Any],
    actor_id: str | None = None,
    now: datetime | None = None,
) -> UserGroup:
    """Rename a group or change its description (only the fields given change)."""
    try:
        async with db.transaction() as session:
            group = await _locked_group(session, group_id)
            was = {"name": group.name, "description": group.description}
            if "name" in changes:
                name = str(changes["name"]).strip()
                await _refuse_taken_name(session, name_key(name), name, group_id=group_id)
                group.name = name
                group.name_key = name_key(name)
            if "description" in changes:
                group.description = str(changes["description"]).strip()
            before, after = audit.changed(
                was, {"name": group.name, "description": group.description}
            )
            if after:
                await audit.record(
                    session,
                    action="group.rename" if "name" in after else "group.update",
                    subject_type="group",
                    subject_id=group_id,
                    before=before,
                    after=after,
                    actor_id=actor_id,
                    at=now,
                )
    except IntegrityError as exc:
        raise GroupNameTaken(name=str(changes.get("name", ""))) from exc
    return group


async def delete_group(
    db: Database, *, group_id: int, actor_id: str | None = None, now: datetime | None = None
) -> None:
    """Delete a group and its memberships (the users stay)."""
    async with db.transaction() as session:
        group = await _locked_group(session, group_id)
        await audit.record(
            session,
            action="group.delete",
            subject_type="group",
            subject_id=group_id,
            before={
                "name": group.name,
                "description": group.description,
                "members": await _member_ids(session, group_id),
            },
            actor_id=actor_id,
            at=now,
        )
        # Explicit rather than relying on ON DELETE CASCADE alone (as for equipment).
        await session.execute(delete(UserGroupMember).where(UserGroupMember.group_id == group_id))
        await session.execute(delete(UserGroup).where(UserGroup.group_id == group_id))
    logger.info("group %s deleted", group_id)


async def _replace_members(
    session: AsyncSession,
    group_id: int,
    wanted: set[str],
    actor_id: str | None,
    now: datetime | None,
) -> list[str]:
    """Within the caller's transaction: the group's members become exactly `wanted`
    (every id must name a user, else UnknownUsers names the others and nothing changes);
    who was added and removed is audited."""
    if wanted:
        known = set(
            (await session.scalars(select(User.user_id).where(User.user_id.in_(wanted)))).all()
        )
        unknown = sorted(wanted - known)
        if unknown:
            raise UnknownUsers(
                details={"field": "user_ids", "unknown": unknown}, user_ids=", ".join(unknown)
            )
    current = set(await _member_ids(session, group_id))
    await session.execute(delete(UserGroupMember).where(UserGroupMember.group_id == group_id))
    if wanted:
        await session.execute(
            insert(UserGroupMember),
            [{"group_id": group_id, "user_id": user_id} for user_id in sorted(wanted)],
        )
    if current != wanted:
        await audit.record(
            session,
            action="group.members",
            subject_type="group",
            subject_id=group_id,
            before={"removed": sorted(current - wanted)},
            after={"added": sorted(wanted - current)},
            actor_id=actor_id,
            at=now,
        )
    return sorted(wanted)


async def set_members(
    db: Database,
    *,
    group_id: int,
    user_ids: Collection[str],
    actor_id: str | None = None,
    now: datetime | None = None,
) -> GroupDetail:
    """Replace the group's member list by `user_ids` (all or nothing)."""
    wanted = {rules.normalize_user_id(user_id) for user_id in user_ids}
    async with db.transaction() as session:
        group = await _locked_group(session, group_id)
        members = await _replace_members(session, group_id, wanted, actor_id, now)
    return GroupDetail(group=group, member_ids=members)


async def change_members(
    db: Database,
    *,
    group_id: int,
    shown: Collection[str],
    chosen: Collection[str],
    actor_id: str | None = None,
    now: datetime | None = None,
) -> GroupDetail:
    """Of the users `shown` (one page of a list), exactly `chosen` are members; members
    not shown stay. How the members page saves one page of a long list."""
    chosen_ids = {rules.normalize_user_id(user_id) for user_id in chosen}
    shown_ids = {rules.normalize_user_id(user_id) for user_id in shown} | chosen_ids
    async with db.transaction() as session:
        group = await _locked_group(session, group_id)
        current = set(await _member_ids(session, group_id))
        members = await _replace_members(
            session, group_id, (current - shown_ids) | chosen_ids, actor_id, now
        )
    return GroupDetail(group=group, member_ids=members)


async def groups_of_users(db: Database, *, user_ids: Collection[str]) -> dict[str, list[str]]:
    """The names of each user's groups, sorted (every user id given is a key)."""
    found: dict[str, list[str]] = {user_id: [] for user_id in user_ids}
    if not found:
        return found
    statement = (
        select(UserGroupMember.user_id, UserGroup.name)
        .join(UserGroup, UserGroup.group_id == UserGroupMember.group_id)
        .where(UserGroupMember.user_id.in_(list(found)))
        .order_by(UserGroupMember.user_id, UserGroup.name_key)
    )
    async with db.snapshot() as session:
        for row in await session.execute(statement):
            found[row.user_id].append(row.name)
    return found


def _candidates(group_id: int, search: str) -> Select[User]:
    """Who the members page offers: active users, and members who cannot log in now
    (so they can be taken out too), matching `search`, by id."""
    is_member = (
        select(UserGroupMember.user_id)
        .where(UserGroupMember.group_id == group_id, UserGroupMember.user_id == User.user_id)
        .exists()
    )
    return (
        select(User)
        .where(
            or_(User.status == UserStatus.ACTIVE.value, is_member), *users.matching_search(search)
        )
        .order_by(User.user_id)
    )


async def member_candidates(
    db: Database, *, group_id: int, search: str, offset: int, limit: int
) -> tuple[list[User], int]:
    """One page of the people the members page offers, and how many there are in all."""
    statement = _candidates(group_id, search)
    async with db.snapshot() as session:
        total = await session.scalar(select(func.count()).select_from(statement.subquery()))
        page = await session.scalars(statement.offset(max(offset, 0)).limit(limit))
        return list(page.all()), int(total or 0)
