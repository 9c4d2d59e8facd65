"""Policy and quota routes: administrators set each room's policy, each group's quota
and a user's override (everyone's own quota and usage: `mrs.reservations.quota_api`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from mrs.accounts.dependencies import AdminUser
from mrs.http.dependencies import DatabaseDep, NowDep, SettingsDep
from mrs.http.types import RoomIdPath
from mrs.policies import quotas, service
from mrs.policies.rules import Quota
from mrs.policies.schemas import (
    EffectiveLimits,
    GroupQuotaRead,
    QuotaLimits,
    QuotaWrite,
    RoomPolicyRead,
    RoomPolicyWrite,
    UserQuotaRead,
    UserQuotaWrite,
)

router = APIRouter(prefix="/api", tags=["policies"])

GroupIdPath = Annotated[int, Path(ge=1, le=2**62, description="Group id")]
UserIdPath = Annotated[str, Path(min_length=1, max_length=64, description="User id")]

_STORED_ONLY = (
    " With `approval_required`, bookings by users other than administrators and the "
    "room's managers are PENDING until a manager approves them. `checkin_required` and "
    "`checkin_grace_minutes` are stored and returned only: the check-in feature acts on them."
)


def _policy(view: service.PolicyView) -> RoomPolicyRead:
    values = view.values
    return RoomPolicyRead(
        room_id=view.room_id,
        max_minutes=values.max_minutes,
        max_days_ahead=values.max_days_ahead,
        min_notice_minutes=values.min_notice_minutes,
        allowed_roles=values.allowed_roles,
        allowed_group_ids=values.allowed_group_ids,
        approval_required=values.approval_required,
        checkin_required=values.checkin_required,
        checkin_grace_minutes=values.checkin_grace_minutes,
        effective=EffectiveLimits(
            max_minutes=view.effective.max_minutes,
            max_days_ahead=view.effective.max_days_ahead,
            min_notice_minutes=view.effective.min_notice_minutes,
        ),
    )


@router.get(
    "/admin/rooms/{room_id}/policy",
    response_model=RoomPolicyRead,
    description="The room's policy (null: the site default) and the limits in force."
    + _STORED_ONLY,
)
async def read_room_policy(
    room_id: RoomIdPath, _admin: AdminUser, db: DatabaseDep, settings: SettingsDep
) -> RoomPolicyRead:
    return _policy(await service.get_policy(db, settings=settings, room_id=room_id))


@router.put(
    "/admin/rooms/{room_id}/policy",
    response_model=RoomPolicyRead,
    responses={422: {"description": "A value out of range, or a group that does not exist."}},
    description="Replace the room's policy: the longest booking, how far ahead, the "
    "notice, and who may book (roles and groups; both empty: everyone). Bookings by "
    "non-administrators are refused (422) past these limits; administrators are not bound."
    + _STORED_ONLY,
)
async def write_room_policy(
    room_id: RoomIdPath,
    body: RoomPolicyWrite,
    admin: AdminUser,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
) -> RoomPolicyRead:
    view = await service.set_policy(
        db,
        settings=settings,
        room_id=room_id,
        values=service.PolicyValues(**body.model_dump()),
        actor_id=admin.user_id,
        now=now,
    )
    return _policy(view)


def _group_quota(view: quotas.GroupQuotaView) -> GroupQuotaRead:
    quota = view.quota or Quota()
    return GroupQuotaRead(
        group_id=view.group_id,
        has_quota=view.quota is not None,
        max_future_reservations=quota.max_future_reservations,
        max_hours_per_week=quota.max_hours_per_week,
    )


@router.get("/admin/groups/{group_id}/quota", response_model=GroupQuotaRead)
async def read_group_quota(
    group_id: GroupIdPath, _admin: AdminUser, db: DatabaseDep
) -> GroupQuotaRead:
    """The group's quota (null limits: the site default)."""
    return _group_quota(await quotas.get_group_quota(db, group_id=group_id))


@router.put("/admin/groups/{group_id}/quota", response_model=GroupQuotaRead)
async def write_group_quota(
    group_id: GroupIdPath, body: QuotaWrite, admin: AdminUser, db: DatabaseDep, now: NowDep
) -> GroupQuotaRead:
    """Set the group's quota (null: the site default). A user in several groups with a
    quota gets the most generous."""
    view = await quotas.set_group_quota(
        db,
        group_id=group_id,
        quota=Quota(body.max_future_reservations, body.max_hours_per_week),
        actor_id=admin.user_id,
        now=now,
    )
    return _group_quota(view)


def _user_quota(view: quotas.UserQuotaView) -> UserQuotaRead:
    override = view.override
    return UserQuotaRead(
        user_id=view.user_id,
        override=None
        if override is None
        else UserQuotaWrite(
            max_future_reservations=override.quota.max_future_reservations,
            max_hours_per_week=override.quota.max_hours_per_week,
            reason=override.reason,
        ),
        effective=QuotaLimits.of(view.effective),
    )


@router.get("/admin/users/{user_id}/quota", response_model=UserQuotaRead)
async def read_user_quota(
    user_id: UserIdPath, _admin: AdminUser, db: DatabaseDep, settings: SettingsDep
) -> UserQuotaRead:
    """The user's override (if any) and the quota in force."""
    return _user_quota(await quotas.get_user_quota(db, settings=settings, user_id=user_id))


@router.put("/admin/users/{user_id}/quota", response_model=UserQuotaRead)
async def write_user_quota(
    user_id: UserIdPath,
    body: UserQuotaWrite,
    admin: AdminUser,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
) -> UserQuotaRead:
    """Override the user's quota (null: no limit) with the reason (required)."""
    view = await quotas.set_user_quota(
        db,
        settings=settings,
        user_id=user_id,
        quota=Quota(body.max_future_reservations, body.max_hours_per_week),
        reason=body.reason,
        actor_id=admin.user_id,
        now=now,
    )
    return _user_quota(view)


@router.delete("/admin/users/{user_id}/quota", response_model=UserQuotaRead)
async def delete_user_quota(
    user_id: UserIdPath, admin: AdminUser, db: DatabaseDep, settings: SettingsDep, now: NowDep
) -> UserQuotaRead:
    """Remove the user's override: their groups' or the site's quota applies again."""
    view = await quotas.delete_user_quota(
        db, settings=settings, user_id=user_id, actor_id=admin.user_id, now=now
    )
    return _user_quota(view)
