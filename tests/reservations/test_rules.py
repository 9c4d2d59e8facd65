"""The reservation rules, checked without a database."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from mrs.reservations import rules
from mrs.reservations.errors import (
    CancelNotAllowed,
    InvalidTimeRange,
    OutsideDay,
    ReservationAlreadyEnded,
    SlotMisaligned,
    StartInPast,
)

TOKYO = ZoneInfo("Asia/Tokyo")
DAY = date(2030, 1, 7)
NOW = datetime(2030, 1, 7, 9, 0, tzinfo=TOKYO)


@pytest.mark.parametrize(("start", "end"), [(600, 630), (0, 1440), (1410, 1440), (600, 900)])
def test_aligned_ranges_within_the_day_are_accepted(start: int, end: int) -> None:
    rules.check_time_range(start, end, 30)


@pytest.mark.parametrize(("start", "end"), [(600, 600), (630, 600)])
def test_end_must_be_after_start(start: int, end: int) -> None:
    with pytest.raises(InvalidTimeRange):
        rules.check_time_range(start, end, 30)


@pytest.mark.parametrize(("start", "end"), [(-30, 30), (1410, 1470), (1440, 1470)])
def test_times_must_lie_within_the_day(start: int, end: int) -> None:
    with pytest.raises(OutsideDay):
        rules.check_time_range(start, end, 30)


@pytest.mark.parametrize(("start", "end"), [(615, 660), (600, 645), (601, 630)])
def test_times_must_sit_on_thirty_minute_slots(start: int, end: int) -> None:
    with pytest.raises(SlotMisaligned):
        rules.check_time_range(start, end, 30)


def test_fifteen_minute_slots_accept_quarter_hours() -> None:
    rules.check_time_range(615, 645, 15)
    with pytest.raises(SlotMisaligned):
        rules.check_time_range(610, 645, 15)


def test_slot_message_names_the_slot_length() -> None:
    with pytest.raises(SlotMisaligned) as caught:
        rules.check_time_range(610, 645, 15)
    assert "15-minute" in str(caught.value)


def test_a_start_in_the_past_is_refused() -> None:
    with pytest.raises(StartInPast):
        rules.check_not_in_past(DAY, 8 * 60 + 30, NOW, TOKYO)


def test_a_start_exactly_now_or_later_is_allowed() -> None:
    rules.check_not_in_past(DAY, 9 * 60, NOW, TOKYO)
    rules.check_not_in_past(date(2030, 1, 8), 0, NOW, TOKYO)


def test_the_past_is_judged_in_the_site_time_zone() -> None:
    utc_now = datetime(2030, 1, 7, 0, 30, tzinfo=ZoneInfo("UTC"))  # 09:30 in Tokyo
    with pytest.raises(StartInPast):
        rules.check_not_in_past(DAY, 9 * 60, utc_now, TOKYO)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((600, 630), (630, 660), False),  # adjacent, half-open
        ((600, 660), (630, 690), True),
        ((600, 720), (630, 660), True),  # containment
        ((630, 660), (600, 720), True),
        ((600, 630), (600, 630), True),
        ((600, 630), (700, 730), False),
    ],
)
def test_overlap_is_half_open(a: tuple[int, int], b: tuple[int, int], expected: bool) -> None:
    assert rules.overlaps(*a, *b) is expected
    assert rules.overlaps(*b, *a) is expected


def _cancel(actor: rules.Actor, end_minute: int = 11 * 60, owner: str = "alice") -> None:
    rules.check_can_cancel(actor, owner_id=owner, day=DAY, end_minute=end_minute, now=NOW, tz=TOKYO)


def test_the_owner_may_cancel_before_the_end() -> None:
    _cancel(rules.Actor("alice", is_admin=False))


def test_someone_else_may_not_cancel() -> None:
    with pytest.raises(CancelNotAllowed):
        _cancel(rules.Actor("bob", is_admin=False))


def test_an_admin_may_cancel_anyones_reservation() -> None:
    _cancel(rules.Actor("root", is_admin=True))


def test_the_owner_may_not_cancel_after_the_end() -> None:
    with pytest.raises(ReservationAlreadyEnded):
        _cancel(rules.Actor("alice", is_admin=False), end_minute=9 * 60)


def test_an_admin_may_cancel_after_the_end() -> None:
    _cancel(rules.Actor("root", is_admin=True), end_minute=8 * 60)


@pytest.mark.parametrize(
    ("viewer", "admin", "visibility", "attendees", "expected"),
    [
        ("someone", False, "PUBLIC", (), True),
        ("someone", False, "PRIVATE", (), False),
        ("owner", False, "PRIVATE", (), True),
        ("guest", False, "PRIVATE", ("guest",), True),
        ("someone", True, "PRIVATE", (), True),
    ],
)
def test_a_private_meeting_shows_its_details_only_to_owner_attendees_and_admins(
    viewer: str, admin: bool, visibility: str, attendees: tuple[str, ...], expected: bool
) -> None:
    assert (
        rules.sees_details(
            viewer_id=viewer,
            viewer_is_admin=admin,
            owner_id="owner",
            visibility=visibility,
            attendee_ids=attendees,
        )
        is expected
    )
