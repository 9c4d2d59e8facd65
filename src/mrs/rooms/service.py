"""Room use cases: managing rooms and the dates they can be reserved."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mrs.audit import service as audit
from mrs.db.engine import Database
from mrs.rooms import equipment as room_equipment
from mrs.rooms import opening as room_opening
from mrs.rooms.errors import RoomNameTaken, RoomNotFound
from mrs.rooms.models import MeetingRoom, ReservableRoom
from mrs.rooms.rules import (
    BY_HAND,
    OpeningRule,
    check_opening_rule,
    dates_in_range,
    weekdays_from_digits,
)
from mrs.settings import Settings

# The finest slot the site can have (MRS_SLOT_MINUTES is a multiple of 5): callers that
# know the site's settings pass its slot length so bookable hours fall on its boundaries.
FINEST_SLOT_MINUTES = 5


@dataclass(frozen=True)
class RoomView:
    """A room as every read shows it: its fields, what it offers, and its opening rule."""

    room_id: int
    room_name: str
    capacity: int | None
    location: str | None
    active: bool
    description: str
    equipment: list[str]
    opening: OpeningRule
    # The room's calendar feed is published (GET /calendar/{token}/rooms/{room_id}.ics).
    has_feed: bool = False


def opening_rule_of(room: MeetingRoom) -> OpeningRule:
    """The room's opening rule, from its columns."""
    return OpeningRule(
        weekdays=weekdays_from_digits(room.open_weekdays),
        open_minute=room.open_minute,
        close_minute=room.close_minute,
        auto_open=room.auto_open,
        closed_on_holidays=room.closed_on_holidays,
    )


def replace_rule(rule: OpeningRule, changes: dict[str, Any]) -> OpeningRule:
    """`rule` with the given fields changed (names as OpeningRule's)."""
    return replace(rule, **changes)


def _set_opening_rule(room: MeetingRoom, rule: OpeningRule) -> None:
    room.open_weekdays = rule.weekday_digits
    room.open_minute = rule.open_minute
    room.close_minute = rule.close_minute
    room.auto_open = rule.auto_open
    room.closed_on_holidays = rule.closed_on_holidays


def _audited_fields(room: MeetingRoom, equipment: Collection[str]) -> dict[str, Any]:
    """What the audit log shows of a room (its own fields, what it offers, its rule)."""
    return {
        "room_name": room.room_name,
        "capacity": room.capacity,
        "location": room.location,
        "active": room.active,
        "description": room.description,
        "has_feed": room.has_feed,
        "equipment": sorted(set(equipment)),
        "open_weekdays": room.open_weekdays,
        "open_minute": room.open_minute,
        "close_minute": room.close_minute,
        "auto_open": room.auto_open,
        "closed_on_holidays": room.closed_on_holidays,
    }


def _view(room: MeetingRoom, equipment: list[str]) -> RoomView:
    return RoomView(
        room_id=room.room_id,
        room_name=room.room_name,
        capacity=room.capacity,
        location=room.location,
        active=room.active,
        description=room.description,
        equipment=equipment,
        opening=opening_rule_of(room),
        has_feed=room.has_feed,
    )


async def list_rooms(db: Database) -> list[RoomView]:
    async with db.snapshot() as session:
        rooms = list(
            (await session.scalars(select(MeetingRoom).order_by(MeetingRoom.room_name))).all()
        )
        offered = await room_equipment.codes_of_rooms(session, [room.room_id for room in rooms])
    return [_view(room, offered[room.room_id]) for room in rooms]


async def get_room(db: Database, *, room_id: int) -> RoomView:
    async with db.snapshot() as session:
        room = await session.get(MeetingRoom, room_id)
        if room is None:
            raise RoomNotFound(room_id=room_id)
        offered = await room_equipment.codes_of_rooms(session, [room_id])
    return _view(room, offered[room_id])


async def equipment_of_rooms(db: Database, room_ids: Sequence[int]) -> dict[int, list[str]]:
    """Each room's equipment codes, sorted (every id asked for is a key; one query)."""
    async with db.snapshot() as session:
        return await room_equipment.codes_of_rooms(session, room_ids)


