"""Every request is answered within a deadline: past it, 503 with Retry-After.

When PostgreSQL stops answering with the connection still open (packets dropped), a
statement waits with no error at all; requests hung for the whole 40 s of such an outage.
Cancelling the request is not enough: the handler's clean-up (a rollback, returning the
connection) may wait on the same silent connection. So the request runs in a task of its
own; at the deadline the client gets its answer at once, and the task is cancelled and
left to finish its clean-up in the background (bounded by the database connections' own
TCP timeouts), with whatever it still tries to send discarded.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mrs.http.error_handlers import service_unavailable

logger = logging.getLogger(__name__)

# Requests that are never cut short: liveness must answer whatever happens (it touches
# nothing that can hang).
_EXEMPT_PATHS = frozenset({"/health/liveness"})


class RequestDeadlineMiddleware:
    """Answers 503 (JSON for the API, the friendly page for pages) after `seconds`."""

    def __init__(self, app: ASGIApp, *, seconds: float) -> None:
        self.app = app
        self.seconds = seconds
        # Cancelled requests still cleaning up; kept referenced until they finish.
        self._abandoned: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in _EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        started = False
        answered = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if answered:
                return  # the deadline already answered this request
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        async def handle() -> None:
            await self.app(scope, receive, guarded_send)

        task = asyncio.get_running_loop().create_task(handle())
        try:
            done, _pending = await asyncio.wait({task}, timeout=self.seconds)
        except asyncio.CancelledError:
            task.cancel()
            raise
        if done or started:
            # Finished, or already answering (a response cannot be replaced midway).
            await task
            return
        answered = True
        task.cancel()
        self._abandoned.add(task)
        task.add_done_callback(self._forget)
        logger.error(
            "request deadline of %g s passed on %s %s: answered 503",
            self.seconds,
            scope.get("method"),
            scope.get("path"),
        )
        response = await service_unavailable(Request(scope, receive))
        await response(scope, receive, send)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._abandoned.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            logger.warning("a request cut short by its deadline ended with %r", error)
