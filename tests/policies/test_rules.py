"""The pure policy and quota rules, each at its edge: exactly at the limit passes, one
past fails. No database."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mrs.i18n import translate
from mrs.policies import rules
from mrs.policies.errors import (
    PolicyMaxLength,
    PolicyMinNotice,
    PolicyNotAllowed,
    PolicyTooFarAhead,
    QuotaFutureReservations,
    QuotaHoursPerWeek,
)
from mrs.policies.rules import GroupLimit, Limits, Quota, Slot

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2030, 1, 7, 9, 0, tzinfo=TOKYO)  # a Monday
TODAY = NOW.date()


def _check(limits: Limits, slot: Slot, *, role: str = "USER", member: bool = False) -> None:
    rules.check_policy(limits, [slot], role=role, in_named_group=member, now=NOW, tz=TOKYO)


def test_a_booking_of_exactly_the_longest_length_passes_and_one_slot_more_fails() -> None:
    limits = Limits(max_minutes=120)
    _check(limits, Slot(TODAY, 600, 720))
    with pytest.raises(PolicyMaxLength) as refused:
        _check(limits, Slot(TODAY, 600, 721))
    assert refused.value.code == "policy_max_length"
    error = refused.value
    assert translate("en", error.msgid, **error.params) == (
        "This room can be booked for at most 2 hours."
    )
    assert (
        translate("ja", error.msgid, **error.params) == "この会議室は最長 2 時間まで予約できます。"
    )


@pytest.mark.parametrize(
    ("max_minutes", "english"),
    [
        (60, "This room can be booked for at most 1 hour."),
        (90, "This room can be booked for at most 90 minutes."),
    ],
)
def test_the_longest_length_is_said_in_hours_when_whole(max_minutes: int, english: str) -> None:
    error = rules.max_length_refusal(max_minutes)
    assert translate("en", error.msgid, **error.params) == english


def test_a_booking_exactly_as_far_ahead_as_allowed_passes_and_a_day_later_fails() -> None:
    limits = Limits(max_days_ahead=30)
    _check(limits, Slot(TODAY + timedelta(days=30), 600, 660))
    with pytest.raises(PolicyTooFarAhead) as refused:
        _check(limits, Slot(TODAY + timedelta(days=31), 600, 660))
    assert refused.value.params == {"days": 30, "last_date": "2030-02-06"}


def test_zero_days_ahead_allows_today_only() -> None:
    _check(Limits(max_days_ahead=0), Slot(TODAY, 600, 660))
    with pytest.raises(PolicyTooFarAhead):
        _check(Limits(max_days_ahead=0), Slot(TODAY + timedelta(days=1), 600, 660))


def test_a_booking_made_exactly_the_notice_before_passes_and_a_minute_less_fails() -> None:
    limits = Limits(min_notice_minutes=60)
    _check(limits, Slot(TODAY, 600, 660))  # 10:00, booked at 09:00
    at_0959 = Slot(TODAY, 599, 660)
    with pytest.raises(PolicyMinNotice) as refused:
        _check(limits, at_0959)
    error = refused.value
    assert translate("ja", error.msgid, **error.params) == (
        "この会議室は開始の 60 分前までに予約してください。"
    )


def test_a_room_naming_no_one_is_open_to_everyone() -> None:
    _check(Limits(), Slot(TODAY, 600, 660))


def test_a_room_naming_roles_or_groups_is_open_to_those_only() -> None:
    admins_only = Limits(roles=frozenset({"ADMIN"}))
    _check(admins_only, Slot(TODAY, 600, 660), role="ADMIN")
    with pytest.raises(PolicyNotAllowed):
        _check(admins_only, Slot(TODAY, 600, 660), role="USER")
    sales = Limits(names_groups=True)
    _check(sales, Slot(TODAY, 600, 660), member=True)
    with pytest.raises(PolicyNotAllowed):
        _check(sales, Slot(TODAY, 600, 660), member=False)
    either = Limits(roles=frozenset({"ADMIN"}), names_groups=True)
    _check(either, Slot(TODAY, 600, 660), member=True)
    _check(either, Slot(TODAY, 600, 660), role="ADMIN")


def test_roles_are_read_from_their_stored_list() -> None:
    assert rules.parse_roles("ADMIN,USER") == frozenset({"ADMIN", "USER"})
    assert rules.parse_roles(None) == frozenset()
    assert rules.parse_roles("") == frozenset()


def test_every_slot_of_a_series_must_pass() -> None:
    limits = Limits(max_days_ahead=13)
    slots = [Slot(TODAY + timedelta(days=7 * week), 600, 660) for week in range(3)]
    rules.check_policy(limits, slots[:2], role="USER", in_named_group=False, now=NOW, tz=TOKYO)
    with pytest.raises(PolicyTooFarAhead):
        rules.check_policy(limits, slots, role="USER", in_named_group=False, now=NOW, tz=TOKYO)


def test_future_reservations_exactly_at_the_quota_pass_and_one_more_fails() -> None:
    quota = Quota(max_future_reservations=5)
    rules.check_quota(quota, [Slot(TODAY, 600, 660)], future_count=4, week_minutes={})
    with pytest.raises(QuotaFutureReservations) as refused:
        rules.check_quota(quota, [Slot(TODAY, 600, 660)], future_count=5, week_minutes={})
    assert refused.value.code == "quota_future_reservations"


def test_hours_per_week_exactly_at_the_quota_pass_and_one_slot_more_fails() -> None:
    quota = Quota(max_hours_per_week=10)
    monday = rules.week_start(TODAY)
    rules.check_quota(quota, [Slot(TODAY, 600, 720)], future_count=0, week_minutes={monday: 480})
    with pytest.raises(QuotaHoursPerWeek) as refused:
        rules.check_quota(
            quota, [Slot(TODAY, 600, 750)], future_count=0, week_minutes={monday: 480}
        )
    assert refused.value.params == {"limit": 10, "week_start": "2030-01-07"}


def test_hours_are_counted_per_iso_week_monday_to_sunday() -> None:
    sunday, next_monday = date(2030, 1, 13), date(2030, 1, 14)
    assert rules.week_start(sunday) == date(2030, 1, 7)
    assert rules.week_start(next_monday) == next_monday
    quota = Quota(max_hours_per_week=1)
    rules.check_quota(
        quota,
        [Slot(sunday, 600, 660), Slot(next_monday, 600, 660)],
        future_count=0,
        week_minutes={},
    )


def test_no_quota_means_no_limit() -> None:
    assert not Quota().applies
    rules.check_quota(Quota(), [Slot(TODAY, 0, 1440)] * 50, future_count=10_000, week_minutes={})


def test_a_user_in_several_groups_gets_the_most_generous() -> None:
    site = Quota(max_future_reservations=3, max_hours_per_week=5)
    groups = (GroupLimit(False, 10), GroupLimit(False, 8))
    assert rules.resolve_quota(site, groups=groups) == Quota(10, 8)
    # A group leaving a limit at the site default offers the site's value.
    assert rules.resolve_quota(site, groups=(GroupLimit(True, 2), GroupLimit(True, None))) == (
        Quota(3, 5)
    )
    # Without a site default, a group at the default means no limit: the most generous.
    assert rules.resolve_quota(Quota(), groups=(GroupLimit(True, 2), GroupLimit(False, 4))) == (
        Quota(None, 4)
    )


def test_an_override_wins_over_groups_and_the_site_and_no_group_means_the_site() -> None:
    site = Quota(3, 5)
    assert rules.resolve_quota(site) == site
    assert rules.resolve_quota(
        site, override=Quota(1, None), groups=(GroupLimit(False, 10), GroupLimit(False, 8))
    ) == Quota(1, None)
