"""Times of day as minutes since midnight, shown as HH:MM."""

from __future__ import annotations

from mrs.wallclock import format_minute


def test_every_minute_of_the_day_is_shown_as_hours_and_minutes() -> None:
    assert format_minute(0) == "00:00"
    assert format_minute(9 * 60 + 5) == "09:05"
    assert format_minute(1439) == "23:59"
    assert format_minute(1440) == "24:00"
    assert [format_minute(m) for m in range(0, 1441)] == [
        f"{m // 60:02d}:{m % 60:02d}" for m in range(0, 1441)
    ]


def test_a_minute_outside_the_day_is_still_formatted() -> None:
    assert format_minute(1500) == "25:00"
