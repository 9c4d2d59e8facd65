"""The slot grid of a room's day: pure functions, no database."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import Generic, NamedTuple, Protocol, TypeVar
from zoneinfo import ZoneInfo

from mrs.wallclock import MINUTES_PER_DAY, wall_time_exists


class TimeRange(Protocol):
    """Anything that takes a time of the day: a reservation, or just its times."""

    @property
    def start_time(self) -> int: ...

    @property
    def end_time(self) -> int: ...


Taken = TypeVar("Taken", bound=TimeRange)


class Slot(NamedTuple, Generic[Taken]):
    """One cell of the grid (a tuple: the rooms page builds over a thousand per request)."""

    start: int
    end: int
    reservation: Taken | None
    past: bool

    @property
    def free(self) -> bool:
        return self.reservation is None and not self.past


def grid_bounds(
    reservations: Sequence[TimeRange], *, slot_minutes: int, first_hour: int, last_hour: int
) -> tuple[int, int]:
    """The minutes the grid covers: the usual hours, widened to show every reservation."""
    start = min(first_hour * 60, *(r.start_time for r in reservations)) if reservations else None
    end = max(last_hour * 60, *(r.end_time for r in reservations)) if reservations else None
    first = first_hour * 60 if start is None else start
    last = last_hour * 60 if end is None else end
    first -= first % slot_minutes
    last += (-last) % slot_minutes
    if last <= first:
        first, last = 0, MINUTES_PER_DAY
    return first, min(last, MINUTES_PER_DAY)


def missing_boundaries(day: date, tz: ZoneInfo, slot_minutes: int) -> frozenset[int]:
    """The slot boundaries that do not exist on `day` at the site (the hour skipped when
    clocks spring forward): never offered, never a slot of their own."""
    return frozenset(
        minute
        for minute in range(0, MINUTES_PER_DAY + 1, slot_minutes)
        if not wall_time_exists(day, minute, tz)
    )


def slot_holders(
    reservations: Sequence[Taken], *, slot_minutes: int, first_minute: int, last_minute: int
) -> list[Taken | None]:
    """For each slot from first to last, the reservation holding it (the earliest, should
    two overlap), or None. One pass over slots and reservations together: the rooms page
    does this for every room."""
    ordered = sorted(reservations, key=lambda r: r.start_time)
    count = len(ordered)
    holders: list[Taken | None] = []
    index = 0
    for start in range(first_minute, last_minute, slot_minutes):
        end = start + slot_minutes
        while index < count and ordered[index].end_time <= start:
            index += 1  # ended before this slot: no later slot can hold it either
        holder = None
        for position in range(index, count):
            candidate = ordered[position]
            if candidate.start_time >= end:
                break
            if candidate.end_time > start:
                holder = candidate
                break
        holders.append(holder)
    return holders


def day_slots(
    reservations: Sequence[Taken],
    *,
    slot_minutes: int,
    first_minute: int,
    last_minute: int,
    gone_until: int,
    missing: Collection[int] = (),
) -> list[Slot[Taken]]:
    """One slot per `slot_minutes` from first to last, each with the reservation holding it.

    No slot starts at a `missing` boundary (a wall time that does not exist that day); the
    slot before such a gap ends at the first time after it (01:30–03:00 in New York when
    clocks spring forward at 02:00), which is a range the service accepts.
    """
    holders = slot_holders(
        reservations, slot_minutes=slot_minutes, first_minute=first_minute, last_minute=last_minute
    )
    starts = range(first_minute, last_minute, slot_minutes)
    slots: list[Slot[Taken]] = []
    for start, holder in zip(starts, holders, strict=True):
        if start in missing:
            continue
        end = start + slot_minutes
        while end in missing and end < MINUTES_PER_DAY:
            end += slot_minutes
        slots.append(Slot(start=start, end=end, reservation=holder, past=start < gone_until))
    return slots


def timeline_cells(
    reservations: Sequence[TimeRange],
    *,
    slot_minutes: int,
    first_minute: int,
    last_minute: int,
    gone_until: int,
) -> list[tuple[int, str]]:
    """(start, "taken" | "past" | "free") per slot: a room's bar on the rooms page, which
    needs no more than that (and draws over a thousand cells per request)."""
    holders = slot_holders(
        reservations, slot_minutes=slot_minutes, first_minute=first_minute, last_minute=last_minute
    )
    starts = range(first_minute, last_minute, slot_minutes)
    return [
        (start, "taken" if holder is not None else "past" if start < gone_until else "free")
        for start, holder in zip(starts, holders, strict=True)
    ]


def offered_times(
    *,
    slot_minutes: int,
    first_minute: int,
    last_minute: int,
    gone_until: int,
    missing: Collection[int] = (),
) -> tuple[list[int], list[int]]:
    """The start and end times the form offers: slot boundaries within the day's grid
    (the bookable hours, not 00:00–24:00), none that has already gone, none that does
    not exist that day (`missing`: skipped by a DST change)."""
    starts = [
        m
        for m in range(first_minute, last_minute, slot_minutes)
        if m >= gone_until and m not in missing
    ]
    ends = [
        m
        for m in range(first_minute + slot_minutes, last_minute + 1, slot_minutes)
        if m > gone_until and m not in missing
    ]
    return starts, ends
