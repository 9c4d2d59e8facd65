"""Room policies: the administrator reads and replaces a room's policy (audited)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from mrs.accounts.models import UserGroup
from mrs.audit import service as audit
from mrs.db.engine import Database
from mrs.policies import enforcement, rules
from mrs.policies.errors import UnknownGroups
from mrs.policies.models import RoomPolicy, RoomPolicyGroup
from mrs.policies.rules import Limits
from mrs.rooms.errors import RoomNotFound
from mrs.rooms.models import MeetingRoom
from mrs.settings import Settings


@dataclass(frozen=True)
class PolicyValues:
    """A room's policy as stored (None: the site default, or off)."""

    max_minutes: int | None = None
    max_days_ahead: int | None = None
    min_notice_minutes: int | None = None
    allowed_roles: list[str] = field(default_factory=list)
    allowed_group_ids: list[int] = field(default_factory=list)
    approval_required: bool = False
    checkin_required: bool = False
    checkin_grace_minutes: int | None = None


@dataclass(frozen=True)
class PolicyView:
    room_id: int
    values: PolicyValues
    effective: Limits


async def _values(session: AsyncSession, room_id: int) -> PolicyValues:
    policy = await session.get(RoomPolicy, room_id)
    if policy is None:
        return PolicyValues()
    group_ids = (
        await session.scalars(
            select(RoomPolicyGroup.group_id)
            .where(RoomPolicyGroup.room_id == room_id)
            .order_by(RoomPolicyGroup.group_id)
        )
    ).all()
    return PolicyValues(
        max_minutes=policy.max_minutes,
        max_days_ahead=policy.max_days_ahead,
        min_notice_minutes=policy.min_notice_minutes,
        allowed_roles=sorted(rules.parse_roles(policy.allowed_roles)),
        allowed_group_ids=[int(each) for each in group_ids],
        approval_required=bool(policy.approval_required),
        checkin_required=bool(policy.checkin_required),
        checkin_grace_minutes=policy.checkin_grace_minutes,
    )


def _view(settings: Settings, room_id: int, values: PolicyValues) -> PolicyView:
    return PolicyView(
        room_id=room_id,
        values=values,
        effective=enforcement.effective_limits(
            settings,
            max_minutes=values.max_minutes,
            max_days_ahead=values.max_days_ahead,
            min_notice_minutes=values.min_notice_minutes,
        ),
    )


async def _require_room(session: AsyncSession, room_id: int) -> None:
    if await session.get(MeetingRoom, room_id) is None:
        raise RoomNotFound(room_id=room_id)


async def get_policy(db: Database, *, settings: Settings, room_id: int) -> PolicyView:
    """The room's policy and the limits in force; RoomNotFound if there is no such room."""
    async with db.snapshot() as session:
        await _require_room(session, room_id)
        return _view(settings, room_id, await _values(session, room_id))


async def set_policy(
    db: Database,
    *,
    settings: Settings,
    room_id: int,
    values: PolicyValues,
    actor_id: str,
    now: datetime,
) -> PolicyView:
    """Replace the room's policy (every group named must exist); audited with the
    values before and after, in the same transaction."""
    async with db.transaction() as session:
        room = await session.scalar(
            select(MeetingRoom.room_id).where(MeetingRoom.room_id == room_id).with_for_update()
        )
        if room is None:
            raise RoomNotFound(room_id=room_id)
        if values.allowed_group_ids:
            found = set(
                (
                    await session.scalars(
                        select(UserGroup.group_id).where(
                            UserGroup.group_id.in_(values.allowed_group_ids)
                        )
                    )
                ).all()
            )
            missing = [each for each in values.allowed_group_ids if each not in found]
            if missing:
                raise UnknownGroups(
                    details={"field": "allowed_group_ids", "group_ids": missing},
                    group_ids=", ".join(str(each) for each in missing),
                )
        before = await _values(session, room_id)
        await session.execute(delete(RoomPolicyGroup).where(RoomPolicyGroup.room_id == room_id))
        await session.execute(delete(RoomPolicy).where(RoomPolicy.room_id == room_id))
        session.add(
            RoomPolicy(
                room_id=room_id,
                max_minutes=values.max_minutes,
                max_days_ahead=values.max_days_ahead,
                min_notice_minutes=values.min_notice_minutes,
                allowed_roles=",".join(values.allowed_roles) or None,
                approval_required=values.approval_required,
                checkin_required=values.checkin_required,
                checkin_grace_minutes=values.checkin_grace_minutes,
                updated_at=now,
                updated_by=actor_id,
            )
        )
        await session.flush()
        if values.allowed_group_ids:
            await session.execute(
                insert(RoomPolicyGroup),
                [{"room_id": room_id, "group_id": each} for each in values.allowed_group_ids],
            )
        was, became = audit.changed(asdict(before), asdict(values))
        if became:
            await audit.record(
                session,
                action="room.policy",
                subject_type="room",
                subject_id=room_id,
                before=was,
                after=became,
                actor_id=actor_id,
                at=now,
            )
    return _view(settings, room_id, values)
