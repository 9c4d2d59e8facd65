"""Days the clocks change, in the pure rules: times that do not exist, times that happen
twice (the first occurrence is meant), lengths in real time and "now" across the change.

New York springs forward on 2027-03-14 (02:00 → 03:00) and falls back on 2027-11-07
(02:00 → 01:00); Berlin on 2027-03-28 (02:00 → 03:00) and 2027-10-31 (03:00 → 02:00).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from mrs.reservations import rules
from mrs.reservations.errors import StartInPast, TimeDoesNotExist
from mrs.wallclock import elapsed_minutes, minutes_gone, wall_instant, wall_time_exists
from mrs.web.slots import day_slots, missing_boundaries, offered_times

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
NY_SPRING, NY_FALL = date(2027, 3, 14), date(2027, 11, 7)
BERLIN_SPRING, BERLIN_FALL = date(2027, 3, 28), date(2027, 10, 31)
SPRING_DAYS = [(NEW_YORK, NY_SPRING), (BERLIN, BERLIN_SPRING)]


def hm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


@pytest.mark.parametrize(("tz", "day"), SPRING_DAYS)
@pytest.mark.parametrize(("start", "end"), [("02:00", "03:00"), ("02:30", "04:00")])
def test_a_start_in_the_skipped_hour_is_refused(
    tz: ZoneInfo, day: date, start: str, end: str
) -> None:
    with pytest.raises(TimeDoesNotExist) as refused:
        rules.check_times_exist(day, hm(start), hm(end), tz)
    assert refused.value.details == {"field": "start_time"}
    assert start in str(refused.value)
    assert day.isoformat() in str(refused.value)


@pytest.mark.parametrize(("tz", "day"), SPRING_DAYS)
@pytest.mark.parametrize(("start", "end"), [("01:00", "02:00"), ("01:30", "02:30")])
def test_an_end_in_the_skipped_hour_is_refused(
    tz: ZoneInfo, day: date, start: str, end: str
) -> None:
    with pytest.raises(TimeDoesNotExist) as refused:
        rules.check_times_exist(day, hm(start), hm(end), tz)
    assert refused.value.details == {"field": "end_time"}


@pytest.mark.parametrize(("tz", "day"), SPRING_DAYS)
def test_times_around_the_skipped_hour_exist(tz: ZoneInfo, day: date) -> None:
    rules.check_times_exist(day, hm("01:30"), hm("03:00"), tz)
    rules.check_times_exist(day, 0, 1440, tz)


@pytest.mark.parametrize(
    ("tz", "day"), [(NEW_YORK, NY_FALL), (BERLIN, BERLIN_FALL), (NEW_YORK, date(2027, 6, 1))]
)
def test_every_time_exists_on_other_days(tz: ZoneInfo, day: date) -> None:
    assert all(wall_time_exists(day, minute, tz) for minute in range(0, 1441))


@pytest.mark.parametrize(
    ("tz", "day", "start", "end", "minutes"),
    [
        (NEW_YORK, NY_SPRING, "01:30", "03:00", 30),
        (BERLIN, BERLIN_SPRING, "01:30", "03:00", 30),
        (NEW_YORK, NY_SPRING, "00:00", "24:00", 23 * 60),
        (NEW_YORK, NY_FALL, "01:00", "02:00", 120),
        (NEW_YORK, NY_FALL, "01:30", "01:45", 15),
        (BERLIN, BERLIN_FALL, "02:00", "03:00", 120),
        (BERLIN, BERLIN_FALL, "00:00", "24:00", 25 * 60),
        (NEW_YORK, date(2027, 6, 1), "10:00", "11:30", 90),
    ],
)
def test_lengths_are_real_elapsed_time(
    tz: ZoneInfo, day: date, start: str, end: str, minutes: int
) -> None:
    assert elapsed_minutes(day, hm(start), hm(end), tz) == minutes


def test_a_repeated_time_means_its_first_occurrence() -> None:
    # 01:30 happens at 05:30 UTC (EDT) and again at 06:30 UTC (EST): the first is meant.
    assert wall_instant(NY_FALL, hm("01:30"), NEW_YORK) == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)
    # Berlin repeats 02:00–03:00: 02:30 CEST is 00:30 UTC.
    assert wall_instant(BERLIN_FALL, hm("02:30"), BERLIN) == datetime(
        2027, 10, 31, 0, 30, tzinfo=UTC
    )


def test_in_the_second_occurrence_the_whole_repeated_hour_is_past() -> None:
    # 06:30 UTC is the second 01:30 in New York (EST): every first-occurrence time of the
    # repeated hour is over, 02:00 (07:00 UTC) is not yet.
    now = datetime(2027, 11, 7, 6, 30, tzinfo=UTC)
    with pytest.raises(StartInPast):
        rules.check_not_in_past(NY_FALL, hm("01:45"), now, NEW_YORK)
    rules.check_not_in_past(NY_FALL, hm("02:00"), now, NEW_YORK)
    # The pages draw the same line: everything before 02:00 is past.
    assert minutes_gone(NY_FALL, now, NEW_YORK) == hm("02:00")
    slots = day_slots(
        [],
        slot_minutes=30,
        first_minute=hm("00:30"),
        last_minute=hm("03:00"),
        gone_until=minutes_gone(NY_FALL, now, NEW_YORK),
    )
    assert [(s.start, s.past) for s in slots] == [
        (hm("00:30"), True),
        (hm("01:00"), True),
        (hm("01:30"), True),
        (hm("02:00"), False),
        (hm("02:30"), False),
    ]


def test_in_the_first_occurrence_the_rest_of_the_hour_is_still_ahead() -> None:
    now = datetime(2027, 11, 7, 5, 30, tzinfo=UTC)  # 01:30 EDT, the first time
    assert minutes_gone(NY_FALL, now, NEW_YORK) == hm("01:30")
    rules.check_not_in_past(NY_FALL, hm("01:30"), now, NEW_YORK)


def test_now_after_spring_forward() -> None:
    now = datetime(2027, 3, 28, 1, 10, tzinfo=UTC)  # 03:10 CEST in Berlin
    assert minutes_gone(BERLIN_SPRING, now, BERLIN) == hm("03:10")
    with pytest.raises(StartInPast):
        rules.check_not_in_past(BERLIN_SPRING, hm("03:00"), now, BERLIN)
    rules.check_not_in_past(BERLIN_SPRING, hm("03:30"), now, BERLIN)


def test_a_started_minute_is_past() -> None:
    now = datetime(2027, 6, 1, 14, 0, 30, tzinfo=UTC)  # 10:00:30 in New York
    assert minutes_gone(date(2027, 6, 1), now, NEW_YORK) == hm("10:01")
    assert minutes_gone(date(2027, 5, 31), now, NEW_YORK) == 1440
    assert minutes_gone(date(2027, 6, 2), now, NEW_YORK) == 0


@pytest.mark.parametrize(("tz", "day"), SPRING_DAYS)
def test_the_slot_grid_skips_the_hour_that_does_not_exist(tz: ZoneInfo, day: date) -> None:
    missing = missing_boundaries(day, tz, 30)
    assert missing == {hm("02:00"), hm("02:30")}
    slots = day_slots(
        [],
        slot_minutes=30,
        first_minute=hm("01:00"),
        last_minute=hm("04:00"),
        gone_until=0,
        missing=missing,
    )
    assert [(s.start, s.end) for s in slots] == [
        (hm("01:00"), hm("01:30")),
        (hm("01:30"), hm("03:00")),  # the range the service accepts: 30 real minutes
        (hm("03:00"), hm("03:30")),
        (hm("03:30"), hm("04:00")),
    ]
    starts, ends = offered_times(
        slot_minutes=30, first_minute=0, last_minute=24 * 60, gone_until=0, missing=missing
    )
    assert not {hm("02:00"), hm("02:30")} & (set(starts) | set(ends))
    assert hm("01:30") in starts
    assert hm("03:00") in ends


def test_no_boundary_is_missing_on_an_ordinary_day() -> None:
    assert missing_boundaries(date(2027, 6, 1), NEW_YORK, 15) == frozenset()
    assert missing_boundaries(NY_FALL, NEW_YORK, 15) == frozenset()


@pytest.mark.parametrize("tz", [NEW_YORK, BERLIN, ZoneInfo("Asia/Tokyo")])
def test_the_ends_of_the_calendar_are_no_error(tz: ZoneInfo) -> None:
    for day in (date.min, date.max):
        rules.check_times_exist(day, 0, 1440, tz)
        assert elapsed_minutes(day, 600, 660, tz) == 60
        assert wall_instant(day, 1440, tz) >= wall_instant(day, 0, tz)
    assert wall_instant(date.max, 1440, NEW_YORK) == datetime.max.replace(tzinfo=UTC)
