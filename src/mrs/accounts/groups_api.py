"""Group routes: administrators manage groups (departments) and their members."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from mrs.accounts import groups
from mrs.accounts.dependencies import AdminUser
from mrs.accounts.schemas import (
    GroupCreate,
    GroupDetailRead,
    GroupMembersWrite,
    GroupRead,
    GroupUpdate,
)
from mrs.http.dependencies import DatabaseDep, NowDep

router = APIRouter(prefix="/api/admin/groups", tags=["accounts"])

GroupIdPath = Annotated[int, Path(ge=1, le=2**62, description="Group id")]


def _detail(detail: groups.GroupDetail) -> GroupDetailRead:
    group = detail.group
    return GroupDetailRead(
        group_id=group.group_id,
        name=group.name,
        description=group.description,
        created_at=group.created_at,
        member_count=len(detail.member_ids),
        member_ids=detail.member_ids,
    )


@router.get("", response_model=list[GroupRead])
async def list_groups(admin: AdminUser, db: DatabaseDep) -> list[GroupRead]:
    """Every group by name, with its member count."""
    return [
        GroupRead(
            group_id=item.group.group_id,
            name=item.group.name,
            description=item.group.description,
            created_at=item.group.created_at,
            member_count=item.member_count,
        )
        for item in await groups.list_groups(db)
    ]


@router.post(
    "",
    response_model=GroupDetailRead,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "A group with this name (in any case) exists."}},
)
async def create_group(
    body: GroupCreate, admin: AdminUser, db: DatabaseDep, now: NowDep
) -> GroupDetailRead:
    """Add a group (no members yet)."""
    group = await groups.create_group(
        db, name=body.name, description=body.description, now=now, actor_id=admin.user_id
    )
    return _detail(groups.GroupDetail(group=group, member_ids=[]))


@router.get("/{group_id}", response_model=GroupDetailRead)
async def read_group(group_id: GroupIdPath, admin: AdminUser, db: DatabaseDep) -> GroupDetailRead:
    """A group with its members' user ids."""
    return _detail(await groups.get_group(db, group_id=group_id))


@router.patch(
    "/{group_id}",
    response_model=GroupDetailRead,
    responses={409: {"description": "A group with this name (in any case) exists."}},
)
async def update_group(
    group_id: GroupIdPath,
    body: GroupUpdate,
    admin: AdminUser,
    db: DatabaseDep,
    now: NowDep,
) -> GroupDetailRead:
    """Rename a group or change its description."""
    await groups.update_group(
        db,
        group_id=group_id,
        changes=body.model_dump(exclude_unset=True),
        actor_id=admin.user_id,
        now=now,
    )
    return _detail(await groups.get_group(db, group_id=group_id))


@router.delete("/{group_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_group(
    group_id: GroupIdPath, admin: AdminUser, db: DatabaseDep, now: NowDep
) -> None:
    """Delete a group and its memberships (the users stay)."""
    await groups.delete_group(db, group_id=group_id, actor_id=admin.user_id, now=now)


@router.put(
    "/{group_id}/members",
    response_model=GroupDetailRead,
    responses={422: {"description": "Unknown user ids (named in the error); nothing changed."}},
)
async def set_members(
    group_id: GroupIdPath,
    body: GroupMembersWrite,
    admin: AdminUser,
    db: DatabaseDep,
    now: NowDep,
) -> GroupDetailRead:
    """Replace the group's member list with these user ids (all or nothing)."""
    detail = await groups.set_members(
        db, group_id=group_id, user_ids=body.user_ids, actor_id=admin.user_id, now=now
    )
    return _detail(detail)
