"""Serving: uvicorn's options for slow and greedy clients, HTTPS with the hardened TLS
context, and the redirect listener."""

from __future__ import annotations

import asyncio
import functools
import threading
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mrs.security.certificates import ensure_self_signed
from mrs.security.headers import SecurityHeadersMiddleware
from mrs.security.hosts import HostPolicy
from mrs.security.redirect import RedirectToHTTPS
from mrs.security.tls import uvicorn_context_factory
from mrs.settings import Settings

APP_FACTORY = "mrs.app:app_from_environment"


def certificate_pair(settings: Settings) -> tuple[Path, Path | None]:
    """The configured certificate and key, or the data directory's self-signed pair."""
    if settings.certfile is not None:
        return settings.certfile, settings.keyfile
    pair = ensure_self_signed(settings.ensure_data_dir())
    return pair.certfile, pair.keyfile


def proxy_options(settings: Settings) -> dict[str, object]:
    """uvicorn's proxy-header options: trusted only from the configured proxy addresses."""
    if settings.forwarded_allow_ips.strip():
        return {"proxy_headers": True, "forwarded_allow_ips": settings.forwarded_allow_ips}
    return {"proxy_headers": False}


class DeadlineHTTPProtocol(HttpToolsProtocol):
    """uvicorn's HTTP protocol with a deadline and a size cap for each request's head.

    uvicorn closes a connection idle between requests, but its timer stops at the first
    byte, and nothing limits a new connection or the size of the headers: a client that
    trickles a byte every few seconds holds its socket (and a slot of
    `limit_concurrency`) forever. Here the head (request line and headers) must be
    complete within `header_timeout` seconds of the connection or of the previous
    response, and within `max_header_bytes`, or the connection is closed.
    """

    def __init__(
        self, *args: Any, header_timeout: float, max_header_bytes: int, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout
        self.max_header_bytes = max_header_bytes
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_bytes = 0
        # The request cycle current when the wait began: a new one means a head arrived.
        self._waiting_after: object = None

    def _await_head(self) -> None:
        self._stop_waiting()
        self._waiting_after = self.cycle
        self._head_bytes = 0
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_too_slow)

    def _stop_waiting(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self.cycle is self._waiting_after and not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._head_timer is None:
            return
        if self.cycle is not self._waiting_after:
            self._stop_waiting()  # the head is complete: the app deadlines take over
            return
        self._head_bytes += len(data)
        if self._head_bytes > self.max_header_bytes and not self.transport.is_closing():
            self._stop_waiting()
            self.transport.close()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # Idle again (no pipelined request started): the next head has its deadline.
        if not self.transport.is_closing() and (self.cycle is None or self.cycle.response_complete):
            self._await_head()


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The uvicorn options every listener of the app shares (HTTP and HTTPS)."""
    return {
        "log_level": settings.log_level,
        "server_header": False,
        # mrs.access logs each request (without its query string, which can carry
        # tokens); uvicorn's own line would repeat it, query string included.
        "access_log": False,
        # A partial of a module-level class: it pickles into spawned worker processes.
        "http": functools.partial(
            DeadlineHTTPProtocol,
            header_timeout=settings.header_timeout_seconds,
            max_header_bytes=settings.max_header_bytes,
        ),
        "timeout_keep_alive": settings.keep_alive_seconds,
        "limit_concurrency": settings.max_connections,
        **proxy_options(settings),
    }


def _public_host(settings: Settings) -> str:
    return "localhost" if settings.host in ("0.0.0.0", "::", "") else settings.host  # noqa: S104


class RedirectListener:
    """The plain-HTTP port, answered by a uvicorn server in a thread of the main process.

    The socket is bound at construction, so a port that is taken fails at once.
    """

    def __init__(self, settings: Settings) -> None:
        app = SecurityHeadersMiddleware(
            RedirectToHTTPS(
                https_port=settings.https_port,
                fallback_host=_public_host(settings),
                policy=HostPolicy.from_settings(settings),
            ),
            hsts_max_age=settings.hsts_max_age,
        )
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.redirect_port,
            log_level=settings.log_level,
            server_header=False,
            access_log=False,
            proxy_headers=False,
            lifespan="off",
        )
        self.server = uvicorn.Server(config)
        self.socket = config.bind_socket()
        self.thread = threading.Thread(
            target=self.server.run,
            kwargs={"sockets": [self.socket]},
            name="mrs-https-redirect",
            daemon=True,
        )

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()


def serve_https(settings: Settings) -> None:
    """Run the app over TLS (1.2+, intermediate ciphers) with `settings.workers` processes."""
    certfile, keyfile = certificate_pair(settings)
    redirect = RedirectListener(settings) if settings.redirect_port else None
    if redirect is not None:
        redirect.start()
    try:
        uvicorn.run(
            APP_FACTORY,
            factory=True,
            host=settings.host,
            port=settings.https_port,
            workers=settings.workers,
            ssl_certfile=str(certfile),
            ssl_keyfile=str(keyfile) if keyfile else None,
            ssl_context_factory=uvicorn_context_factory,
            **uvicorn_options(settings),
        )
    finally:
        if redirect is not None:
            redirect.stop()
