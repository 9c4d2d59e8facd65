"""Security headers on every response, as a pure ASGI middleware (it is on the hot path)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

# The strict policy for everything we serve: our own scripts and styles only, no inline
# code, no plugins, no <base> tricks, never framed, forms post only to us.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
# The API docs page (Swagger UI, served from our own files) draws its icons from data:
# URLs in its stylesheet; that one page may load data: images, nothing else changes.
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)
STATIC_PREFIX = "/static/"
DOCS_PREFIX = "/api/docs"

ErrorHandler = Callable[[Request, Exception], Awaitable[Response]]


def _base_headers(policy: str) -> tuple[tuple[bytes, bytes], ...]:
    return (
        (b"content-security-policy", policy.encode()),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
        (b"permissions-policy", PERMISSIONS_POLICY.encode()),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"cross-origin-resource-policy", b"same-origin"),
    )


_COMMON_HEADERS = _base_headers(CONTENT_SECURITY_POLICY)
_DOCS_HEADERS = _base_headers(DOCS_CONTENT_SECURITY_POLICY)
_DROPPED = frozenset({b"server", b"x-powered-by"})
_CACHE_CONTROL = frozenset({b"cache-control"})


def _is_authenticated(scope: Scope, session_cookie_names: tuple[bytes, ...]) -> bool:
    """True when the request carries credentials (a bearer token or a session cookie)."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            return True
        if name == b"cookie" and any(cookie + b"=" in value for cookie in session_cookie_names):
            return True
    return False


class SecurityHeadersMiddleware:
    """Add the security headers to every HTTP response that passes through.

    It also turns an exception that escaped the app (before a response started) into the
    app's own error response, so that 500s carry the headers as well.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        hsts_max_age: int = 63_072_000,
        session_cookie_names: tuple[str, ...] = ("mrs_session", "__Host-mrs_session"),
        error_handler: Callable[[], ErrorHandler | None] | None = None,
    ) -> None:
        self.app = app
        self.hsts = f"max-age={hsts_max_age}; includeSubDomains".encode()
        self.session_cookie_names = tuple(name.encode() for name in session_cookie_names)
        self.error_handler = error_handler

    def headers_for(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        """The headers this request's response gets (built from constants: hot path)."""
        path: str = scope.get("path", "")
        docs = path == DOCS_PREFIX or path.startswith(DOCS_PREFIX + "/")
        headers = list(_DOCS_HEADERS if docs else _COMMON_HEADERS)
        if scope.get("scheme") == "https":
            headers.append((b"strict-transport-security", self.hsts))
        if not path.startswith(STATIC_PREFIX) and _is_authenticated(
            scope, self.session_cookie_names
        ):
            # Personal data must not stay in shared or browser caches.
            headers.append((b"cache-control", b"no-store"))
        return headers

    def _starts_session(self, headers: Iterable[tuple[bytes, bytes]]) -> bool:
        """True when the response sets a session cookie (a login, a renewed session)."""
        return any(
            name.lower() == b"set-cookie"
            and any(value.startswith(cookie + b"=") for cookie in self.session_cookie_names)
            for name, value in headers
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.headers_for(scope)
        # Our no-store replaces whatever caching the app asked for on credentialed requests.
        no_store = extra[-1][0] == b"cache-control"
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = message.get("headers", ())
                # A login's answer carries the new session (token and cookie) although
                # its request carried none: it must not be stored anywhere either.
                private = no_store or self._starts_session(headers)
                dropped = _DROPPED | _CACHE_CONTROL if private else _DROPPED
                # No banner: whatever set it, the server software is nobody's business.
                # The app's own security headers (a page's stricter CSP, say) are kept.
                current = [(name, value) for name, value in headers if name.lower() not in dropped]
                present = {name.lower() for name, _ in current}
                current += [(name, value) for name, value in extra if name not in present]
                if private and not no_store:
                    current.append((b"cache-control", b"no-store"))
                message["headers"] = current
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            handler = self.error_handler() if self.error_handler else None
            if started or handler is None:
                raise
            # The app's own catch-all handler logs the error and renders the 500.
            response = await handler(Request(scope), exc)
            await response(scope, receive, send_with_headers)
