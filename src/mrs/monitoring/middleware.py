"""One pure-ASGI middleware on the hot path: request id, request metrics, access log.

Pure ASGI (not BaseHTTPMiddleware) because it wraps every request: no extra task, no
body buffering, just a few counters around the call. Labels stay low-cardinality: the
route template (`/api/rooms/{room_id}/reservations`), never the raw path.
"""

from __future__ import annotations

import itertools
import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mrs.audit.context import CURRENT, RequestOrigin
from mrs.http.secret_paths import loggable_path
from mrs.monitoring import metrics

access_logger = logging.getLogger("mrs.access")

REQUEST_ID_HEADER = b"x-request-id"
# A caller's request id is kept only when it looks like an id (no log injection).
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
UNMATCHED_ROUTE = "<unmatched>"
# Request ids need to be unique, not secret: a random per-process prefix and a counter
# are unique across processes and cost no system call per request.
_ID_PREFIX = uuid.uuid4().hex[:16]
_id_counter = itertools.count(1)


def route_template(scope: Scope) -> str:
    """The matched route's path template, or one fixed label for unmatched paths."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    root = scope.get("root_path", "")
    app_root = scope.get("app_root_path")
    if app_root and isinstance(app_root, str) and app_root != root:
        return app_root  # a mounted app (static files): its mount point
    return UNMATCHED_ROUTE


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER:
            text = value.decode("latin-1")
            return text if _REQUEST_ID_RE.match(text) else None
    return None


class RequestMonitoringMiddleware:
    """Adds X-Request-ID, records request metrics and writes one access log line."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics_enabled: bool = True,
        slow_seconds: float = 5.0,
        access_log: bool = True,
    ) -> None:
        self.app = app
        self.metrics_enabled = metrics_enabled
        self.slow_seconds = slow_seconds
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or f"{_ID_PREFIX}-{next(_id_counter):x}"
        scope.setdefault("state", {})["request_id"] = request_id
        client = scope.get("client")
        # The audit rows written while serving this request name it and its client.
        origin = CURRENT.set(
            RequestOrigin(request_id=request_id, client_address=client[0] if client else None)
        )
        header = (REQUEST_ID_HEADER, request_id.encode("latin-1"))
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        started = time.perf_counter()
        recorder = metrics.RECORDER
        if self.metrics_enabled:
            recorder.in_flight += 1
        failed = False
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            failed = True
            status = 500
            raise
        finally:
            elapsed = time.perf_counter() - started
            method = scope.get("method", "GET")
            route = route_template(scope)
            if self.metrics_enabled:
                recorder.in_flight -= 1
                recorder.record(route, method, status, elapsed, elapsed > self.slow_seconds)
            if self.access_log:
                self._log(scope, request_id, route, status, elapsed, failed)
            CURRENT.reset(origin)

    @staticmethod
    def _log(
        scope: Scope, request_id: str, route: str, status: int, elapsed: float, failed: bool
    ) -> None:
        if not access_logger.isEnabledFor(logging.INFO):
            return
        client = scope.get("client")
        # Only the path (masked where it holds a secret): query strings can carry tokens;
        # headers are never logged.
        fields: dict[str, Any] = {
            "request_id": request_id,
            "method": scope.get("method"),
            "path": loggable_path(scope.get("path", "")),
            "route": route,
            "status": status,
            "duration_ms": round(elapsed * 1000, 2),
            "client": client[0] if client else None,
        }
        state = scope.get("state") or {}
        user = state.get("user")
        if user is not None and hasattr(user, "user_id"):
            fields["user_id"] = user.user_id
        access_logger.info(
            "%s %s %s %.1fms",
            fields["method"],
            fields["path"],
            status,
            fields["duration_ms"],
            extra={"fields": fields, "failed": failed},
        )
