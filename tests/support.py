"""Test support shared by every layer: throwaway PostgreSQL databases and free ports."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

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
