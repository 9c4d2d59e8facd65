"""Shared parts of the load test and the benchmarks: a throwaway database with demo-like
data, a real `mrs serve` subprocess, and the SQL checks run afterwards.

This module runs in the app's virtual environment. It never imports Locust (gevent must
stay out of the app and test processes); Locust runs as its own process.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from mrs.accounts.models import Role, User, UserStatus
from mrs.accounts.passwords import hash_password
from mrs.db.engine import make_sync_engine
from mrs.db.migrate import upgrade
from mrs.rooms.models import MeetingRoom, ReservableRoom
from mrs.settings import Settings

REPO = Path(__file__).resolve().parents[1]
ADMIN_URL = os.environ.get(
    "MRS_LOAD_ADMIN_URL",
    os.environ.get(
        "MRS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    ),
)
LOAD_PASSWORD = "load-test-password-0123"
SECRET_KEY = "load-test-secret-key-0123456789-0123456789"
USER_PREFIX = "load"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- databases -------------------------------------------------------------------------


def _conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def throwaway_postgres(prefix: str = "mrs_load") -> Iterator[str]:
    """A new, empty PostgreSQL database for the block (dropped afterwards); yields its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_conninfo(ADMIN_URL), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # our own generated name
    try:
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_conninfo(ADMIN_URL), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass(frozen=True)
class Dataset:
    """What the seeded database holds, for the load generators."""

    user_ids: list[str]
    password: str
    room_ids: list[int]
    days: list[date]


def settings_for(database_url: str, data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, database_url=database_url, secret_key=SECRET_KEY)


def first_bookable_day(timezone: str = "Asia/Tokyo") -> date:
    """Tomorrow in the site's time zone: every slot of it is in the future."""
    return datetime.now(UTC).astimezone(ZoneInfo(timezone)).date() + timedelta(days=1)


def seed(
    database_url: str,
    data_dir: Path,
    *,
    rooms: int = 50,
    users: int = 100,
    days: int = 7,
) -> Dataset:
    """Migrate, then add `rooms` rooms opened on `days` days from tomorrow and `users`
    ACTIVE users sharing one password.

    One argon2 hash is computed and reused for every user: hashing is deliberately slow
    (~50 ms of CPU each) and the load test measures logins anyway.
    """
    settings = settings_for(database_url, data_dir)
    engine = make_sync_engine(settings)
    try:
        upgrade(engine)
        first = first_bookable_day(settings.timezone)
        day_list = [first + timedelta(days=offset) for offset in range(days)]
        now = datetime.now(UTC)
        password_hash = hash_password(LOAD_PASSWORD)
        user_ids = [f"{USER_PREFIX}{n:04d}" for n in range(users)]
        with engine.begin() as conn:
            conn.execute(
                insert(User),
                [
                    {
                        "user_id": uid,
                        "first_name": "Load",
                        "last_name": f"User {n}",
                        "email": f"{uid}@load.example.com",
                        "password_hash": password_hash,
                        "role_name": Role.USER.value,
                        "status": UserStatus.ACTIVE.value,
                        "created_at": now,
                    }
                    for n, uid in enumerate(user_ids)
                ],
            )
            conn.execute(
                insert(MeetingRoom),
                [
                    {
                        "room_name": f"Load room {n:03d}",
                        "capacity": 4 + n % 12,
                        "location": f"{1 + n % 9}F",
                        "active": True,
                    }
                    for n in range(rooms)
                ],
            )
            room_ids = [
                int(row[0])
                for row in conn.execute(text("SELECT room_id FROM meeting_room ORDER BY room_id"))
            ]
            conn.execute(
                insert(ReservableRoom),
                [
                    {"reserved_date": day, "room_id": room_id, "is_open": True}
                    for day in day_list
                    for room_id in room_ids
                ],
            )
    finally:
        engine.dispose()
    return Dataset(user_ids=user_ids, password=LOAD_PASSWORD, room_ids=room_ids, days=day_list)


@dataclass(frozen=True)
class IntegrityReport:
    active: int
    cancelled: int
    overlapping_pairs: int


_OVERLAPS = """
SELECT count(*) FROM reservation AS a
JOIN reservation AS b
  ON a.room_id = b.room_id AND a.reserved_date = b.reserved_date
 AND a.reservation_id < b.reservation_id
 AND a.start_minute < b.end_minute AND b.start_minute < a.end_minute
WHERE a.status = 'ACTIVE' AND b.status = 'ACTIVE'
"""


