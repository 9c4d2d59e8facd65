"""Reading reservations: one reservation, a room's day or range, a user's list, each as
its reader may see it (`to_view` applies the visibility rule once for every door)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from mrs.db.engine import Database
from mrs.i18n import DEFAULT_LOCALE, display_name
from mrs.reservations import rules, statements
from mrs.reservations.errors import ReservationNotFound
from mrs.reservations.models import Visibility
from mrs.settings import Settings
from mrs.wallclock import elapsed_minutes, wall_instant


@dataclass(frozen=True)
class AttendeeView:
    user_id: str
    display_name: str


@dataclass(frozen=True)
class ReservationView:
    """A reservation as one reader may see it (`to_view`: visibility applied)."""

    reservation_id: int
    room_id: int
    room_name: str
    date: date
    start_time: int
    end_time: int
    duration_minutes: int
    user_id: str
    user_name: str
    status: str
    created_at: datetime
    cancelled_at: datetime | None
    cancelled_by: str | None
    # The owner's names apart, for pages that write them in the reader's order.
    first_name: str = ""
    last_name: str = ""
    # The title given; else the owner's name; "Reserved" when the reader may not see it.
    title: str = ""
    title_given: bool = False
    details_visible: bool = True
    description: str = ""
    visibility: str = Visibility.PUBLIC.value
    attendees: tuple[AttendeeView, ...] = ()
    # The owner's name in the reader's language.
    owner: str = ""
    version: int = 1
    updated_at: datetime | None = None
    # The reader's part in the meeting: "owner", "attendee", "delegate" (booked it for
    # the owner) or none.
    role: Literal["owner", "attendee", "delegate"] | None = None
    # The series it is an occurrence of (None for a single booking), and whether it was
    # changed or cancelled on its own (a series edit then leaves it alone).
    series_id: int | None = None
    is_exception: bool = False
    # Who booked it for the owner (a delegate or an administrator); None: the owner did.
    booked_by: str | None = None


def _attendee_rows(packed: Any) -> list[tuple[str, str, str]]:
    """The view row's attendees column: JSON [[user_id, first, last], ...] (already a
    list from psycopg, text from SQLite), or NULL when there are none."""
    if packed is None:
        return []
    items = json.loads(packed) if isinstance(packed, str) else packed
    return sorted((str(user_id), str(first), str(last)) for user_id, first, last in items)


def to_view(
    row: Any, tz: ZoneInfo, *, viewer: rules.Actor | None = None, locale: str = DEFAULT_LOCALE
) -> ReservationView:
    """The reservation `row` as `viewer` may see it, in `locale`. Without a viewer, a
    private meeting's details are withheld (nobody in particular is asking)."""
    people = _attendee_rows(getattr(row, "attendees", None))
    attendee_ids = [user_id for user_id, _, _ in people]
    visible = rules.sees_details(
        viewer_id=viewer.user_id if viewer else "",
        viewer_is_admin=viewer.is_admin if viewer else False,
        owner_id=row.user_id,
        visibility=row.visibility,
        attendee_ids=attendee_ids,
    )
    owner = display_name(locale, row.first_name, row.last_name) or row.user_id
    booked_by = getattr(row, "booked_by", None)
    role: Literal["owner", "attendee", "delegate"] | None = None
    if viewer is not None and viewer.user_id == row.user_id:
        role = "owner"
    elif viewer is not None and viewer.user_id in attendee_ids:
        role = "attendee"
    elif viewer is not None and booked_by is not None and viewer.user_id == booked_by:
        role = "delegate"
    title = rules.shown_title(locale, visible=visible, title=row.title, owner_name=owner)
    return ReservationView(
        reservation_id=row.reservation_id,
        room_id=row.room_id,
        room_name=row.room_name,
        date=row.reserved_date,
        start_time=row.start_minute,
        end_time=row.end_minute,
        duration_minutes=elapsed_minutes(row.reserved_date, row.start_minute, row.end_minute, tz),
        user_id=row.user_id,
        user_name=f"{row.first_name} {row.last_name}".strip(),
        first_name=row.first_name,
        last_name=row.last_name,
        status=row.status,
        created_at=row.created_at,
        cancelled_at=row.cancelled_at,
        cancelled_by=row.cancelled_by,
        title=title,
        title_given=visible and row.title is not None,
        details_visible=visible,
        description=row.description if visible else "",
        visibility=row.visibility,
        attendees=tuple(
            AttendeeView(user_id, display_name(locale, first, last) or user_id)
            for user_id, first, last in people
        )
        if visible
        else (),
        owner=owner,
        version=row.version,
        updated_at=row.updated_at,
        role=role,
        series_id=row.series_id,
        is_exception=bool(row.is_exception),
        booked_by=booked_by,
    )


async def get_reservation(
    db: Database,
    *,
    reservation_id: int,
    viewer: rules.Actor | None = None,
    locale: str = DEFAULT_LOCALE,
) -> ReservationView:
    """One reservation as `viewer` may see it (any status)."""
    rows = await db.read(
        statements.reservation_by_id(db.dialect), {"reservation_id": reservation_id}
    )
    if not rows:
        raise ReservationNotFound(reservation_id=reservation_id)
    return to_view(rows[0], db.settings.tz, viewer=viewer, locale=locale)


async def reservations_of_room_day(
    db: Database,
    *,
    room_id: int,
    day: date,
    viewer: rules.Actor | None = None,
    locale: str = DEFAULT_LOCALE,
) -> list[ReservationView]:
    """The active reservations of a room on a day, in time order, as `viewer` may see them."""
    rows = await db.read(statements.room_day(db.dialect), {"room_id": room_id, "day": day})
    return [to_view(row, db.settings.tz, viewer=viewer, locale=locale) for row in rows]


async def reservations_of_room_range(
    db: Database,
    *,
    room_id: int,
    from_day: date,
    to_day: date,
    viewer: rules.Actor | None = None,
    locale: str = DEFAULT_LOCALE,
) -> list[ReservationView]:
    """The active reservations of a room from `from_day` to `to_day` (inclusive, at most
    `rules.MAX_RANGE_DAYS` days), by date and time, as `viewer` may see them."""
    rules.check_date_range(from_day, to_day)
    rows = await db.read(
        statements.room_range(db.dialect),
        {"room_id": room_id, "from_day": from_day, "to_day": to_day},
    )
    return [to_view(row, db.settings.tz, viewer=viewer, locale=locale) for row in rows]


async def reservations_of_user(
    db: Database,
    *,
    user_id: str,
    now: datetime,
    settings: Settings,
    limit: int = 500,
    locale: str = DEFAULT_LOCALE,
) -> list[ReservationView]:
    """The reservations a user owns (a delegate's bookings for them too), attends, or
    booked as a delegate for their principals (`role` says which): upcoming ones first
    (soonest first), then past ones (latest first)."""
    params = {"user_id": user_id, "limit": limit}
    rows = list(await db.read(statements.of_user(db.dialect), params))
    seen = {row.reservation_id for row in rows}
    for row in await db.read(statements.booked_for_principals(db.dialect), params):
        if row.reservation_id not in seen:
            rows.append(row)
    rows.sort(key=lambda row: (row.reserved_date, row.start_minute), reverse=True)
    viewer = rules.Actor(user_id, is_admin=False)
    views = [to_view(row, settings.tz, viewer=viewer, locale=locale) for row in rows[:limit]]
    upcoming: list[ReservationView] = []
    past: list[ReservationView] = []
    for view in views:
        ended = wall_instant(view.date, view.end_time, settings.tz) <= now
        (past if ended else upcoming).append(view)
    return upcoming[::-1] + past
