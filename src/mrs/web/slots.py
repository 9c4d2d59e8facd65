"""The slot grid of a room's day: pure functions, no database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from mrs.reservations.service import ReservationView
from mrs.wallclock import MINUTES_PER_DAY


@dataclass(frozen=True)
class Slot:
    start: int
    end: int
    reservation: ReservationView | None
    past: bool

    @property
    def free(self) -> bool:
        return self.reservation is None and not self.past


def grid_bounds(
    reservations: Sequence[ReservationView], *, slot_minutes: int, first_hour: int, last_hour: int
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


def past_until(day: date, now: datetime) -> int:
    """Minutes of `day` already gone at `now` (a local time): 0 for a future day."""
    today = now.date()
    if day < today:
        return MINUTES_PER_DAY
    if day > today:
        return 0
    return now.hour * 60 + now.minute


def day_slots(
    reservations: Sequence[ReservationView],
    *,
    slot_minutes: int,
    first_minute: int,
    last_minute: int,
    gone_until: int,
) -> list[Slot]:
    """One slot per `slot_minutes` from first to last, each with the reservation holding it."""
    ordered = sorted(reservations, key=lambda r: r.start_time)
    slots: list[Slot] = []
    for start in range(first_minute, last_minute, slot_minutes):
        end = start + slot_minutes
        holder = next((r for r in ordered if r.start_time < end and start < r.end_time), None)
        slots.append(Slot(start=start, end=end, reservation=holder, past=start < gone_until))
    return slots


def slot_choices(slot_minutes: int) -> list[int]:
    """Every slot boundary of a day, 00:00 to 24:00, for the start/end pickers."""
    return list(range(0, MINUTES_PER_DAY + 1, slot_minutes))
