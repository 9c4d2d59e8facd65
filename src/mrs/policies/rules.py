"""Pure policy and quota rules: what a booking may be, given the limits that apply.
No database, no I/O; each rule raises the refusal that names it, and exactly at a
limit passes."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from mrs.policies.errors import (
    PolicyMaxLength,
    PolicyMinNotice,
    PolicyNotAllowed,
    PolicyTooFarAhead,
    QuotaFutureReservations,
    QuotaHoursPerWeek,
)
from mrs.wallclock import wall_instant

ADMIN_ROLE = "ADMIN"
ROLES = ("USER", "ADMIN")


@dataclass(frozen=True)
class Limits:
    """The policy in force for one room (the room's value, else the site default);
    None: no limit. No `roles` and no group named: everyone may book."""

    max_minutes: int | None = None
    max_days_ahead: int | None = None
    min_notice_minutes: int = 0
    roles: frozenset[str] = frozenset()
    names_groups: bool = False


@dataclass(frozen=True)
class Quota:
    """One user's quota in force; None: no limit."""

    max_future_reservations: int | None = None
    max_hours_per_week: int | None = None

    @property
    def applies(self) -> bool:
        return self.max_future_reservations is not None or self.max_hours_per_week is not None


@dataclass(frozen=True)
class Slot:
    """One booking asked for: a day and its wall-clock minutes."""

    day: date
    start_minute: int
    end_minute: int

    @property
    def minutes(self) -> int:
        return self.end_minute - self.start_minute


def max_length_refusal(max_minutes: int) -> PolicyMaxLength:
    """The refusal for a booking longer than `max_minutes`, in hours when they are whole."""
    hours, rest = divmod(max_minutes, 60)
    if rest:
        return PolicyMaxLength(minutes=max_minutes)
    if hours == 1:
        return PolicyMaxLength(PolicyMaxLength.one_hour)
    return PolicyMaxLength(PolicyMaxLength.in_hours, hours=hours)


def check_length(slot: Slot, max_minutes: int | None) -> None:
    """A booking lasts at most `max_minutes` (wall-clock minutes, as it is spoken)."""
    if max_minutes is not None and slot.minutes > max_minutes:
        raise max_length_refusal(max_minutes)


def last_bookable_day(today: date, max_days_ahead: int) -> date:
    return today + timedelta(days=max_days_ahead)


def check_days_ahead(slot: Slot, max_days_ahead: int | None, *, today: date) -> None:
    """A booking's date is at most `max_days_ahead` days after today (the site's today)."""
    if max_days_ahead is None:
        return
    last = last_bookable_day(today, max_days_ahead)
    if slot.day > last:
        raise PolicyTooFarAhead(days=max_days_ahead, last_date=last.isoformat())


def check_notice(slot: Slot, min_notice_minutes: int, *, now: datetime, tz: ZoneInfo) -> None:
    """A booking is made at least `min_notice_minutes` before it starts."""
    if min_notice_minutes <= 0:
        return
    start = wall_instant(slot.day, slot.start_minute, tz)
    if start - now < timedelta(minutes=min_notice_minutes):
        raise PolicyMinNotice(minutes=min_notice_minutes)


def parse_roles(stored: str | None) -> frozenset[str]:
    """The roles a room's policy names (stored comma-separated; NULL or empty: none)."""
    return frozenset(part.strip() for part in (stored or "").split(",") if part.strip())


def may_book(limits: Limits, *, role: str, in_named_group: bool) -> bool:
    """Whether someone may book: everyone when the room names neither roles nor groups,
    else someone of a named role or a member of a named group."""
    if not limits.roles and not limits.names_groups:
        return True
    return role in limits.roles or (limits.names_groups and in_named_group)


def check_policy(
    limits: Limits,
    slots: Iterable[Slot],
    *,
    role: str,
    in_named_group: bool,
    now: datetime,
    tz: ZoneInfo,
) -> None:
    """Every slot passes the room's policy, else the first refusal (who may book first,
    then length, how far ahead, notice)."""
    if not may_book(limits, role=role, in_named_group=in_named_group):
        raise PolicyNotAllowed()
    today = now.astimezone(tz).date()
    for slot in slots:
        check_length(slot, limits.max_minutes)
        check_days_ahead(slot, limits.max_days_ahead, today=today)
        check_notice(slot, limits.min_notice_minutes, now=now, tz=tz)


def most_generous(values: Collection[int | None]) -> int | None:
    """The most generous of some limits (at least one): None, no limit, beats any number."""
    if any(value is None for value in values):
        return None
    return max(value for value in values if value is not None)


@dataclass(frozen=True)
class GroupLimit:
    """One limit over the groups of a user that have a quota: whether some leave it at
    the site default (NULL), and the largest number the others give."""

    some_at_default: bool
    largest: int | None


def group_limit(site_value: int | None, groups: GroupLimit) -> int | None:
    """The most generous of a user's groups' values of one limit (a group's NULL: the
    site default)."""
    values: list[int | None] = [site_value] if groups.some_at_default else []
    if groups.largest is not None:
        values.append(groups.largest)
    return most_generous(values) if values else site_value


def resolve_quota(
    site: Quota,
    *,
    override: Quota | None = None,
    groups: tuple[GroupLimit, GroupLimit] | None = None,
) -> Quota:
    """The quota in force for one user: an admin's override as it is (None: no limit);
    else the most generous of the user's groups that have a quota (`groups`: future
    reservations, hours per week); else the site default."""
    if override is not None:
        return override
    if groups is None:
        return site
    future, hours = groups
    return Quota(
        max_future_reservations=group_limit(site.max_future_reservations, future),
        max_hours_per_week=group_limit(site.max_hours_per_week, hours),
    )


def week_start(day: date) -> date:
    """The Monday of `day`'s ISO week."""
    return day - timedelta(days=day.weekday())


def check_quota(
    quota: Quota,
    slots: Collection[Slot],
    *,
    future_count: int,
    week_minutes: Mapping[date, int],
) -> None:
    """The user's reservations to come (`future_count` already, plus `slots`) and their
    booked minutes per ISO week (`week_minutes` by Monday, plus `slots`) stay within
    `quota`; exactly at a limit passes."""
    limit = quota.max_future_reservations
    if limit is not None and future_count + len(slots) > limit:
        raise QuotaFutureReservations(limit=limit)
    hours = quota.max_hours_per_week
    if hours is None:
        return
    added: dict[date, int] = {}
    for slot in slots:
        monday = week_start(slot.day)
        added[monday] = added.get(monday, 0) + slot.minutes
    for monday in sorted(added):
        if week_minutes.get(monday, 0) + added[monday] > hours * 60:
            raise QuotaHoursPerWeek(limit=hours, week_start=monday.isoformat())
