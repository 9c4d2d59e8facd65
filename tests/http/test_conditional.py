"""Conditional GET rules (RFC 9110 §13), without a server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mrs.http.conditional import etag_matches, http_date, is_fresh, not_modified_since
from mrs.http.secret_paths import loggable_path

MODIFIED = datetime(2030, 1, 7, 0, 0, 0, tzinfo=UTC)
TAG = 'W/"abc"'


def test_http_dates_are_imf_fixdates_in_gmt() -> None:
    assert http_date(MODIFIED) == "Mon, 07 Jan 2030 00:00:00 GMT"


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        ('W/"abc"', True),
        ('"abc"', True),  # weak comparison
        ('"x", W/"abc"', True),
        ("*", True),
        ('"abcd"', False),
        ('W/"ab"', False),
        ("", False),
        ('"abc"' + ", " * 2000, False),  # absurdly long: not a cache talking
    ],
)
def test_if_none_match_compares_weakly(header: str, matches: bool) -> None:
    assert etag_matches(header, TAG) is matches


@pytest.mark.parametrize(
    ("header", "fresh"),
    [
        ("Mon, 07 Jan 2030 00:00:00 GMT", True),
        ("Mon, 07 Jan 2030 00:00:01 GMT", True),
        ("Sun, 06 Jan 2030 23:59:59 GMT", False),
        ("yesterday", False),
        ("", False),
        ("Mon, 07 Jan 2030 00:00:00", True),  # no zone: read as GMT
    ],
)
def test_if_modified_since(header: str, fresh: bool) -> None:
    assert not_modified_since(header, MODIFIED.replace(microsecond=500)) is fresh


def test_if_none_match_wins_over_if_modified_since() -> None:
    since = http_date(MODIFIED)
    assert not is_fresh(
        if_none_match='"other"', if_modified_since=since, etag=TAG, last_modified=MODIFIED
    )
    assert is_fresh(if_none_match=None, if_modified_since=since, etag=TAG, last_modified=MODIFIED)
    assert not is_fresh(
        if_none_match=None, if_modified_since=None, etag=TAG, last_modified=MODIFIED
    )


def test_feed_paths_are_masked_in_logs() -> None:
    assert loggable_path("/calendar/secret-token.ics") == "/calendar/***"
    assert loggable_path("/calendar/secret/rooms/3.ics") == "/calendar/***"
    assert loggable_path("/api/rooms") == "/api/rooms"
