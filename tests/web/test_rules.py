"""The slot grid of a room's day (pure rules behind the page)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from mrs.reservations.reads import ReservationView
from mrs.wallclock import minutes_gone
from mrs.web.slots import AskedTimes, asked_times, day_slots, grid_bounds, offered_times

DAY = date(2030, 1, 8)


def _reservation(start: int, end: int, user_id: str = "alice") -> ReservationView:
    return ReservationView(
        reservation_id=1,
        room_id=1,
        room_name="Sakura",
        date=DAY,
        start_time=start,
        end_time=end,
        duration_minutes=end - start,
        user_id=user_id,
        user_name="Alice Sato",
        status="ACTIVE",
        created_at=datetime(2030, 1, 1, tzinfo=UTC),
        cancelled_at=None,
        cancelled_by=None,
    )


def test_the_grid_covers_the_usual_hours() -> None:
    assert grid_bounds([], slot_minutes=30, first_hour=8, last_hour=20) == (480, 1200)


def test_the_grid_widens_to_show_early_and_late_reservations() -> None:
    early_late = [_reservation(6 * 60 + 15, 7 * 60), _reservation(22 * 60, 24 * 60)]
    assert grid_bounds(early_late, slot_minutes=30, first_hour=8, last_hour=20) == (360, 1440)


def test_times_asked_by_a_link_are_read_only_when_both_are_times_of_the_day() -> None:
    assert asked_times("06:00", "06:30") == AskedTimes(360, 390)
    assert asked_times("23:30", "24:00") == AskedTimes(1410, 1440)
    for start, end in [
        ("", "06:30"),
        ("6:00", "06:30"),
        ("25:00", "26:00"),
        ("10:60", "11:00"),
        ("11:00", "10:00"),
        ("24:00", "24:30"),
    ]:
        assert asked_times(start, end) is None


def test_each_slot_knows_the_reservation_holding_it() -> None:
    slots = day_slots(
        [_reservation(600, 690)], slot_minutes=30, first_minute=570, last_minute=720, gone_until=0
    )
    assert [(s.start, s.reservation is not None) for s in slots] == [
        (570, False),
        (600, True),
        (630, True),
        (660, True),
        (690, False),
    ]
    assert slots[0].free
    assert not slots[1].free


def test_a_reservation_shorter_than_a_slot_still_takes_it() -> None:
    # Slot length can shrink after reservations were made (30 → 15 or the other way).
    slots = day_slots(
        [_reservation(615, 630)], slot_minutes=30, first_minute=600, last_minute=660, gone_until=0
    )
    assert slots[0].reservation is not None
    assert slots[1].reservation is None


def test_slots_before_now_are_past_only_today() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    now = datetime(2030, 1, 8, 10, 40, tzinfo=tokyo)
    assert minutes_gone(date(2030, 1, 7), now, tokyo) == 1440
    assert minutes_gone(DAY, now, tokyo) == 640
    assert minutes_gone(date(2030, 1, 9), now, tokyo) == 0
    slots = day_slots([], slot_minutes=30, first_minute=600, last_minute=720, gone_until=640)
    assert [s.past for s in slots] == [True, True, False, False]


def test_the_pickers_offer_only_the_bookable_hours_still_to_come() -> None:
    starts, ends = offered_times(
        slot_minutes=30, first_minute=8 * 60, last_minute=20 * 60, gone_until=0
    )
    assert (starts[0], starts[-1], ends[0], ends[-1]) == (480, 1170, 510, 1200)
    starts, ends = offered_times(
        slot_minutes=30, first_minute=8 * 60, last_minute=20 * 60, gone_until=9 * 60 + 10
    )
    assert (starts[0], ends[0]) == (570, 570)  # 09:30 is the first start; 09:30 the first end


def test_each_slot_is_held_by_the_earliest_reservation_touching_it() -> None:
    """The one-pass grid agrees with the definition on many random days (some with
    overlapping or sub-slot reservations, as after a change of slot length)."""
    rng = random.Random(20261128)
    for _ in range(300):
        ranges = []
        for _ in range(rng.randint(0, 12)):
            start = rng.randrange(0, 1440, 15)
            ranges.append(_reservation(start, min(1440, start + rng.choice([15, 30, 60, 150]))))
        slot = rng.choice([15, 30, 60])
        slots = day_slots(ranges, slot_minutes=slot, first_minute=0, last_minute=1440, gone_until=0)
        ordered = sorted(ranges, key=lambda r: r.start_time)
        for s in slots:
            expected = next(
                (r for r in ordered if r.start_time < s.end and s.start < r.end_time), None
            )
            assert s.reservation is expected
