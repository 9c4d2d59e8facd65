"""Database URL handling: one configured URL, sync and async driver variants of it."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url


def sync_url(url: str | URL) -> URL:
    """The URL for synchronous work (CLI, migrations, backups)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.set(drivername="sqlite")
    if parsed.get_backend_name() == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    raise ValueError(
        f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
    )


def async_url(url: str | URL) -> URL:
    """The URL for the request path (async drivers)."""
    parsed = sync_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    return parsed


def redacted(url: str | URL) -> str:
    """The URL with any password hidden, for logs and messages."""
    return make_url(url).render_as_string(hide_password=True)
