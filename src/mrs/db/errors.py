"""Reading what went wrong in the database, by SQLSTATE, whatever the driver."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

EXCLUSION_VIOLATION = "23P01"
FOREIGN_KEY_VIOLATION = "23503"
UNIQUE_VIOLATION = "23505"
DEADLOCK_DETECTED = "40P01"
SERIALIZATION_FAILURE = "40001"


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error, or None (SQLite has none)."""
    if isinstance(exc, DBAPIError):
        return getattr(exc.orig, "sqlstate", None)
    return None


def first_line(exc: BaseException) -> str:
    """The first line of a (driver) error: the part an operator needs, without the SQL,
    parameters and hints the drivers add below it."""
    origin = getattr(exc, "orig", None) or exc
    lines = str(origin).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
