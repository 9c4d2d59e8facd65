"""The plain-HTTP listener: every request is answered with a 308 to the same URL on HTTPS."""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

from mrs.security.hosts import HOST_HEADER_RE, HostPolicy, host_of


def https_location(
    host_header: str | None,
    path: str,
    query: str,
    *,
    https_port: int,
    fallback_host: str,
    policy: HostPolicy | None = None,
) -> str:
    """The HTTPS URL for a request, keeping its host (if well-formed and trusted by
    `policy`), path and query; otherwise the fallback host."""
    match = HOST_HEADER_RE.match(host_header or "")
    trusted = policy is None or policy.allows(host_of(host_header))
    host = match.group("host") if match and trusted else fallback_host
    netloc = host if https_port == 443 else f"{host}:{https_port}"
    location = f"https://{netloc}{path or '/'}"
    return f"{location}?{query}" if query else location


class RedirectToHTTPS:
    """An ASGI app that redirects (308, method and body preserved) to HTTPS."""

    def __init__(
        self,
        *,
        https_port: int,
        fallback_host: str = "localhost",
        policy: HostPolicy | None = None,
    ) -> None:
        self.https_port = https_port
        self.fallback_host = fallback_host
        self.policy = policy

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
        if (
            self.policy is not None
            and self.policy.enforced
            and not self.policy.allows(host_of(host))
        ):
            await _bad_host(send)
            return
        location = https_location(
            host,
            path,
            query,
            https_port=self.https_port,
            fallback_host=self.fallback_host,
            policy=self.policy,
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


async def _bad_host(send: Send) -> None:
    body = b"Unknown host.\n"
    await send(
        {
            "type": "http.response.start",
            "status": 400,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
