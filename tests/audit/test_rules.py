"""Pure rules of the audit log: which action a reservation change is recorded as, and
how a row's before/after reads on the page."""

from __future__ import annotations

from mrs.audit.rules import readable
from mrs.reservations.changes import audit_action
from mrs.reservations.models import ChangeKind


def test_a_change_is_named_after_what_changed() -> None:
    assert audit_action(ChangeKind.CREATED, reservation_id=1) == (
        "reservation.create",
        "reservation",
    )
    assert audit_action(ChangeKind.CHANGED, reservation_id=None) == ("series.update", "series")
    assert audit_action(ChangeKind.CANCELLED, reservation_id=None) == ("series.cancel", "series")
    # One reservation of a series changed on its own: still the reservation's row.
    assert audit_action(ChangeKind.CANCELLED, reservation_id=3, occurrence=True) == (
        "occurrence.cancel",
        "reservation",
    )


def test_before_and_after_read_as_one_field_a_line() -> None:
    assert readable(None) == []
    assert readable('{"title": "Plan", "attendees": ["aoi", "ken"], "capacity": 6}') == [
        ("title", "Plan"),
        ("attendees", "aoi, ken"),
        ("capacity", "6"),
    ]
    assert readable('{"title": null, "attendees": [], "active": true}') == [
        ("title", "—"),
        ("attendees", "—"),
        ("active", "true"),
    ]
    assert readable('["not", "an", "object"]') == [("", "not, an, object")]
