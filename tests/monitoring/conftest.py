"""Fixtures for the monitoring tests: a local webhook receiver, a local SMTP server and a
fault proxy in front of PostgreSQL (to take the database away and give it back, for real)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from tests.faults import FaultProxy, fault_proxy
from tests.mail import SmtpReceiver


@dataclass
class WebhookReceiver:
    """A real HTTP server that records JSON POSTs; can fail the first N attempts."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0
    fail_first: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of(self, rule: str, kind: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [
                n
                for n in self.received
                if n["rule"] == rule and (kind is None or n["kind"] == kind)
            ]


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            with receiver.lock:
                receiver.attempts += 1
                failing = receiver.attempts <= receiver.fail_first
                if not failing:
                    receiver.received.append(json.loads(body))
            self.send_response(503 if failing else 204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/alerts"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def pg_proxy(database_url: str) -> Iterator[tuple[FaultProxy, str]]:
    """A fault proxy in front of this test's database, and the URL that goes through it."""
    url = make_url(database_url)
    with fault_proxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        yield proxy, url.set(port=proxy.port).render_as_string(hide_password=False)


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver()
    receiver._controller.start()
    yield receiver
    receiver._controller.stop()
