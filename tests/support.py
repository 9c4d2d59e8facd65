"""Test support shared by every layer: throwaway PostgreSQL databases and free ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ADMIN_URL = os.environ.get(
    "MRS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _admin_conninfo() -> str:
    url = make_url(ADMIN_URL)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def postgres_reachable() -> str | None:
    """None when the test server answers, else a one-line reason."""
    try:
        with psycopg.connect(_admin_conninfo(), connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def database_url(name: str) -> str:
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def create_database(prefix: str = "mrs_test", template: str | None = None) -> str:
    """Create a uniquely named database (optionally from a template); returns its name."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
        clause = f" TEMPLATE {template}" if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{clause}')  # names are ours, not user input
    return name


def drop_database(name: str) -> None:
    with psycopg.connect(_admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def throwaway_database(prefix: str = "mrs_test", template: str | None = None) -> Iterator[str]:
    """A new database for the block, dropped afterwards; yields its URL."""
    name = create_database(prefix, template)
    try:
        yield database_url(name)
    finally:
        drop_database(name)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """A real `mrs serve` subprocess (see `running_server`)."""

    def __init__(self, process: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
        self.process = process
        self.base_url = base_url
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def running_server(
    *,
    database_url: str,
    data_dir: Path,
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    scheme: str = "http",
    startup_timeout: float = 30.0,
) -> Iterator[ServerProcess]:
    """Start `mrs serve` on a free port against `database_url`; stop it afterwards."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "server.log"
    child_env = {
        **os.environ,
        "MRS_DATABASE_URL": database_url,
        "MRS_DATA_DIR": str(data_dir),
        "MRS_SECRET_KEY": "server-test-secret-key-0123456789-0123456789",
        # A backup starts a minute after start-up; test servers opt in when they want one.
        "MRS_BACKUP_ENABLED": "false",
        **(env or {}),
    }
    command = [sys.executable, "-m", "mrs", "serve", "--port", str(port), *args]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=child_env, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"{scheme}://127.0.0.1:{port}"
    server = ServerProcess(process, base_url, log_path)
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"mrs serve exited early:\n{server.log()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"mrs serve did not start:\n{server.log()}") from None
                time.sleep(0.1)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
