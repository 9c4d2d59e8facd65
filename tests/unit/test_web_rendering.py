"""Pieces of the rooms page built in Python (pure functions, no database)."""

from __future__ import annotations

from mrs.rooms.service import TakenTime
from mrs.web.rendering import ENVIRONMENT


def _ranges(*taken: tuple[int, int]) -> str:
    render = ENVIRONMENT.filters["taken_ranges"]
    return str(render([TakenTime(start, end) for start, end in taken]))


def test_back_to_back_reservations_read_as_one_busy_stretch() -> None:
    shown = _ranges((540, 600), (600, 660), (660, 720), (780, 870))
    assert shown == (
        '<span class="taken-range">09:00–12:00</span>, <span class="taken-range">13:00–14:30</span>'
    )


def test_separate_reservations_stay_separate() -> None:
    assert _ranges((540, 600), (630, 660)).count("taken-range") == 2
    assert _ranges() == ""


def test_the_bar_has_one_cell_per_slot_marking_hours() -> None:
    from mrs.web.slots import day_slots

    slots = day_slots(
        [TakenTime(600, 660)], slot_minutes=30, first_minute=570, last_minute=690, gone_until=0
    )
    bar = str(ENVIRONMENT.filters["timeline"](slots))
    assert bar == '<i class="f"></i><i class="t h"></i><i class="t"></i><i class="f h"></i>'
