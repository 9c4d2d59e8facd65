"""The slot grid of a room's day: pure functions, no database."""

from __future__ import annotations

import re
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
    # Outside the room's bookable hours (shown only to place a reservation made before
    # the hours changed): never offered.
    closed: bool = False

    @property
    def free(self) -> bool:
        return self.reservation is None and not self.past and not self.closed


def bookable_span(open_minute: int, close_minute: int, slot_minutes: int) -> tuple[int, int]:
    """A room's bookable hours on the site's slot boundaries, rounded inwards (hours set
    when the slot length was finer keep to what a booking may use)."""
    first = open_minute + (-open_minute) % slot_minutes
    last = close_minute - close_minute % slot_minutes
    return (first, last) if first < last else (open_minute, open_minute)


class AskedTimes(NamedTuple):
    """The times a link or a form asked for, in minutes of the day."""

    start_time: int
    end_time: int


def asked_times(start: str, end: str) -> AskedTimes | None:
    """The `HH:MM` times a link asked for (the timeline's free cell, the search), or None
    when either is missing or not a time of the day: the page then shows its usual hours."""
    minutes = []
    for text in (start, end):
        match = re.fullmatch(r"(\d\d):(\d\d)", text)
        if match is None:
            return None
        hour, minute = int(match[1]), int(match[2])
        if minute > 59 or hour * 60 + minute > MINUTES_PER_DAY:
            return None
        minutes.append(hour * 60 + minute)
    start_minute, end_minute = minutes
    return AskedTimes(start_minute, end_minute) if start_minute < end_minute else None


def grid_bounds(
    reservations: Sequence[TimeRange],
    *,
    slot_minutes: int,
    first_hour: int,
    last_hour: int,
    bookable: tuple[int, int] | None = None,
) -> tuple[int, int]:
    """The minutes the grid covers: the usual hours (or the room's `bookable` span, when
    given), widened to show every reservation."""
    usual_first, usual_last = bookable or (first_hour * 60, last_hour * 60)
    start = min(usual_first, *(r.start_time for r in reservations)) if reservations else None
    end = max(usual_last, *(r.end_time for r in reservations)) if reservations else None
    first = usual_first if start is None else start
    last = usual_last if end is None else end
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
    bookable: tuple[int, int] | None = None,
) -> list[Slot[Taken]]:
    """One slot per `slot_minutes` from first to last, each with the reservation holding it;
    a slot outside the `bookable` span (the room's hours, when given) is closed.

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
        closed = bookable is not None and not (bookable[0] <= start and end <= bookable[1])
        slots.append(
            Slot(start=start, end=end, reservation=holder, past=start < gone_until, closed=closed)
        )
    return slots


def timeline_cells(
    reservations: Sequence[TimeRange],
    *,
    slot_minutes: int,
    first_minute: int,
    last_minute: int,
    gone_until: int,
    bookable: tuple[int, int] | None = None,
) -> list[tuple[int, str]]:
    """(start, "taken" | "past" | "closed" | "free") per slot: a room's bar on the rooms
    page, which needs no more than that (and draws over a thousand cells per request).
    "closed": outside the room's `bookable` span, when given."""
    holders = slot_holders(
        reservations, slot_minutes=slot_minutes, first_minute=first_minute, last_minute=last_minute
    )
    starts = range(first_minute, last_minute, slot_minutes)
    opens, closes = bookable or (first_minute, last_minute)
    return [
        (
            start,
            "taken"
            if holder is not None
            else "past"
            if start < gone_until
            else "closed"
            if start < opens or start + slot_minutes > closes
            else "free",
        )
        for start, holder in zip(starts, holders, strict=True)
    ]


def offered_times(
    *,
    slot_minutes: int,
    first_minute: int,
    last_minute: int,
    gone_until: int,
    missing: Collection[int] = (),
    bookable: tuple[int, int] | None = None,
) -> tuple[list[int], list[int]]:
    """The start and end times the form offers: slot boundaries within the day's grid
    and the room's `bookable` span (when given), none that has already gone, none that
    does not exist that day (`missing`: skipped by a DST change)."""
    if bookable is not None:
        first_minute, last_minute = max(first_minute, bookable[0]), min(last_minute, bookable[1])
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
