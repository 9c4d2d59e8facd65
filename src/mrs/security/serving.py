"""Serving over HTTPS: uvicorn with the hardened TLS context, plus the redirect listener."""

from __future__ import annotations

import threading
from pathlib import Path

import uvicorn

from mrs.security.certificates import ensure_self_signed
from mrs.security.headers import SecurityHeadersMiddleware
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


def _public_host(settings: Settings) -> str:
    return "localhost" if settings.host in ("0.0.0.0", "::", "") else settings.host  # noqa: S104


class RedirectListener:
    """The plain-HTTP port, answered by a uvicorn server in a thread of the main process.

    The socket is bound at construction, so a port that is taken fails at once.
    """

    def __init__(self, settings: Settings) -> None:
        app = SecurityHeadersMiddleware(
            RedirectToHTTPS(https_port=settings.https_port, fallback_host=_public_host(settings)),
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
            log_level=settings.log_level,
            server_header=False,
            # mrs.access logs each request (without its query string, which can carry
            # tokens); uvicorn's own line would repeat it, query string included.
            access_log=False,
            ssl_certfile=str(certfile),
            ssl_keyfile=str(keyfile) if keyfile else None,
            ssl_context_factory=uvicorn_context_factory,
            **proxy_options(settings),  # type: ignore[arg-type]
        )
    finally:
        if redirect is not None:
            redirect.stop()