async def open_dates(db: Database, *, room_id: int, from_date: date, to_date: date) -> list[date]:
    """The dates in the range (inclusive) on which the room is open for reservation."""
    async with db.snapshot() as session:
        return list(
            (
                await session.scalars(
                    select(ReservableRoom.reserved_date)
                    .where(
                        ReservableRoom.room_id == room_id,
                        ReservableRoom.reserved_date >= from_date,
                        ReservableRoom.reserved_date <= to_date,
                        ReservableRoom.is_open.is_(True),
                    )
                    .order_by(ReservableRoom.reserved_date)
                )
            ).all()
        )


async def create_room(
    db: Database,
    *,
    room_name: str,
    capacity: int | None,
    location: str | None,
    description: str = "",
    equipment: Collection[str] = (),
    opening: OpeningRule = BY_HAND,
    slot_minutes: int = FINEST_SLOT_MINUTES,
    has_feed: bool = False,
    actor_id: str | None = None,
    now: datetime | None = None,
) -> RoomView:
    """Add a room. Without an `opening` rule it opens on dates an admin picks, all day
    (the API and pages pass the site's defaults for new rooms)."""
    check_opening_rule(opening, slot_minutes)
    room = MeetingRoom(
        room_name=room_name,
        capacity=capacity,
        location=location,
        active=True,
        description=description,
        has_feed=has_feed,
    )
    _set_opening_rule(room, opening)
    try:
        async with db.transaction() as session:
            if await session.scalar(
                select(MeetingRoom.room_id).where(MeetingRoom.room_name == room_name)
            ):
                raise RoomNameTaken(room_name=room_name)
            session.add(room)
            await session.flush()
            await room_equipment.set_room_equipment(session, room_id=room.room_id, codes=equipment)
            await audit.record(
                session,
                action="room.create",
                subject_type="room",
                subject_id=room.room_id,
                after=_audited_fields(room, equipment),
                actor_id=actor_id,
                at=now,
            )
    except IntegrityError as exc:
        raise RoomNameTaken(room_name=room_name) from exc
    return _view(room, sorted(set(equipment)))


# Fields of a room that an update may set directly; `equipment` and `opening` are handled
# apart, and for `description`, `equipment`, `opening` and `has_feed` None means "leave as
# it is".
_KEEP_WHEN_NONE = ("description", "equipment", "opening", "has_feed")


async def update_room(
    db: Database,
    *,
    room_id: int,
    changes: dict[str, Any],
    slot_minutes: int = FINEST_SLOT_MINUTES,
    actor_id: str | None = None,
    now: datetime | None = None,
) -> RoomView:
    """Apply the given field changes (only keys present are changed). `opening` is a dict
    of the rule's fields to change (weekdays, open_minute, close_minute, auto_open,
    closed_on_holidays); `equipment` the complete new list of codes."""
    changes = {
        key: value
        for key, value in changes.items()
        if not (key in _KEEP_WHEN_NONE and value is None)
    }
    codes = changes.pop("equipment", None)
    opening = changes.pop("opening", None)
    try:
        async with db.transaction() as session:
            room = await session.get(MeetingRoom, room_id)
            if room is None:
                raise RoomNotFound(room_id=room_id)
            was = _audited_fields(
                room, (await room_equipment.codes_of_rooms(session, [room_id]))[room_id]
            )
            new_name = changes.get("room_name")
            if new_name is not None and new_name != room.room_name:
                clash = await session.scalar(
                    select(MeetingRoom.room_id).where(MeetingRoom.room_name == new_name)
                )
                if clash is not None:
                    raise RoomNameTaken(room_name=new_name)
            if opening:
                rule = replace_rule(opening_rule_of(room), opening)
                check_opening_rule(rule, slot_minutes)
                _set_opening_rule(room, rule)
            for field, value in changes.items():
                setattr(room, field, value)
            if codes is not None:
                await room_equipment.set_room_equipment(session, room_id=room_id, codes=codes)
            offered = await room_equipment.codes_of_rooms(session, [room_id])
            await session.flush()
            before, after = audit.changed(was, _audited_fields(room, offered[room_id]))
            if after:
                await audit.record(
                    session,
                    action="room.update",
                    subject_type="room",
                    subject_id=room_id,
                    before=before,
                    after=after,
                    actor_id=actor_id,
                    at=now,
                )
    except IntegrityError as exc:
        raise RoomNameTaken(room_name=changes.get("room_name")) from exc
    return _view(room, offered[room_id])


