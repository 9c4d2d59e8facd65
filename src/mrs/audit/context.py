"""Where the current request came from, for the audit rows written while serving it.

The request monitoring middleware sets it once per request (the same request id the
access log and the X-Request-ID header carry); outside a request (the CLI, background
jobs) it is empty.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestOrigin:
    request_id: str | None = None
    client_address: str | None = None


NO_REQUEST = RequestOrigin()
CURRENT: ContextVar[RequestOrigin] = ContextVar("mrs_request_origin", default=NO_REQUEST)
