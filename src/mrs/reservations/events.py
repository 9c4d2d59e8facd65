"""What happened to reservations, for whoever wants to know (metrics, later audit).

The use cases announce their outcomes here, whichever door (API or page) they were
called through; subscribers register at start-up. Reservations imports nothing of its
subscribers, so monitoring depends on reservations and never the other way round.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)


class ReservationEvent(enum.StrEnum):
    CREATED = "created"
    CANCELLED = "cancelled"
    CONFLICT = "conflict"


Subscriber = Callable[[ReservationEvent], None]
_subscribers: list[Subscriber] = []


def subscribe(subscriber: Subscriber) -> None:
    """Call `subscriber` on every event from now on (once, however often registered)."""
    if subscriber not in _subscribers:
        _subscribers.append(subscriber)


def unsubscribe(subscriber: Subscriber) -> None:
    if subscriber in _subscribers:
        _subscribers.remove(subscriber)


def emit(event: ReservationEvent) -> None:
    """Tell every subscriber; a failing subscriber never fails the use case."""
    for subscriber in list(_subscribers):
        try:
            subscriber(event)
        except Exception:
            logger.exception("a subscriber to reservation events failed")
