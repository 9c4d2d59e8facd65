"""Pieces of the rooms page built in Python (pure functions, no database)."""

from __future__ import annotations

from mrs.reservations.timelines import TakenTime
from mrs.web.rendering import ENVIRONMENT
from mrs.web.slots import timeline_cells


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
    cells = timeline_cells(
        [TakenTime(600, 660)], slot_minutes=30, first_minute=540, last_minute=690, gone_until=570
    )
    assert cells == [(540, "past"), (570, "free"), (600, "taken"), (630, "taken"), (660, "free")]
    bar = str(ENVIRONMENT.filters["timeline"](cells))
    assert bar == (
        '<i class="p h"></i><i class="f"></i><i class="t h"></i><i class="t"></i>'
        '<i class="f h"></i>'
    )
