"""The plain-HTTP listener: every request is answered with a 308 to the same URL on HTTPS."""

from __future__ import annotations

import re

from starlette.types import Receive, Scope, Send

# A host name or IPv4 address, or a bracketed IPv6 address, with an optional port.
_HOST_RE = re.compile(r"^(?P<host>\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]{1,253})(?::(?P<port>\d{1,5}))?$")


def https_location(
    host_header: str | None, path: str, query: str, *, https_port: int, fallback_host: str
) -> str:
    """The HTTPS URL for a request, keeping its host (if well-formed), path and query."""
    match = _HOST_RE.match(host_header or "")
    host = match.group("host") if match else fallback_host
    netloc = host if https_port == 443 else f"{host}:{https_port}"
    location = f"https://{netloc}{path or '/'}"
    return f"{location}?{query}" if query else location


class RedirectToHTTPS:
    """An ASGI app that redirects (308, method and body preserved) to HTTPS."""

    def __init__(self, *, https_port: int, fallback_host: str = "localhost") -> None:
        self.https_port = https_port
        self.fallback_host = fallback_host

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            message = await receive()
            while message["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
                message = await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        host = None
        for name, value in scope["headers"]:
            if name == b"host":
                host = value.decode("latin-1")
                break
        # raw_path keeps the client's percent-encoding exactly.
        raw_path = scope.get("raw_path") or scope["path"].encode()
        path = raw_path.decode("latin-1") if isinstance(raw_path, bytes) else str(raw_path)
        query = scope.get("query_string", b"").decode("latin-1")
        location = https_location(
            host, path, query, https_port=self.https_port, fallback_host=self.fallback_host
        )
        body = b"Moved to HTTPS: " + location.encode("latin-1") + b"\n"
        await send(
            {
                "type": "http.response.start",
                "status": 308,
                "headers": [
                    (b"location", location.encode("latin-1")),
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
