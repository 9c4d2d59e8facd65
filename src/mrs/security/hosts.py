"""Trusted hosts: the Host headers the site answers to, and the ones a redirect may name.

A client chooses the Host header. Copied into a redirect's `Location`, it sends the next
request (and with it a form's data, or a cached redirect for other users) wherever the
client said. With MRS_ALLOWED_HOSTS set, any other Host is refused (400). Unset, every
Host is served (a fresh install, the tests and a proxy that keeps its public name work
without configuration), but only the implicit set below ever appears in a redirect: an
absolute `Location` naming another host is rewritten to the same path without the host.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mrs.http.error_handlers import status_response
from mrs.settings import Settings

logger = logging.getLogger(__name__)

# A host name or IPv4 address, or a bracketed IPv6 address, with an optional port.
HOST_HEADER_RE = re.compile(
    r"^(?P<host>\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]{1,253})(?::(?P<port>\d{1,5}))?$"
)
_LOOPBACK = ("localhost", "127.0.0.1", "::1")
_ANY_ADDRESS = ("", "0.0.0.0", "::")  # noqa: S104 - names, not a bind


def host_of(header: str | None) -> str | None:
    """The lower-case host of a Host header (IPv6 without brackets), or None if malformed."""
    match = HOST_HEADER_RE.match(header or "")
    if not match:
        return None
    return match.group("host").strip("[]").lower().rstrip(".")


class HostPolicy:
    """Which hosts are allowed, and whether others are refused or only kept out of URLs."""

    def __init__(self, patterns: Iterable[str], *, enforced: bool) -> None:
        cleaned = {p.strip().strip("[]").lower().rstrip(".") for p in patterns if p.strip()}
        self.any = "*" in cleaned
        self.suffixes = tuple(p[1:] for p in cleaned if p.startswith("*."))
        self.exact = frozenset(p for p in cleaned if not p.startswith("*"))
        self.enforced = enforced

    def allows(self, host: str | None) -> bool:
        """True when `host` (as returned by `host_of`) is one of the trusted hosts."""
        if host is None:
            return False
        return self.any or host in self.exact or host.endswith(self.suffixes)

    @classmethod
    def from_settings(cls, settings: Settings) -> HostPolicy:
        """MRS_ALLOWED_HOSTS (refusing others), or the implicit set (see the module doc)."""
        if settings.allowed_host_list:
            return cls(settings.allowed_host_list, enforced=True)
        implicit = set(_LOOPBACK)
        if settings.host.strip() not in _ANY_ADDRESS:
            implicit.add(settings.host)
        implicit.update(urlsplit(o).hostname or "" for o in settings.trusted_origin_list)
        implicit.update(_certificate_names(settings))
        return cls(implicit, enforced=False)


def _certificate_names(settings: Settings) -> list[str]:
    """The DNS names the configured certificate is valid for: where HTTPS really works."""
    if settings.certfile is None:
        return []
    from mrs.security.certificates import load_certificate, subject_alt_names

    try:
        return subject_alt_names(load_certificate(settings.certfile))
    except (OSError, ValueError) as exc:  # serving reports an unreadable certificate itself
        logger.warning("cannot read the certificate's names for trusted hosts: %s", exc)
        return []


def _request_host(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"host":
            return host_of(value.decode("latin-1"))
    return None


def _without_host(location: bytes, host: str | None) -> bytes:
    """`Location` without scheme and host when it names `host` (an untrusted Host header
    copied into it): the same place, on whatever host the browser asked."""
    parts = urlsplit(location.decode("latin-1"))
    if not parts.netloc or (parts.hostname or "").rstrip(".") != host:
        return location
    path = parts.path or "/"
    # "//evil" as a path would be read as a host again.
    path = "/" + path.lstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    return (path + query + fragment).encode("latin-1")


class TrustedHostMiddleware:
    """Refuse untrusted hosts (when a list is set); keep them out of redirects (always)."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.policy = HostPolicy.from_settings(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = _request_host(scope)
        if self.policy.allows(host):  # the hot path
            await self.app(scope, receive, send)
            return
        if self.policy.enforced:
            response = await status_response(Request(scope), 400)
            await response(scope, receive, send)
            return

        async def send_without_host(message: Message) -> None:
            if message["type"] == "http.response.start" and 300 <= message["status"] < 400:
                message["headers"] = [
                    (name, _without_host(value, host) if name.lower() == b"location" else value)
                    for name, value in message.get("headers", ())
                ]
            await send(message)

        await self.app(scope, receive, send_without_host)