def check_integrity(database_url: str, data_dir: Path) -> IntegrityReport:
    """Count reservations and any two ACTIVE ones of a room that overlap (must be 0)."""
    engine = make_sync_engine(settings_for(database_url, data_dir))
    try:
        with engine.connect() as conn:
            counts = dict(
                conn.execute(text("SELECT status, count(*) FROM reservation GROUP BY status")).all()
            )
            overlaps = int(conn.execute(text(_OVERLAPS)).scalar_one())
    finally:
        engine.dispose()
    return IntegrityReport(
        active=int(counts.get("ACTIVE", 0)),
        cancelled=int(counts.get("CANCELLED", 0)),
        overlapping_pairs=overlaps,
    )


# --- the server -------------------------------------------------------------------------


@dataclass
class ServerOptions:
    """How to run `mrs serve` for a measurement."""

    database_url: str
    data_dir: Path
    workers: int = 2
    scheme: str = "http"
    certfile: Path | None = None
    keyfile: Path | None = None
    # Extra MRS_* settings, e.g. to switch metrics off or raise a login throttle.
    env: Mapping[str, str] = field(default_factory=dict)
    log_level: str = "warning"


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1/localhost, made with the openssl tool."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def _http_get(url: str, timeout: float = 2.0) -> int:
    context = ssl._create_unverified_context() if url.startswith("https") else None
    request = urllib.request.Request(url)
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@dataclass
class RunningServer:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        text_ = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text_.splitlines()[-lines:])

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the server and its workers.

        Per request, this is far steadier than throughput on a shared machine: other
        processes stealing the cores lower the rate but not the work done per request.
        """
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # the process ended meanwhile
            # After the command name: state ppid pgrp ... utime(12th) stime(13th).
            if int(fields[2]) == self.process.pid:
                total += int(fields[11]) + int(fields[12])
        return total / ticks

    def count_in_log(self, *needles: str) -> int:
        if not self.log_path.exists():
            return 0
        content = self.log_path.read_text(errors="replace")
        return sum(content.count(needle) for needle in needles)


@contextmanager
def running_server(
    options: ServerOptions, *, ready_timeout: float = 90.0
) -> Iterator[RunningServer]:
    """Start `mrs serve` on a free loopback port, wait until it answers, stop it after."""
    port = free_port()
    command = [
        sys.executable, "-m", "mrs", "serve",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(options.workers),
    ]  # fmt: skip
    if options.scheme == "https":
        if options.certfile is None or options.keyfile is None:
            options.certfile, options.keyfile = self_signed_certificate(options.data_dir / "tls")
        # No redirect listener: it would bind the fixed default port 8080, which fails
        # wherever another program holds it, and nothing measured here goes through it.
        command += [
            "--certfile", str(options.certfile), "--keyfile", str(options.keyfile),
            "--redirect-port", "0",
        ]  # fmt: skip
    env = {
        **os.environ,
        "MRS_DATABASE_URL": options.database_url,
        "MRS_DATA_DIR": str(options.data_dir),
        "MRS_SECRET_KEY": SECRET_KEY,
        "MRS_LOG_LEVEL": options.log_level,
        **options.env,
    }
    options.data_dir.mkdir(parents=True, exist_ok=True)
    log_path = options.data_dir / f"server-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    base_url = f"{options.scheme}://127.0.0.1:{port}"
    server = RunningServer(base_url=base_url, process=process, log_path=log_path)
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"mrs serve exited with {process.returncode}:\n{server.log_tail()}"
                )
            try:
                if _http_get(f"{base_url}/api/openapi.json") == 200:
                    break
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"mrs serve did not answer in {ready_timeout:.0f} s")
            time.sleep(0.3)
        yield server
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server and its worker processes (its own process group, nothing else)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


def login_tokens(base_url: str, user_ids: Sequence[str], password: str) -> list[str]:
    """Log each user in once through the API; returns their bearer tokens."""
    context = ssl._create_unverified_context() if base_url.startswith("https") else None
    tokens = []
    for uid in user_ids:
        body = json.dumps({"user_id": uid, "password": password}).encode()
        request = urllib.request.Request(
            f"{base_url}/api/auth/login",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30, context=context) as response:
            tokens.append(json.loads(response.read())["access_token"])
    return tokens


def truncate_reservations(database_url: str) -> None:
    """Empty the reservation table (PostgreSQL), keeping users, rooms and opened dates;
    the idempotency keys and attendees that point at reservations go with it (CASCADE:
    every table referring to `reservation`)."""
    with psycopg.connect(_conninfo(database_url), autocommit=True) as conn:
        conn.execute("TRUNCATE reservation, idempotency_key RESTART IDENTITY CASCADE")
