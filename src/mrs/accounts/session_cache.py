"""Sessions this process has checked recently, forgotten the moment they change.

Every authenticated request checks its session (revoked? user still active? idle?). On
PostgreSQL that row is remembered here for a few seconds, which saves a round trip on
most requests (docs/performance.md), and is forgotten as soon as it can have changed:
triggers (migration 0005) NOTIFY every process when a session is revoked, shortened or
deleted, or a user's status or role changes. Nothing is remembered while this process is
not listening (before LISTEN is in place, after the connection is lost), and a lookup
done while a notice arrived is not stored, so a change is never hidden behind an answer
read just before it. Time limits are still checked on every request from the remembered
row; a remembered row only ever says yes sooner: any "no" is confirmed by the database.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from weakref import WeakKeyDictionary

from mrs.db.engine import Database

CHANNEL = "mrs_auth"
# Bounds how long a row can be trusted even if a notice were lost on its way.
TTL_SECONDS = 15.0
LIMIT = 10_000


class SessionCache:
    """Session rows (as the session check reads them) by session id."""

    def __init__(self, *, ttl_seconds: float = TTL_SECONDS, limit: int = LIMIT) -> None:
        self.ttl_seconds = ttl_seconds
        self.limit = limit
        self.listening = False
        # Bumped by every notice and every loss of the connection: a row read from the
        # database is stored only if no notice arrived since the read began.
        self.generation = 0
        self._rows: dict[str, tuple[Any, float]] = {}

    def get(self, session_id: str) -> Any | None:
        if not self.listening:
            return None
        entry = self._rows.get(session_id)
        if entry is None:
            return None
        row, stored_at = entry
        if time.monotonic() - stored_at > self.ttl_seconds:
            del self._rows[session_id]
            return None
        return row

    def put(self, session_id: str, row: Any, *, generation: int) -> None:
        """Remember `row`, read when `generation` was current (see `generation`)."""
        if not self.listening or generation != self.generation:
            return
        if session_id not in self._rows and len(self._rows) >= self.limit:
            del self._rows[next(iter(self._rows))]  # the oldest
        self._rows[session_id] = (row, time.monotonic())

    def update(self, session_id: str, row: Any) -> None:
        """Replace a remembered row (after writing last_seen_at), keeping its age."""
        entry = self._rows.get(session_id)
        if entry is not None:
            self._rows[session_id] = (row, entry[1])

    def forget(self, session_id: str) -> None:
        self.generation += 1
        self._rows.pop(session_id, None)

    def forget_user(self, user_id: str) -> None:
        self.generation += 1
        for session_id in [s for s, (row, _) in self._rows.items() if row.user_id == user_id]:
            del self._rows[session_id]

    def notice(self, payload: str) -> None:
        """A NOTIFY from the triggers: "s:<session id>" or "u:<user id>"."""
        kind, _, key = payload.partition(":")
        if kind == "s":
            self.forget(key)
        elif kind == "u":
            self.forget_user(key)
        else:
            self.set_listening(self.listening)  # unknown notice: forget everything

    def set_listening(self, listening: bool) -> None:
        # Whatever happened while not listening is unknown: start from nothing either way.
        self.generation += 1
        self._rows.clear()
        self.listening = listening


_caches: WeakKeyDictionary[Database, tuple[asyncio.AbstractEventLoop, SessionCache]] = (
    WeakKeyDictionary()
)


def forget(db: Database, *, session_id: str | None = None, user_id: str | None = None) -> None:
    """Forget a session, or all of a user's, in this process: for this process's own
    changes, called once they are committed (other processes hear of them by NOTIFY)."""
    known = _caches.get(db)
    if known is None:
        return
    if session_id is not None:
        known[1].forget(session_id)
    if user_id is not None:
        known[1].forget_user(user_id)


def for_database(db: Database) -> SessionCache | None:
    """The cache of `db` for the running loop, started on first use; None on SQLite."""
    if db.dialect != "postgresql":
        return None
    loop = asyncio.get_running_loop()
    known = _caches.get(db)
    if known is not None and known[0] is loop:
        return known[1]
    cache = SessionCache()
    # Looked up per message (not bound once), so tests can hold notices back.
    if not db.listen(
        CHANNEL,
        on_message=lambda payload: cache.notice(payload),
        on_listening=cache.set_listening,
    ):
        return None
    _caches[db] = (loop, cache)
    return cache
