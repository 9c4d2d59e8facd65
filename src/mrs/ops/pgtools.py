"""Finding and running PostgreSQL's client programs (pg_dump, pg_restore) safely.

Credentials go to the child process through libpq's environment variables, never on the
command line (where `ps` would show them). A client older than the server cannot dump it
correctly, so that is refused up front with an actionable message.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import Connection, text
from sqlalchemy.engine import URL, make_url

from mrs.ops.errors import PgToolMissing, PgToolTooOld
from mrs.settings import Settings

_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")
_QUERY_ENV = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "application_name": "PGAPPNAME",
}


def libpq_env(url: str | URL, *, database: str | None = None) -> dict[str, str]:
    """The process environment for a libpq client connecting to `url` (password included)."""
    parsed = make_url(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PGHOST"] = parsed.host or "localhost"
    if parsed.port:
        env["PGPORT"] = str(parsed.port)
    if parsed.username:
        env["PGUSER"] = parsed.username
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    env["PGDATABASE"] = database or parsed.database or "postgres"
    env["PGCONNECT_TIMEOUT"] = "10"
    for key, name in _QUERY_ENV.items():
        value = parsed.query.get(key)
        if isinstance(value, str):
            env[name] = value
    return env


def _candidates(name: str, settings: Settings) -> list[Path]:
    if settings.pg_bin_dir is not None:
        return [settings.pg_bin_dir / name]
    found: list[Path] = []
    # Debian/Ubuntu install each major version side by side; the newest dumps every older.
    versions = Path("/usr/lib/postgresql")
    if versions.is_dir():
        majors = sorted(
            (p for p in versions.iterdir() if p.name.isdigit()), key=lambda p: -int(p.name)
        )
        found.extend(p / "bin" / name for p in majors)
    on_path = shutil.which(name)
    if on_path:
        found.append(Path(on_path))
    return found


def tool_version(path: Path) -> int:
    """The major version of a PostgreSQL client program."""
    output = subprocess.run(  # noqa: S603 - a fixed program path and argument
        [str(path), "--version"], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    match = _VERSION.search(output)
    if match is None:
        raise ValueError(f"cannot read the version of {path}: {output.strip()!r}")
    return int(match.group(1))


def server_major(connection: Connection) -> int:
    return int(connection.scalar(text("SHOW server_version_num")) or 0) // 10000


def find_tool(name: str, settings: Settings, server: int) -> Path:
    """The client program `name` able to work with a server of major version `server`."""
    candidates = [p for p in _candidates(name, settings) if p.is_file() and os.access(p, os.X_OK)]
    if not candidates:
        raise PgToolMissing(tool=name, server=server)
    newest = max(candidates, key=tool_version)
    version = tool_version(newest)
    if version < server:
        raise PgToolTooOld(tool=name, client=version, server=server)
    return newest


def run_tool(
    args: list[str], *, env: dict[str, str], timeout: float | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a client program; the caller checks the return code and reads stderr."""
    return subprocess.run(  # noqa: S603 - arguments are built by us, never by a shell
        args, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def stderr_summary(stderr: str, limit: int = 3) -> str:
    """The first meaningful lines of a client program's error output."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    return " | ".join(lines[:limit]) or "no error output"
