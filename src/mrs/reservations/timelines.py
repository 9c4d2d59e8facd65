"""The rooms bookable on a day with the times already taken (the rooms page and
`GET /api/rooms`): one statement for every room."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from mrs.db.engine import Database
from mrs.reservations import statements
from mrs.wallclock import elapsed_minutes


@dataclass(frozen=True)
class RoomOfDay:
    room_id: int
    room_name: str
    capacity: int | None
    location: str | None
    reserved_minutes: int
    reservation_count: int


@dataclass(frozen=True)
class TakenTime:
    start_time: int
    end_time: int


@dataclass(frozen=True)
class RoomTimeline:
    """A room bookable on a day and the times already taken, in order (the rooms page)."""

    room_id: int
    room_name: str
    capacity: int | None
    location: str | None
    taken: list[TakenTime]


def _unpacked(ranges: str | None) -> list[TakenTime]:
    if not ranges:
        return []
    taken = []
    for item in ranges.split(","):
        start, _, end = item.partition("-")
        taken.append(TakenTime(int(start), int(end)))
    taken.sort(key=lambda t: t.start_time)
    return taken


async def room_timelines(db: Database, *, day: date) -> list[RoomTimeline]:
    """Rooms bookable on `day` with their taken times, by name: one statement."""
    return [
        RoomTimeline(row.room_id, row.room_name, row.capacity, row.location, _unpacked(row.ranges))
        for row in await db.read(statements.timelines_of_day(db.dialect), {"day": day})
    ]


async def rooms_reservable_on(db: Database, *, day: date) -> list[RoomOfDay]:
    """Rooms bookable on `day`, with how much of the day is already reserved."""
    return [
        RoomOfDay(
            room_id=timeline.room_id,
            room_name=timeline.room_name,
            capacity=timeline.capacity,
            location=timeline.location,
            # Real elapsed time: on a day the clocks change, not end minus start.
            reserved_minutes=sum(
                elapsed_minutes(day, t.start_time, t.end_time, db.settings.tz)
                for t in timeline.taken
            ),
            reservation_count=len(timeline.taken),
        )
        for timeline in await room_timelines(db, day=day)
    ]
