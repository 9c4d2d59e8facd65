"""Request body limits at the edge: size and read deadline, as a pure ASGI middleware.

A body is refused before the app holds it: a declared `Content-Length` over the limit is
answered 413 without reading a byte, and a streamed (chunked) body is cut off with 413 as
soon as it passes the limit. A client that sends its body too slowly gets 408 when the
deadline passes. Both answers close the connection, so the client stops sending.
(Slow headers are the server's business: see `mrs.security.serving`.)
"""

from __future__ import annotations

import asyncio

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mrs.http.error_handlers import status_response


class BodyTooLarge(HTTPException):
    """The body passed the limit while the app was reading it."""

    def __init__(self) -> None:
        super().__init__(413, headers={"Connection": "close"})


class BodyTooSlow(HTTPException):
    """The body did not arrive in time."""

    def __init__(self) -> None:
        super().__init__(408, headers={"Connection": "close"})


def _has_body(scope: Scope) -> tuple[bool, int | None]:
    """Whether a body follows the headers, and its declared length if any."""
    declared: int | None = None
    chunked = False
    for name, value in scope["headers"]:
        if name == b"content-length":
            # uvicorn has already refused a malformed length.
            declared = int(value) if value.isdigit() else None
        elif name == b"transfer-encoding":
            chunked = True
    return (chunked or bool(declared)), declared


class RequestLimitsMiddleware:
    """Refuse request bodies over `max_body_bytes` (413) or slower than `body_timeout` (408)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, body_timeout_seconds: float) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout_seconds = body_timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        has_body, declared = _has_body(scope)
        if not has_body:  # the hot path (GET): nothing to limit
            await self.app(scope, receive, send)
            return
        if declared is not None and declared > self.max_body_bytes:
            await _refuse(scope, receive, send, BodyTooLarge())
            return
        limit = self.max_body_bytes
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.body_timeout_seconds
        received = 0
        complete = False

        async def limited_receive() -> Message:
            nonlocal received, complete
            if complete:
                # After the body, receive() only waits for a disconnect: no deadline.
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise BodyTooSlow() from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
                complete = not message.get("more_body", False)
            else:
                complete = True
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except (BodyTooLarge, BodyTooSlow) as exc:
            # Raised where no route's error handler runs (a middleware reading the body).
            if started:
                raise
            await _refuse(scope, receive, send, exc)


async def _refuse(scope: Scope, receive: Receive, send: Send, exc: HTTPException) -> None:
    response = await status_response(Request(scope), exc.status_code)
    # Close the connection: the rest of the body is not worth reading.
    response.headers["Connection"] = "close"
    await response(scope, receive, send)
