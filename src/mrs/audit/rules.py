"""Pure rules of the audit log: what a filter's period means, the CSV's columns."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from mrs.errors import InvalidInput

# The longest period one filter may span (the CSV export reads at most MAX_CSV_ROWS).
MAX_PERIOD_DAYS = 3660
MAX_CSV_ROWS = 50_000
# What the "who" and "action" filters accept: an id's characters, an action's.
ACTOR_PATTERN = r"^[A-Za-z0-9._@-]{1,32}$"
ACTION_PATTERN = r"^[a-z_.]{1,64}$"
CSV_HEADER = (
    "audit_id",
    "at",
    "actor_id",
    "on_behalf_of",
    "action",
    "subject_type",
    "subject_id",
    "before",
    "after",
    "request_id",
    "client_address",
)


def valid_actor(text: str) -> bool:
    return re.fullmatch(ACTOR_PATTERN, text) is not None


def valid_action(text: str) -> bool:
    return re.fullmatch(ACTION_PATTERN, text) is not None


def period_bounds(
    first: date | None, last: date | None, tz: ZoneInfo
) -> tuple[datetime | None, datetime | None]:
    """The UTC instants [since, until) of the site's local dates `first` to `last`
    (inclusive; either may be open). A period running backwards or too long is refused."""
    if first is not None and last is not None:
        if last < first:
            raise InvalidInput("The last date must not be before the first date.")
        if (last - first).days >= MAX_PERIOD_DAYS:
            raise InvalidInput("The period can be at most {days} days.", days=MAX_PERIOD_DAYS)
    since = (
        datetime.combine(first, time(0), tzinfo=tz).astimezone(UTC) if first is not None else None
    )
    until = (
        datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
        if last is not None
        else None
    )
    return since, until


def parsed(text: str | None) -> object:
    """A stored before/after JSON text as data (None stays None)."""
    return None if text is None else json.loads(text)


def readable(text: str | None) -> list[tuple[str, str]]:
    """A stored before/after JSON object as (field, value) lines for a person to read:
    text as it is, None as "—", lists joined by commas, other values as JSON."""
    value = parsed(text)
    if value is None:
        return []
    if not isinstance(value, dict):
        return [("", _shown(value))]
    return [(str(name), _shown(each)) for name, each in value.items()]


def _shown(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ", ".join(_shown(each) for each in value) if value else "—"
    return json.dumps(value, ensure_ascii=False)


def csv_row(
    audit_id: int,
    at: datetime,
    actor_id: str | None,
    on_behalf_of: str | None,
    action: str,
    subject_type: str,
    subject_id: str,
    before: str | None,
    after: str | None,
    request_id: str | None,
    client_address: str | None,
) -> Sequence[object]:
    """One CSV line: the instant in UTC ISO 8601, the JSON as stored."""
    return (
        audit_id,
        at.astimezone(UTC).isoformat(),
        actor_id or "",
        on_behalf_of or "",
        action,
        subject_type,
        subject_id,
        before or "",
        after or "",
        request_id or "",
        client_address or "",
    )
