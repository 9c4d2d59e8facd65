"""The delegate rules without a database: who may act for an owner, and which delegate
lists are refused before anything is read."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from mrs.reservations import delegation, rules
from mrs.reservations.errors import CancelNotAllowed, EditNotAllowed, TooManyDelegates

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
LATER = date(2026, 12, 3)


def test_the_owner_an_admin_and_a_named_delegate_may_act_for_the_owner() -> None:
    owner = "manager"
    assert rules.may_act_for(rules.Actor(owner, is_admin=False), owner_id=owner)
    assert rules.may_act_for(rules.Actor("boss", is_admin=True), owner_id=owner)
    delegate = rules.Actor("secretary", is_admin=False, principals=frozenset({owner}))
    assert rules.may_act_for(delegate, owner_id=owner)
    # A delegate of one principal is nobody's for another.
    assert not rules.may_act_for(delegate, owner_id="other")
    assert not rules.may_act_for(rules.Actor("secretary", is_admin=False), owner_id=owner)


def test_edit_and_cancel_follow_the_same_rule() -> None:
    delegate = rules.Actor("secretary", is_admin=False, principals=frozenset({"manager"}))
    stranger = rules.Actor("colleague", is_admin=False)
    times = {"day": LATER, "end_minute": 660, "now": NOW, "tz": TOKYO}
    rules.check_can_edit(delegate, owner_id="manager", status="ACTIVE", **times)
    rules.check_can_cancel(delegate, owner_id="manager", **times)
    with pytest.raises(EditNotAllowed):
        rules.check_can_edit(stranger, owner_id="manager", status="ACTIVE", **times)
    with pytest.raises(CancelNotAllowed):
        rules.check_can_cancel(stranger, owner_id="manager", **times)


def test_a_delegate_list_is_normalised_and_capped() -> None:
    assert delegation.wanted_delegates("manager", [" Secretary ", "secretary", "", "ken"]) == [
        "secretary",
        "ken",
    ]
    exactly = [f"user{n}" for n in range(delegation.MAX_DELEGATES)]
    assert delegation.wanted_delegates("manager", exactly) == exactly
    with pytest.raises(TooManyDelegates):
        delegation.wanted_delegates("manager", [*exactly, "one.more"])


def test_booking_for_someone_digests_apart_from_booking_for_oneself() -> None:
    asked = {"room_id": 1, "day": LATER, "start_minute": 600, "end_minute": 660}
    own = rules.request_fingerprint(**asked)
    assert rules.request_fingerprint(**asked, owner_id=None) == own
    assert rules.request_fingerprint(**asked, owner_id="manager") != own
    assert rules.request_fingerprint(**asked, owner_id="manager") != rules.request_fingerprint(
        **asked, owner_id="other"
    )
