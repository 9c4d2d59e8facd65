"""Conditional GET (RFC 9110 §13): whether a client's copy is still fresh, from its
If-None-Match / If-Modified-Since headers and our ETag and Last-Modified."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

# A list of entity tags is short; a header beyond this is not a client's cache talking.
_MAX_HEADER = 2000


def http_date(moment: datetime) -> str:
    """An IMF-fixdate ("Tue, 01 Dec 2026 07:55:46 GMT") for Last-Modified."""
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def _opaque(tag: str) -> str:
    """An entity tag without its weak marker (If-None-Match compares weakly)."""
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Whether If-None-Match names `etag` (weak comparison) or is "*"."""
    if len(if_none_match) > _MAX_HEADER:
        return False
    if if_none_match.strip() == "*":
        return True
    ours = _opaque(etag)
    return any(_opaque(tag) == ours for tag in if_none_match.split(","))


def not_modified_since(if_modified_since: str, last_modified: datetime) -> bool:
    """Whether Last-Modified is no later than If-Modified-Since (an unreadable date: no)."""
    if len(if_modified_since) > 100:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError, IndexError, OverflowError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return last_modified.replace(microsecond=0) <= since


def is_fresh(
    *,
    if_none_match: str | None,
    if_modified_since: str | None,
    etag: str,
    last_modified: datetime,
) -> bool:
    """Whether to answer 304: If-None-Match decides when given; If-Modified-Since only
    without it (RFC 9110 §13.2.2)."""
    if if_none_match is not None:
        return etag_matches(if_none_match, etag)
    if if_modified_since is not None:
        return not_modified_since(if_modified_since, last_modified)
    return False
