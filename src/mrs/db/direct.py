"""Hot-path statements run straight on psycopg, outside SQLAlchemy's execution layer.

Measured on the project's machine (docs/performance.md): one small SELECT costs about
0.9 ms of CPU through an AsyncSession and about 0.14 ms through a psycopg connection
pool, and a request makes two of them (the session check and the domain query). So the
statements on every request's path are written once as SQLAlchemy statements (`text()`
with typed columns, or Core over the tables; named parameters only: the same statement
serves SQLite through SQLAlchemy) and, on PostgreSQL, compiled once and run here.

Each statement runs on its own in autocommit mode, so it is its own transaction: a
single-statement write (an INSERT … SELECT … RETURNING) is atomic exactly as it would be
inside BEGIN/COMMIT, one round trip instead of three. Errors come back as SQLAlchemy's
exception classes (DataError, IntegrityError, OperationalError, …), so callers and the
HTTP error handlers treat both paths alike.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import psycopg
import psycopg.sql
from psycopg.rows import namedtuple_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement

_DIALECT = postgresql.dialect(paramstyle="pyformat")  # type: ignore[no-untyped-call]
logger = logging.getLogger(__name__)
# A lost listening connection is retried with growing pauses, up to this many seconds.
LISTEN_RETRY_MAX_SECONDS = 30.0


class DirectPool:
    """A psycopg connection pool for one event loop, opened on first use."""

    def __init__(
        self,
        conninfo: str,
        *,
        size: int,
        timeout_seconds: float,
        connect_kwargs: Mapping[str, Any],
        reconnect_seconds: float = 0.5,
    ) -> None:
        self._conninfo = conninfo
        self._reconnect_seconds = reconnect_seconds
        self._checking: asyncio.Task[None] | None = None
        self._size = size
        self._timeout = timeout_seconds
        self._connect_kwargs = {**connect_kwargs, "autocommit": True}
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opening = asyncio.Lock()
        self._listeners: list[asyncio.Task[None]] = []
        # Keyed by id(); the statement is kept alongside so the id is never reused.
        self._compiled: dict[int, tuple[Executable, str]] = {}

    async def _get_pool(self) -> AsyncConnectionPool[psycopg.AsyncConnection[Any]]:
        loop = asyncio.get_running_loop()
        if self._pool is not None and self._loop is loop:
            return self._pool
        async with self._opening:
            if self._pool is None or self._loop is not loop:
                # A pool belongs to the loop that opened it (a CLI command may run
                # several loops one after the other): an old loop's pool is dropped.
                pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] = AsyncConnectionPool(
                    self._conninfo,
                    # Connections are opened as load needs them and kept (no churn):
                    # opening one costs PostgreSQL a process fork.
                    min_size=1,
                    max_size=self._size,
                    timeout=self._timeout,
                    max_lifetime=1800,
                    # psycopg_pool retries a failed connection with a doubling pause
                    # (1, 2, 4, 8 s ...) and meanwhile makes no new attempt for waiting
                    # requests: after an outage they kept failing for 8-10 s. Giving up
                    # the retry soon lets the next request connect afresh at once.
                    reconnect_timeout=self._reconnect_seconds,
                    kwargs=self._connect_kwargs,
                    open=False,
                    name="mrs-direct",
                )
                await pool.open(wait=False)
                self._pool, self._loop = pool, loop
        return self._pool

    def _sql(self, statement: Executable) -> str:
        entry = self._compiled.get(id(statement))
        if entry is None:
            assert isinstance(statement, ClauseElement)
            entry = (statement, str(statement.compile(dialect=_DIALECT)))
            self._compiled[id(statement)] = entry
        return entry[1]

    async def rows(
        self,
        statement: Executable,
        params: Mapping[str, Any],
        *,
        retry_broken: bool,
    ) -> Sequence[Any]:
        """The rows of one statement (named tuples); [] when it returns none.

        `retry_broken`: run it again, once, on a fresh connection when the pooled one
        turns out dead (after a database restart). Only for statements safe to repeat.
        """
        sql = self._sql(statement)
        pool = await self._get_pool()
        attempts = 2 if retry_broken else 1
        for attempt in range(attempts):
            try:
                async with pool.connection() as connection:
                    try:
                        cursor = connection.cursor(row_factory=namedtuple_row)
                        await cursor.execute(sql, params)
                        return await cursor.fetchall() if cursor.description else []
                    except psycopg.Error as error:
                        if connection.broken:
                            self._check_soon(pool)
                            if attempt + 1 < attempts:
                                continue
                        raise _translated(error, sql, params) from error
            except PoolTimeout as error:
                raise sa_exc.TimeoutError(str(error)) from error
        raise AssertionError("unreachable")  # pragma: no cover

    async def ping(self) -> None:
        """`SELECT 1` on a live connection, after testing (and replacing) the idle ones:
        right after an outage the pool may hold several dead connections, and a check
        that found one of them would call a database that is back "down"."""
        pool = await self._get_pool()
        try:
            await pool.check()
            async with pool.connection() as connection:
                await connection.execute("SELECT 1")
        except PoolTimeout as error:
            raise sa_exc.TimeoutError(str(error)) from error
        except psycopg.Error as error:
            raise _translated(error, "SELECT 1", {}) from error

    def _check_soon(self, pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]]) -> None:
        """One broken connection means its idle siblings are likely dead too (the database
        restarted or the network failed): test and replace them now, in the background,
        so that the next requests, writes included, do not each find a dead one."""
        if self._checking is None or self._checking.done():
            self._checking = asyncio.get_running_loop().create_task(
                pool.check(), name="mrs-direct-check"
            )

    def stats(self) -> Mapping[str, int]:
        """The pool's gauges (psycopg_pool's names), empty before first use."""
        return self._pool.get_stats() if self._pool is not None else {}

    def listen(
        self,
        channel: str,
        *,
        on_message: Callable[[str], None],
        on_listening: Callable[[bool], None],
    ) -> None:
        """Hand every NOTIFY on `channel` to `on_message`, from a task of the running loop.

        `on_listening(True)` runs once LISTEN is in place, `on_listening(False)` as soon as
        the connection is lost (messages may be missed until the next True); the
        connection is reopened with growing pauses until close().
        """
        task = asyncio.get_running_loop().create_task(
            self._listen(channel, on_message, on_listening), name=f"mrs-listen-{channel}"
        )
        self._listeners.append(task)

    async def _listen(
        self,
        channel: str,
        on_message: Callable[[str], None],
        on_listening: Callable[[bool], None],
    ) -> None:
        pause = 1.0
        while True:
            try:
                connection = await psycopg.AsyncConnection.connect(
                    self._conninfo, **self._connect_kwargs
                )
                async with connection:
                    await connection.execute(
                        psycopg.sql.SQL("LISTEN {}").format(psycopg.sql.Identifier(channel))
                    )
                    on_listening(True)
                    pause = 1.0
                    async for notice in connection.notifies():
                        on_message(notice.payload)
            except psycopg.Error as error:
                logger.warning("listening on %s stopped (%s); retrying", channel, error)
            finally:
                on_listening(False)
            await asyncio.sleep(pause)
            pause = min(pause * 2, LISTEN_RETRY_MAX_SECONDS)

    async def close(self) -> None:
        running = asyncio.get_running_loop()
        for task in self._listeners:
            if task.get_loop() is running:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._listeners.clear()
        if self._checking is not None and self._checking.get_loop() is running:
            self._checking.cancel()
            await asyncio.gather(self._checking, return_exceptions=True)
        self._checking = None
        if self._pool is not None and self._loop is running:
            await self._pool.close()
        self._pool = self._loop = None


def _translated(error: psycopg.Error, sql: str, params: Mapping[str, Any]) -> Exception:
    """The SQLAlchemy exception that the same error raises through an engine."""
    # Parameters stay out of the message: it is logged, and values are users' data.
    return sa_exc.DBAPIError.instance(sql, params, error, psycopg.Error, hide_parameters=True)