async def add_room(
    db: Database,
    *,
    settings: Settings,
    today: date,
    room_name: str,
    capacity: int | None,
    location: str | None,
    description: str = "",
    equipment: Collection[str] = (),
    opening_changes: dict[str, Any] | None = None,
    has_feed: bool = False,
    actor_id: str | None = None,
    now: datetime | None = None,
) -> RoomView:
    """A room added by an administrator: the site's opening rule for new rooms with the
    given changes. A room that opens automatically is bookable at once: its dates are
    opened ahead now, not at the daily job's next run."""
    rule = room_opening.default_rule(settings)
    if opening_changes:
        rule = replace_rule(rule, opening_changes)
    room = await create_room(
        db,
        room_name=room_name,
        capacity=capacity,
        location=location,
        description=description,
        equipment=equipment,
        opening=rule,
        slot_minutes=settings.slot_minutes,
        has_feed=has_feed,
        actor_id=actor_id,
        now=now,
    )
    if rule.auto_open:
        await room_opening.open_ahead(db, settings=settings, today=today, room_ids=[room.room_id])
    return room


async def change_room(
    db: Database,
    *,
    settings: Settings,
    today: date,
    room_id: int,
    changes: dict[str, Any],
    actor_id: str | None = None,
    now: datetime | None = None,
) -> RoomView:
    """An administrator's changes to a room (`update_room`); a room that now opens
    automatically gets its dates opened ahead at once."""
    room = await update_room(
        db,
        room_id=room_id,
        changes=changes,
        slot_minutes=settings.slot_minutes,
        actor_id=actor_id,
        now=now,
    )
    if room.opening.auto_open:
        await room_opening.open_ahead(db, settings=settings, today=today, room_ids=[room_id])
    return room


async def open_room(
    db: Database,
    *,
    room_id: int,
    from_date: date,
    to_date: date,
    weekdays: Sequence[int] | None,
    actor_id: str | None = None,
    now: datetime | None = None,
) -> list[date]:
    """Make the room reservable on every matching date; returns the dates newly opened."""
    days = dates_in_range(from_date, to_date, weekdays)
    async with db.transaction() as session:
        if await session.get(MeetingRoom, room_id) is None:
            raise RoomNotFound(room_id=room_id)
        rows = await session.execute(
            select(ReservableRoom.reserved_date, ReservableRoom.is_open).where(
                ReservableRoom.room_id == room_id, ReservableRoom.reserved_date.in_(days)
            )
        )
        known = {row.reserved_date: row.is_open for row in rows}
        new_days = [day for day in days if day not in known]
        reopened = [day for day, is_open in known.items() if not is_open]
        if new_days:
            await session.execute(
                insert(ReservableRoom),
                [{"reserved_date": day, "room_id": room_id, "is_open": True} for day in new_days],
            )
        if reopened:
            await session.execute(
                update(ReservableRoom)
                .where(
                    ReservableRoom.room_id == room_id, ReservableRoom.reserved_date.in_(reopened)
                )
                .values(is_open=True)
            )
        opened = sorted(new_days + reopened)
        if opened:
            await audit.record(
                session,
                action="room.open_dates",
                subject_type="room",
                subject_id=room_id,
                after={"opened": [day.isoformat() for day in opened]},
                actor_id=actor_id,
                at=now,
            )
    return opened


async def lock_open_dates(
    session: AsyncSession, *, room_id: int, days: Sequence[date]
) -> list[date]:
    """Within the caller's transaction: which of `days` the room is open on, those date
    rows locked until it ends (a reservation being made for one of them holds a share
    lock on its date row, so this waits for it and the caller then sees it)."""
    if await session.get(MeetingRoom, room_id) is None:
        raise RoomNotFound(room_id=room_id)
    return list(
        (
            await session.scalars(
                select(ReservableRoom.reserved_date)
                .where(
                    ReservableRoom.room_id == room_id,
                    ReservableRoom.reserved_date.in_(days),
                    ReservableRoom.is_open.is_(True),
                )
                .with_for_update()
            )
        ).all()
    )


async def mark_closed(session: AsyncSession, *, room_id: int, days: Sequence[date]) -> None:
    """Within the caller's transaction: stop reservations of the room on `days`."""
    await session.execute(
        update(ReservableRoom)
        .where(ReservableRoom.room_id == room_id, ReservableRoom.reserved_date.in_(days))
        .values(is_open=False)
    )
