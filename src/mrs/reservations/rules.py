"""Pure reservation rules: slots, overlap, who may cancel. No database, no I/O."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from mrs.accounts.rules import normalize_user_id
from mrs.i18n import translate
from mrs.reservations.errors import (
    CancelledUnchangeable,
    CancelNotAllowed,
    DateRangeTooLong,
    EditNotAllowed,
    InvalidDateRange,
    InvalidTimeRange,
    OutsideDay,
    ReleasedUnchangeable,
    ReservationAlreadyEnded,
    ReservationOver,
    SlotMisaligned,
    StartInPast,
    TimeDoesNotExist,
)
from mrs.reservations.models import SLOT_HOLDING, ReservationStatus, Visibility
from mrs.wallclock import MINUTES_PER_DAY, format_minute, wall_instant, wall_time_exists


def check_time_range(start_minute: int, end_minute: int, slot_minutes: int) -> None:
    """A reservation lies within one day, ends after it starts, and sits on slot boundaries."""
    if not (0 <= start_minute <= MINUTES_PER_DAY and 0 <= end_minute <= MINUTES_PER_DAY):
        raise OutsideDay()
    if end_minute <= start_minute:
        raise InvalidTimeRange()
    if start_minute % slot_minutes or end_minute % slot_minutes:
        raise SlotMisaligned(slot_minutes=slot_minutes)


def check_times_exist(day: date, start_minute: int, end_minute: int, tz: ZoneInfo) -> None:
    """Both times happen on `day` at the site: not in the hour skipped when clocks spring
    forward. (A repeated hour is fine: its first occurrence is meant, see mrs.wallclock.)"""
    for field, minute in (("start_time", start_minute), ("end_time", end_minute)):
        if not wall_time_exists(day, minute, tz):
            raise TimeDoesNotExist(
                details={"field": field}, time=format_minute(minute), date=day.isoformat()
            )


def check_not_in_past(day: date, start_minute: int, now: datetime, tz: ZoneInfo) -> None:
    """A reservation may not start before now."""
    if wall_instant(day, start_minute, tz) < now:
        raise StartInPast()


def request_fingerprint(
    *,
    room_id: int,
    day: date,
    start_minute: int,
    end_minute: int,
    title: str | None = None,
    description: str = "",
    visibility: str = Visibility.PUBLIC,
    attendee_ids: Collection[str] = (),
    owner_id: str | None = None,
) -> str:
    """What a reservation request asks for, as a digest: an Idempotency-Key reused with
    another request must be told apart from a retry of the same one.

    A request with no meeting details digests as it did before meetings existed, so a
    retry across an upgrade is still recognised; `owner_id` (booking for someone else)
    is added only when given, for the same reason."""
    canonical = f"{room_id}|{day.isoformat()}|{start_minute}|{end_minute}"
    if title is not None or description or visibility != Visibility.PUBLIC or attendee_ids:
        meeting = [title, description, str(visibility), sorted(attendee_ids)]
        canonical += "|" + json.dumps(meeting, ensure_ascii=True, separators=(",", ":"))
    if owner_id is not None:
        canonical += f"|for:{owner_id}"
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def attendee_ids(requested: Iterable[str], *, owner_id: str) -> list[str]:
    """The attendees to store: ids normalised, each once, in the order given, the owner
    left out (the owner is not their own attendee)."""
    seen: dict[str, None] = {}
    for user_id in requested:
        normal = normalize_user_id(user_id)
        if normal and normal != owner_id:
            seen.setdefault(normal, None)
    return list(seen)


def overlaps(start_a: int, end_a: int, start_b: int, end_b: int) -> bool:
    """Half-open intervals: 10:00-10:30 and 10:30-11:00 do not overlap."""
    return start_a < end_b and start_b < end_a


@dataclass(frozen=True)
class Actor:
    """Who is acting: enough to decide permissions. `principals`: the users this actor
    is a delegate of, as far as looked up (`mrs.reservations.delegation.acting_for`
    fills in the one owner that matters; empty when nobody asked)."""

    user_id: str
    is_admin: bool
    principals: frozenset[str] = frozenset()


def may_act_for(actor: Actor, *, owner_id: str) -> bool:
    """Who may book for, change or cancel the reservations and series of `owner_id`: the
    owner, an administrator, or a delegate the owner named (代理予約). The one rule every
    path asks (booking on behalf, editing, moving, cancelling, series)."""
    return actor.is_admin or actor.user_id == owner_id or owner_id in actor.principals


def check_can_cancel(
    actor: Actor,
    *,
    owner_id: str,
    day: date,
    end_minute: int,
    now: datetime,
    tz: ZoneInfo,
) -> None:
    """The owner, a delegate or an admin may cancel; only an admin once it has ended."""
    if not may_act_for(actor, owner_id=owner_id):
        raise CancelNotAllowed()
    if not actor.is_admin and wall_instant(day, end_minute, tz) <= now:
        raise ReservationAlreadyEnded()


def check_can_edit(
    actor: Actor,
    *,
    owner_id: str,
    status: str,
    day: date,
    end_minute: int,
    now: datetime,
    tz: ZoneInfo,
) -> None:
    """The owner, a delegate or an admin may change a reservation while it holds its slot
    (active or waiting for approval) and is not over: a rejected or released one is as
    cancelled."""
    if not may_act_for(actor, owner_id=owner_id):
        raise EditNotAllowed()
    if status == ReservationStatus.RELEASED:
        raise ReleasedUnchangeable()
    if status not in SLOT_HOLDING:
        raise CancelledUnchangeable()
    if wall_instant(day, end_minute, tz) <= now:
        raise ReservationOver()


def sees_details(
    *,
    viewer_id: str,
    viewer_is_admin: bool,
    owner_id: str,
    visibility: str,
    attendee_ids: Collection[str],
) -> bool:
    """Whether a viewer may see what a meeting is (title, description, attendees).

    A public meeting shows them to everyone; a private one only to its owner, its
    attendees and administrators. Everyone else sees that the time is reserved, and by whom.
    """
    if visibility != Visibility.PRIVATE:
        return True
    return viewer_is_admin or viewer_id == owner_id or viewer_id in attendee_ids


# What a viewer who may not see a private meeting is shown instead of its title.
RESERVED_LABEL = "Reserved"


def shown_title(locale: str, *, visible: bool, title: str | None, owner_name: str) -> str:
    """The text a meeting carries for one reader: its title, the owner's name when no
    title was given, or "Reserved" when the meeting is private to this reader."""
    if not visible:
        return translate(locale, RESERVED_LABEL)
    return title or owner_name


# The most days `GET /api/rooms/{id}/reservations?from=&to=` answers at once.
MAX_RANGE_DAYS = 31


def check_date_range(from_day: date, to_day: date) -> None:
    """A range of days to read: `to` not before `from`, at most MAX_RANGE_DAYS days."""
    if to_day < from_day:
        raise InvalidDateRange(details={"field": "to"})
    if (to_day - from_day).days + 1 > MAX_RANGE_DAYS:
        raise DateRangeTooLong(details={"field": "to"}, max_days=MAX_RANGE_DAYS)
