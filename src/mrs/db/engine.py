"""Engines and the unit of work.

Services own their transactions: `async with db.transaction() as session:` commits when
the block ends normally and rolls back on any exception. Reads that need no lock use
`db.snapshot()`.

On SQLite, write transactions start with `BEGIN IMMEDIATE`, so two writers never both
read "slot free" and then both insert: SQLite serialises them, which gives the same
no-double-booking guarantee that the exclusion constraint gives on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from typing import Any

from sqlalchemy import CursorResult, Engine, create_engine, event, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.base import Executable

from mrs.db.direct import DirectPool
from mrs.db.urls import async_url, sync_url
from mrs.settings import Settings

SQLITE_BEGIN_OPTION = "mrs_sqlite_begin"
_PING = text("SELECT 1")


def _sqlite_setup(engine: Engine, busy_timeout_ms: int) -> None:
    """Let us issue BEGIN ourselves (pysqlite's own handling defers it), and set pragmas."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")


def pg_connect_args(settings: Settings) -> dict[str, Any]:
    """libpq parameters for every PostgreSQL connection (both pools, the CLI).

    A database that stops answering with the connection still open (packets dropped)
    gives no error at all: without these, a connection attempt or a pooled connection
    waits for minutes. The connect timeout bounds opening; keepalive probes find a
    silent peer while idle; TCP_USER_TIMEOUT closes a connection whose data goes
    unacknowledged (a statement sent into the void).
    """
    options = f"-c statement_timeout={settings.statement_timeout_ms} -c TimeZone=UTC"
    keepalive = settings.database_keepalive_seconds
    args: dict[str, Any] = {
        "options": options,
        "connect_timeout": settings.database_connect_timeout_seconds,
        "keepalives": 1,
        "keepalives_idle": keepalive,
        "keepalives_interval": keepalive,
        "keepalives_count": 3,
    }
    if settings.database_tcp_user_timeout_ms:
        args["tcp_user_timeout"] = settings.database_tcp_user_timeout_ms
    return args


def make_sync_engine(settings: Settings, url: str | None = None, **kwargs: Any) -> Engine:
    """A synchronous engine for the CLI, migrations and operations work."""
    target = sync_url(url or settings.effective_database_url)
    if target.get_backend_name() == "sqlite":
        _ensure_sqlite_dir(target.database)
        engine = create_engine(target, poolclass=NullPool, **kwargs)
        _sqlite_setup(engine, settings.sqlite_busy_timeout_ms)
        return engine
    return create_engine(
        target,
        pool_pre_ping=True,
        connect_args=pg_connect_args(settings),
        hide_parameters=True,  # error messages are logged; values are users' data
        **kwargs,
    )


def _ensure_sqlite_dir(database: str | None) -> None:
    if database and database != ":memory:":
        from pathlib import Path

        Path(database).parent.mkdir(parents=True, exist_ok=True)


class Database:
    """The request path's async engine and the unit-of-work scopes built on it."""

    def __init__(self, settings: Settings, url: str | None = None) -> None:
        self.settings = settings
        target = async_url(url or settings.effective_database_url)
        self.dialect = target.get_backend_name()
        self._direct: DirectPool | None = None
        if self.dialect == "sqlite":
            _ensure_sqlite_dir(target.database)
            self.engine: AsyncEngine = create_async_engine(
                target, poolclass=NullPool, hide_parameters=True
            )
            _sqlite_setup(self.engine.sync_engine, settings.sqlite_busy_timeout_ms)
            read_engine = self.engine.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
        else:
            self.engine = create_async_engine(
                target,
                pool_size=settings.pool_size,
                max_overflow=settings.pool_max_overflow,
                pool_timeout=settings.pool_timeout_seconds,
                pool_pre_ping=True,
                pool_recycle=1800,
                connect_args=pg_connect_args(settings),
                hide_parameters=True,  # error messages are logged; values are users' data
            )
            # Reads need no transaction: under READ COMMITTED each statement has its own
            # snapshot anyway, and autocommit saves the BEGIN and ROLLBACK round trips
            # that a read-only scope would otherwise cost on every request.
            read_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
            self._direct = DirectPool(
                target.set(drivername="postgresql").render_as_string(hide_password=False),
                size=settings.pool_size,
                timeout_seconds=settings.pool_timeout_seconds,
                connect_kwargs=pg_connect_args(settings),
                reconnect_seconds=settings.database_reconnect_seconds,
            )
        self._writer = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one write lock per file, and writers waiting for it poll with
        # back-off, not in turn: under 100 concurrent reservations some waited past the
        # busy timeout and failed with "database is locked" (a 500). Queueing this
        # process's writers in turn here leaves only the worker processes to contend.
        self._write_turn = asyncio.Lock() if self.dialect == "sqlite" else None
        self._reader = async_sessionmaker(read_engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A write transaction: committed at the end of the block, rolled back on error."""
        async with AsyncExitStack() as stack:
            if self._write_turn is not None:
                # Bounded like SQLite's own wait, so a mistaken nested write transaction
                # fails after the busy timeout instead of waiting forever.
                timeout = self.settings.sqlite_busy_timeout_ms / 1000
                await asyncio.wait_for(self._write_turn.acquire(), timeout)
                stack.callback(self._write_turn.release)
            session = await stack.enter_async_context(self._writer())
            await stack.enter_async_context(session.begin())
            yield session

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[AsyncSession]:
        """A scope for reads only (loaded objects stay usable, detached, after it).

        Never write in it: on PostgreSQL it runs in autocommit mode (see __init__), so a
        write would be committed statement by statement. Use `transaction()` to write.
        """
        async with self._reader() as session:
            yield session

    async def read(self, statement: Executable, params: Mapping[str, Any]) -> Sequence[Any]:
        """The rows of one read-only statement (rows have attribute access).

        The request path's hot reads: on PostgreSQL straight on psycopg (see
        mrs.db.direct), retried once if a pooled connection died; on SQLite through
        SQLAlchemy, which applies the statement's column types.
        """
        if self._direct is not None:
            return await self._direct.rows(statement, params, retry_broken=True)
        async with self.snapshot() as session:
            return (await session.execute(statement, params)).all()

    async def write(self, statement: Executable, params: Mapping[str, Any]) -> Sequence[Any]:
        """Run one writing statement as a transaction of its own; its rows.

        For writes that one statement can do atomically (INSERT … SELECT … RETURNING):
        on PostgreSQL in autocommit mode, one round trip; on SQLite in a write
        transaction (BEGIN IMMEDIATE, this process's writers in turn).
        """
        if self._direct is not None:
            return await self._direct.rows(statement, params, retry_broken=False)
        async with self.transaction() as session:
            result: CursorResult[Any] = await session.execute(statement, params)  # type: ignore[assignment]
            return result.all() if result.returns_rows else []

    async def ping(self) -> None:
        """Run `SELECT 1` on every pool the requests use; raises when one cannot.

        On PostgreSQL that is the hot path's psycopg pool and SQLAlchemy's pool: a
        readiness check that tried only one said "ready" while requests on the other
        still failed.
        """
        if self._direct is not None:
            await self._direct.ping()
        async with self.engine.connect() as connection:
            await connection.execute(_PING)

    def listen(
        self,
        channel: str,
        *,
        on_message: Callable[[str], None],
        on_listening: Callable[[bool], None],
    ) -> bool:
        """Follow PostgreSQL NOTIFY messages on `channel` (see DirectPool.listen) until
        dispose(). False, and nothing started, on SQLite, which has no NOTIFY."""
        if self._direct is None:
            return False
        self._direct.listen(channel, on_message=on_message, on_listening=on_listening)
        return True

    def direct_pool_stats(self) -> Mapping[str, int]:
        """Gauges of the PostgreSQL hot-path pool (empty on SQLite or before first use)."""
        return self._direct.stats() if self._direct is not None else {}

    async def dispose(self) -> None:
        if self._direct is not None:
            await self._direct.close()
        await self.engine.dispose()


@contextmanager
def sync_transaction(engine: Engine) -> Iterator[Session]:
    """A synchronous unit of work for CLI commands."""
    factory = sessionmaker(engine, expire_on_commit=False)
    with factory() as session, session.begin():
        yield session
