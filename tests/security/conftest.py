"""A real `mrs serve` over real TLS, on PostgreSQL, shared by the security tests.

The server runs as a subprocess (`python -m mrs serve --certfile … --keyfile …`) on free
ports with a generated certificate; tests talk to it with httpx over TLS, trusting only
that certificate. Each test makes its own users and data, so the tests stay independent.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from mrs.accounts import users
from mrs.accounts.models import Role
from mrs.db.engine import Database
from mrs.rooms import service as rooms_service
from mrs.security.certificates import CertificatePair, create_self_signed
from mrs.settings import Settings
from tests import support

SECRET_KEY = "security-suite-secret-key-6b1f0c2e9a7d4e8f-1234567890"
PREVIOUS_KEY = "security-suite-previous-key-0f9e8d7c6b5a4f3e-0987654321"
PASSWORD = "correct-horse-battery-staple"
STARTUP_SECONDS = 90
T = TypeVar("T")


def run_async(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion in a thread of its own.

    Other suites (Playwright's sync API) may leave an event loop running in the main
    thread, where asyncio.run() refuses to start.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result(timeout=120)


@dataclass
class LiveServer:
    """A running server: its HTTPS and plain-HTTP base URLs and how to trust it."""

    https_url: str
    http_url: str
    certfile: Path
    database_url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log: Path
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.certfile))

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(
            base_url=self.https_url,
            verify=self.ssl_context(),
            timeout=30.0,
            **kwargs,  # type: ignore[arg-type]
        )

    def settings(self) -> Settings:
        return Settings(
            data_dir=self.data_dir, database_url=self.database_url, secret_key=SECRET_KEY
        )

    def unique(self, prefix: str) -> str:
        return f"{prefix}{os.getpid() % 1000}x{next(self._counter)}"

    def make_user(self, role: Role = Role.USER) -> str:
        """Create an active user straight in the database; returns the user id."""
        user_id = self.unique("admin" if role is Role.ADMIN else "user")

        async def create() -> None:
            db = Database(self.settings())
            try:
                await users.create_user(
                    db,
                    user_id=user_id,
                    password=PASSWORD,
                    email=f"{user_id}@example.com",
                    first_name="Sec",
                    last_name="Test",
                    role=role,
                    now=datetime.now().astimezone(),
                )
            finally:
                await db.dispose()

        run_async(create)
        return user_id

    def make_room(self, days: int = 14) -> int:
        """Create a room open from today (site time) for `days` days; returns its id."""
        settings = self.settings()
        today = datetime.now(settings.tz).date()

        async def create() -> int:
            db = Database(settings)
            try:
                room = await rooms_service.create_room(
                    db, room_name=self.unique("Room "), capacity=6, location="2F"
                )
                await rooms_service.open_room(
                    db,
                    room_id=room.room_id,
                    from_date=today,
                    to_date=today + timedelta(days=days - 1),
                    weekdays=None,
                )
                return room.room_id
            finally:
                await db.dispose()

        return run_async(create)

    def tomorrow(self) -> date:
        return datetime.now(self.settings().tz).date() + timedelta(days=1)

    def token(self, user_id: str) -> str:
        with self.client() as http:
            response = http.post("/api/auth/login", json={"user_id": user_id, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def bearer(self, user_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user_id)}"}


def wait_for_https(
    process: subprocess.Popen[bytes], log: Path, https_url: str, certfile: Path
) -> None:
    """Wait (bounded) until the server answers over TLS with a certificate we trust."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mrs serve exited early:\n{log.read_text()[-4000:]}")
        if certfile.exists():
            try:
                context = ssl.create_default_context(cafile=str(certfile))
                httpx.get(f"{https_url}/api/openapi.json", verify=context, timeout=2.0)
                return
            except (httpx.HTTPError, ssl.SSLError):
                pass
        time.sleep(0.3)
    raise RuntimeError(f"mrs serve not ready in {STARTUP_SECONDS}s:\n{log.read_text()[-4000:]}")


def _wait_until_ready(server: LiveServer) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    context = server.ssl_context()
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"mrs serve exited early:\n{server.log.read_text()[-4000:]}")
        try:
            httpx.get(f"{server.https_url}/api/openapi.json", verify=context, timeout=2.0)
            httpx.get(f"{server.http_url}/", timeout=2.0)
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError(
        f"mrs serve not ready in {STARTUP_SECONDS}s:\n{server.log.read_text()[-4000:]}"
    )


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminate (then, if it hangs, kill) a server subprocess and its workers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def start_server(
    tmp: Path, database_url: str, args: list[str], extra_env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], Path]:
    log = tmp / "server.log"
    env = {
        **os.environ,
        "MRS_DATABASE_URL": database_url,
        "MRS_DATA_DIR": str(tmp / "data"),
        "MRS_SECRET_KEY": SECRET_KEY,
        "MRS_LOG_LEVEL": "warning",
        **(extra_env or {}),
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "mrs", "serve", "--host", "127.0.0.1", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return process, log


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> CertificatePair:
    return create_self_signed(tmp_path_factory.mktemp("tls"), hosts=("localhost", "127.0.0.1"))


@pytest.fixture(scope="session")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, template_database: str, certificate: CertificatePair
) -> Iterator[LiveServer]:
    """`mrs serve` with a certificate, an HTTPS port and a redirect port, two workers."""
    tmp = tmp_path_factory.mktemp("live")
    https_port, http_port = support.free_port(), support.free_port()
    with support.throwaway_database("mrs_security", template=template_database) as url:
        process, log = start_server(
            tmp,
            url,
            [
                "--certfile", str(certificate.certfile),
                "--keyfile", str(certificate.keyfile),
                "--port", str(https_port),
                "--redirect-port", str(http_port),
                "--workers", "2",
            ],
            {
                "MRS_PREVIOUS_SECRET_KEYS": PREVIOUS_KEY,
                # Injection and schemathesis runs fail logins from 127.0.0.1 on purpose;
                # per-address throttling (tested by the accounts suite) must not lock
                # the other tests out. Per-account throttling stays on.
                "MRS_LOGIN_MAX_FAILURES_PER_ADDRESS": "100000",
            },
        )  # fmt: skip
        server = LiveServer(
            https_url=f"https://127.0.0.1:{https_port}",
            http_url=f"http://127.0.0.1:{http_port}",
            certfile=certificate.certfile,
            database_url=url,
            data_dir=tmp / "data",
            process=process,
            log=log,
        )
        try:
            _wait_until_ready(server)
            yield server
        finally:
            stop_process(process)
