"""Recording what happened to a reservation or series, in the change's own transaction.

Every use case that creates, changes or cancels calls `record` before it commits; readers
outside the request (the invitation mail job in `mrs.calendars`) take the rows from
there. `details` says what a reader cannot see in the rows afterwards:

- `removed_attendees`: user ids no longer invited (they are told it is cancelled for them);
- `occurrence_dates`: ISO dates of the occurrences of a series this change touched
  (an occurrence edited or cancelled on its own is recorded with its `reservation_id`);
- `by_admin`: true when the actor is not the owner (the owner is always told, with `reason`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, Table, insert, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from mrs.reservations.models import ChangeKind, ReservationChange

reservation_change: Table = ReservationChange.__table__  # type: ignore[assignment]


async def record(
    session: AsyncSession,
    kind: ChangeKind,
    *,
    now: datetime,
    actor_id: str | None,
    reservation_id: int | None = None,
    series_id: int | None = None,
    reason: str | None = None,
    by_admin: bool = False,
    removed_attendees: Iterable[str] = (),
    occurrence_dates: Iterable[date] = (),
) -> None:
    """Add one change row to the caller's transaction (it exists only if that commits)."""
    if reservation_id is None and series_id is None:
        raise ValueError("a change is about a reservation or a series")
    details: dict[str, Any] = {}
    removed = sorted(set(removed_attendees))
    if removed:
        details["removed_attendees"] = removed
    dates = sorted({day.isoformat() for day in occurrence_dates})
    if dates:
        details["occurrence_dates"] = dates
    if by_admin:
        details["by_admin"] = True
    session.add(
        ReservationChange(
            kind=kind.value,
            reservation_id=reservation_id,
            series_id=series_id,
            actor_id=actor_id,
            reason=reason,
            details=json.dumps(details, separators=(",", ":")),
            created_at=now,
        )
    )


def creations_of(made: Any) -> Any:
    """`record(CREATED)` for every row of `made` (a CTE of new reservations with their
    `reservation_id`, `user_id` and `created_at`) as an INSERT … SELECT to put in the
    same statement: PostgreSQL's one-statement booking records its change without another
    round trip. Literal values only (the fast path sends only the statement's parameters)."""
    return insert(reservation_change).from_select(
        ["kind", "reservation_id", "actor_id", "details", "created_at"],
        select(
            literal_column(f"'{ChangeKind.CREATED.value}'", String()),
            made.c.reservation_id,
            made.c.user_id,
            literal_column("'{}'", String()),
            made.c.created_at,
        ),
    )


def read_details(raw: str) -> dict[str, Any]:
    """The `details` of a change row as a dict (an unreadable value reads as empty)."""
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
