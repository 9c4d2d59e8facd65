"""Feed tokens and the cache of built feeds, without a database."""

from __future__ import annotations

import hashlib

from mrs.calendars.feed_tokens import (
    feed_url,
    is_token_shaped,
    new_token,
    subscribe_base,
    token_hash,
)
from mrs.calendars.feeds import FeedCache


def test_tokens_are_43_url_safe_characters_and_stored_as_their_sha256() -> None:
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50
    assert all(is_token_shaped(token) for token in tokens)
    token = tokens.pop()
    assert token_hash(token) == hashlib.sha256(token.encode()).hexdigest()
    for bad in ("", "a" * 42, "a" * 44, "a" * 42 + "/", "a" * 42 + "\n", "ａ" * 43):
        assert not is_token_shaped(bad)


def test_feed_urls() -> None:
    assert feed_url("https://mrs.example/", "T") == "https://mrs.example/calendar/T.ics"
    assert feed_url("https://mrs.example", "T", 7) == "https://mrs.example/calendar/T/rooms/7.ics"


def test_feeds_are_offered_at_the_public_url_when_one_is_set() -> None:
    assert subscribe_base("https://rooms.example.com", "http://10.0.0.5:8000/") == (
        "https://rooms.example.com"
    )
    assert subscribe_base("", "http://10.0.0.5:8000/") == "http://10.0.0.5:8000/"


def test_the_cache_keeps_the_most_recently_used_within_its_size() -> None:
    cache = FeedCache(max_bytes=100)
    cache.put("a", "x" * 20)
    cache.put("b", "y" * 20)
    assert cache.get("a") == "x" * 20  # now the most recent
    cache.put("c", "z" * 20)
    cache.put("d", "w" * 20)
    cache.put("e", "v" * 20)
    cache.put("f", "u" * 20)  # 120 bytes: the least recently used goes
    assert cache.get("b") is None
    assert cache.get("a") == "x" * 20
    assert cache.get("f") == "u" * 20
    cache.put("big", "q" * 26)  # over a quarter of the cache: not kept
    assert cache.get("big") is None
