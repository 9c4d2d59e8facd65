"""Remembered session checks: never a revoked session, whichever process revoked it.

Each `Database` here stands for one server process (a uvicorn worker): the app's own is
"this process", a second one on the same database is "another worker".
"""

from __future__ import annotations

import asyncio
from collections import namedtuple
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import text

from mrs.accounts import session_cache, sessions, users
from mrs.accounts.errors import InvalidToken
from mrs.accounts.sessions import AuthenticatedUser
from mrs.accounts.tokens import TokenClaims, decode_token
from mrs.clock import system_clock
from mrs.db.engine import Database
from tests.conftest import LoginFactory, UserFactory

Row = namedtuple("Row", "user_id")


async def _eventually(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached in time")


@pytest.fixture
async def other_worker(app: Any) -> AsyncIterator[Database]:
    database = Database(app.state.settings)
    yield database
    await database.dispose()


@pytest.fixture
async def remembered(
    app: Any, make_user: UserFactory, login: LoginFactory
) -> tuple[TokenClaims, session_cache.SessionCache]:
    """A logged-in user whose session check this process now remembers."""
    headers = await login(await make_user("kana"))
    claims = decode_token(
        headers["Authorization"].removeprefix("Bearer "),
        secret=app.state.settings.effective_secret_key,
    )
    db: Database = app.state.db
    await sessions.user_for_token(db, claims=claims)
    cache = session_cache.for_database(db)
    assert cache is not None
    await _eventually(lambda: cache.listening)
    await sessions.user_for_token(db, claims=claims)
    assert cache.get(claims.session_id) is not None
    return claims, cache


async def test_a_remembered_session_is_checked_without_the_database(
    app: Any, remembered: tuple[TokenClaims, session_cache.SessionCache], monkeypatch: Any
) -> None:
    claims, _cache = remembered

    async def no_database(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("the session check went to the database")

    monkeypatch.setattr(app.state.db, "read", no_database)
    user = await sessions.user_for_token(app.state.db, claims=claims)
    assert user.user_id == "kana"


async def test_a_logout_in_this_process_is_refused_at_once(
    app: Any, remembered: tuple[TokenClaims, session_cache.SessionCache], monkeypatch: Any
) -> None:
    claims, cache = remembered
    # This process's own changes must not depend on its notice arriving in time.
    monkeypatch.setattr(cache, "notice", lambda _payload: None)
    user = AuthenticatedUser(user_id="kana", role_name="USER", session_id=claims.session_id)
    await sessions.logout(app.state.db, user=user, now=system_clock())
    with pytest.raises(InvalidToken):  # no waiting for any notice
        await sessions.user_for_token(app.state.db, claims=claims)


@pytest.mark.parametrize("change", ["end_sessions", "disable_user"])
async def test_another_worker_revoking_the_session_is_heard_here(
    app: Any,
    remembered: tuple[TokenClaims, session_cache.SessionCache],
    other_worker: Database,
    change: str,
) -> None:
    claims, cache = remembered
    now = system_clock()
    if change == "end_sessions":
        await users.end_sessions(other_worker, user_id="kana", now=now)
    else:
        await users.disable_user(other_worker, user_id="kana", admin_id="admin", now=now)
    await _eventually(lambda: cache.get(claims.session_id) is None, seconds=2.0)
    with pytest.raises(InvalidToken):
        await sessions.user_for_token(app.state.db, claims=claims)


async def test_nothing_is_remembered_while_the_notices_cannot_be_heard(
    app: Any, remembered: tuple[TokenClaims, session_cache.SessionCache]
) -> None:
    claims, cache = remembered
    # The listening connection dies (a database restart, a network cut): until it is back
    # every check goes to the database.
    async with app.state.db.transaction() as session:
        killed = await session.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query LIKE 'LISTEN%'"
            )
        )
    assert killed == 1
    await _eventually(lambda: not cache.listening)
    assert cache.get(claims.session_id) is None
    await sessions.user_for_token(app.state.db, claims=claims)
    assert cache.get(claims.session_id) is None  # not stored while deaf
    await _eventually(lambda: cache.listening)  # reconnected after a pause
    await sessions.user_for_token(app.state.db, claims=claims)
    assert cache.get(claims.session_id) is not None


# --- the cache's own rules (no database) ---


def _listening_cache(**kwargs: Any) -> session_cache.SessionCache:
    cache = session_cache.SessionCache(**kwargs)
    cache.set_listening(True)
    return cache


def test_a_row_read_while_a_notice_arrived_is_not_kept() -> None:
    cache = _listening_cache()
    generation = cache.generation
    cache.notice("s:other-session")  # arrives while our read is in flight
    cache.put("mine", Row("kana"), generation=generation)
    assert cache.get("mine") is None
    cache.put("mine", Row("kana"), generation=cache.generation)
    assert cache.get("mine") == Row("kana")


def test_notices_forget_a_session_or_every_session_of_a_user() -> None:
    cache = _listening_cache()
    for session_id, user_id in (("a1", "aki"), ("a2", "aki"), ("b1", "ben")):
        cache.put(session_id, Row(user_id), generation=cache.generation)
    cache.notice("s:b1")
    assert cache.get("b1") is None
    cache.notice("u:aki")
    assert cache.get("a1") is None
    assert cache.get("a2") is None


def test_rows_expire_and_the_cache_stays_bounded() -> None:
    expired = _listening_cache(ttl_seconds=0.0)
    expired.put("s", Row("kana"), generation=expired.generation)
    assert expired.get("s") is None
    small = _listening_cache(limit=2)
    for session_id in ("s1", "s2", "s3"):
        small.put(session_id, Row("kana"), generation=small.generation)
    assert small.get("s1") is None  # the oldest made room
    assert small.get("s3") is not None


def test_a_deaf_cache_remembers_nothing() -> None:
    cache = session_cache.SessionCache()
    cache.put("s", Row("kana"), generation=cache.generation)
    assert cache.get("s") is None
