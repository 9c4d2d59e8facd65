"""Recording what happened to a reservation or series, in the change's own transaction.

Every use case that creates, changes or cancels calls `record` before it commits; readers
outside the request (the invitation mail job in `mrs.calendars`) take the rows from
there. `details` says what a reader cannot see in the rows afterwards:

- `removed_attendees`: user ids no longer invited (they are told it is cancelled for them);
- `occurrence_dates`: ISO dates of the occurrences of a series this change touched
  (an occurrence edited or cancelled on its own is recorded with its `reservation_id`);
- `by_admin`: true when the actor is not the owner (the owner is always told, with `reason`);
- `decision`: "approved" or "rejected", a room manager's decision on a PENDING booking.

The same call writes the change's audit row (`mrs.audit`): one rule, one place, so no
reservation or series change can be recorded for the mail and missed by the audit log.
Its action is `reservation.*`, `series.*`, or `occurrence.*` for one reservation of a
series changed on its own (`audit_action`); `before`/`after` hold the changed fields only
(`meeting_fields`, `mrs.audit.service.changed`), and `on_behalf_of` the owner when
someone else (an administrator) acted.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    String,
    Table,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal_column,
    null,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from mrs.audit import service as audit
from mrs.audit.models import AuditEntry
from mrs.reservations.models import ChangeKind, ReservationChange
from mrs.wallclock import format_minute

reservation_change: Table = ReservationChange.__table__  # type: ignore[assignment]
audit_log: Table = AuditEntry.__table__  # type: ignore[assignment]

_VERBS = {
    ChangeKind.CREATED: "create",
    ChangeKind.CHANGED: "update",
    ChangeKind.CANCELLED: "cancel",
}
RESERVATION_CREATE = "reservation.create"
# The details `record` writes when someone other than the owner acted, as SQL text.
_BY_OTHER = literal_column("""'{"by_admin":true}'""", String())


def audit_action(
    kind: ChangeKind, *, reservation_id: int | None, occurrence: bool = False
) -> tuple[str, str]:
    """The audit row's (action, subject type) for a change: a series' own change is
    `series.<verb>`, a reservation's `reservation.<verb>`, and a reservation of a series
    changed on its own `occurrence.<verb>` (its subject still the reservation)."""
    verb = _VERBS[kind]
    if reservation_id is None:
        return f"series.{verb}", "series"
    return f"{'occurrence' if occurrence else 'reservation'}.{verb}", "reservation"


def meeting_fields(
    *,
    room_id: int,
    day: date | None,
    start_minute: int,
    end_minute: int,
    title: str | None,
    description: str,
    visibility: str,
    attendees: Collection[str] | None = None,
    rule: str | None = None,
) -> dict[str, Any]:
    """What a reservation (`day`) or a series (`rule`) is, as the audit log shows it:
    times as "HH:MM", attendees sorted (left out when None: not part of this change)."""
    fields: dict[str, Any] = {"room_id": room_id}
    if day is not None:
        fields["date"] = day.isoformat()
    if rule is not None:
        fields["rule"] = rule
    fields |= {
        "start": format_minute(start_minute),
        "end": format_minute(end_minute),
        "title": title,
        "description": description,
        "visibility": str(visibility),
    }
    if attendees is not None:
        fields["attendees"] = sorted(attendees)
    return fields


async def record(
    session: AsyncSession,
    kind: ChangeKind,
    *,
    now: datetime,
    actor_id: str | None,
    reservation_id: int | None = None,
    series_id: int | None = None,
    reason: str | None = None,
    owner_id: str | None = None,
    removed_attendees: Iterable[str] = (),
    occurrence_dates: Iterable[date] = (),
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    occurrence: bool = False,
    action: str | None = None,
    mail: bool = True,
    decision: str | None = None,
) -> None:
    """Add one change row and its audit row to the caller's transaction (they exist only
    if that commits). `owner_id`: whose reservation or series it is (None: the actor's);
    `before`/`after`: the changed fields; `occurrence`: the reservation is one of a series;
    `action`: the audit action when the kind's own does not say it (a check-in, a
    release, an approval, a rejection); `mail` False: nothing to tell anyone (the row is
    written as notified); `decision`: "approved" or "rejected", so the mail words it so."""
    if reservation_id is None and series_id is None:
        raise ValueError("a change is about a reservation or a series")
    by_admin = owner_id is not None and owner_id != actor_id
    details: dict[str, Any] = {}
    removed = sorted(set(removed_attendees))
    if removed:
        details["removed_attendees"] = removed
    dates = sorted({day.isoformat() for day in occurrence_dates})
    if dates:
        details["occurrence_dates"] = dates
    if by_admin:
        details["by_admin"] = True
    if decision is not None:
        details["decision"] = decision
    session.add(
        ReservationChange(
            kind=kind.value,
            reservation_id=reservation_id,
            series_id=series_id,
            actor_id=actor_id,
            reason=reason,
            details=json.dumps(details, separators=(",", ":")),
            created_at=now,
            notified_at=None if mail else now,
        )
    )
    kind_action, subject_type = audit_action(
        kind, reservation_id=reservation_id, occurrence=occurrence
    )
    await audit.record(
        session,
        action=action or kind_action,
        subject_type=subject_type,
        subject_id=reservation_id if reservation_id is not None else series_id,
        before=before,
        after=after,
        actor_id=actor_id,
        on_behalf_of=owner_id if by_admin else None,
        at=now,
    )


def creation_params(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters `creations_of`'s audit row binds: the new reservation's
    `meeting_fields` as JSON and where the request came from (`mrs.audit.context`)."""
    request_id, client_address = audit.request_origin()
    return {
        "audit_after": audit.as_json(fields),
        "audit_request_id": request_id,
        "audit_client_address": client_address,
    }


def creations_of(made: Any) -> list[Any]:
    """`record(CREATED)` for every row of `made` (a CTE of new reservations with their
    `reservation_id`, `user_id`, `booked_by` and `created_at`; the actor is who booked it,
    on behalf of the owner when that is someone else) as INSERT … SELECTs to put in the same
    statement (the change row, the audit row): PostgreSQL's one-statement booking records
    its change without another round trip. Literal values and named parameters only (the
    fast path sends only the statement's parameters: `creation_params`)."""
    change = insert(reservation_change).from_select(
        ["kind", "reservation_id", "actor_id", "details", "created_at"],
        select(
            literal_column(f"'{ChangeKind.CREATED.value}'", String()),
            made.c.reservation_id,
            func.coalesce(made.c.booked_by, made.c.user_id),
            case((made.c.booked_by.is_(None), literal_column("'{}'", String())), else_=_BY_OTHER),
            made.c.created_at,
        ),
    )
    audited = insert(audit_log).from_select(
        [
            "at",
            "actor_id",
            "on_behalf_of",
            "action",
            "subject_type",
            "subject_id",
            "after",
            "request_id",
            "client_address",
        ],
        select(
            made.c.created_at,
            func.coalesce(made.c.booked_by, made.c.user_id),
            case((made.c.booked_by.is_(None), null()), else_=made.c.user_id),
            literal_column(f"'{RESERVATION_CREATE}'", String()),
            literal_column("'reservation'", String()),
            cast(made.c.reservation_id, String()),
            bindparam("audit_after", type_=String()),
            bindparam("audit_request_id", type_=String()),
            bindparam("audit_client_address", type_=String()),
        ),
    )
    return [change, audited]


def read_details(raw: str) -> dict[str, Any]:
    """The `details` of a change row as a dict (an unreadable value reads as empty)."""
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
