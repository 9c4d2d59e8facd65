"""Reservation events reach every subscriber once; a failing subscriber fails nothing."""

from __future__ import annotations

import logging

import pytest

from mrs.reservations import events
from mrs.reservations.events import ReservationEvent


def test_subscribers_hear_each_event_once_and_a_failing_one_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    heard: list[ReservationEvent] = []

    def broken(_event: ReservationEvent) -> None:
        raise RuntimeError("subscriber bug")

    events.subscribe(broken)
    events.subscribe(heard.append)
    events.subscribe(heard.append)  # registered twice, still told once
    try:
        with caplog.at_level(logging.ERROR, logger="mrs.reservations.events"):
            events.emit(ReservationEvent.CREATED)
            events.emit(ReservationEvent.CANCELLED)
    finally:
        events.unsubscribe(broken)
        events.unsubscribe(heard.append)
    assert heard == [ReservationEvent.CREATED, ReservationEvent.CANCELLED]
    assert len([r for r in caplog.records if "subscriber" in r.getMessage()]) == 2
    events.emit(ReservationEvent.CONFLICT)
    assert heard == [ReservationEvent.CREATED, ReservationEvent.CANCELLED]
