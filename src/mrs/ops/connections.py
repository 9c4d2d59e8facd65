"""Opening operations engines on arbitrary database URLs, with one clear error when not."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from mrs.db.engine import make_sync_engine
from mrs.db.errors import first_line
from mrs.db.migrate import current_revisions, head_revisions
from mrs.db.urls import redacted
from mrs.ops.errors import DatabaseUnreachable, SchemaNotCurrent
from mrs.settings import Settings


@contextmanager
def open_engine(settings: Settings, url: str) -> Iterator[Engine]:
    """A synchronous engine on `url`, checked to answer; disposed at the end of the block."""
    engine = make_sync_engine(settings, url)
    try:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except DBAPIError as exc:
            raise DatabaseUnreachable(url=redacted(url), reason=first_line(exc)) from exc
        yield engine
    finally:
        engine.dispose()


def require_current_schema(engine: Engine, url: str) -> str:
    """The database's revision, which must be this code's head; returned for manifests."""
    found = current_revisions(engine)
    expected = head_revisions()
    if found != expected:
        raise SchemaNotCurrent(
            url=redacted(url),
            found=", ".join(sorted(found)) or "none",
            expected=", ".join(sorted(expected)),
        )
    return ",".join(sorted(found))


def quote_identifier(connection: Connection, name: str) -> str:
    """`name` quoted as an SQL identifier in the connection's dialect (for DDL and table
    names, which cannot be bound parameters)."""
    return str(connection.dialect.identifier_preparer.quote(name))
