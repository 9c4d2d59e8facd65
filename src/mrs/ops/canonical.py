"""Canonical row form and per-table content checksums, identical on SQLite and PostgreSQL.

Both sides of a copy, a backup's manifest and a restored scratch database are compared by
the same digest: rows read through the SQLAlchemy table definitions (so a timestamp is an
aware UTC datetime on every dialect), each value written in one canonical form (UTC ISO
timestamps, ISO dates, integers, JSON true/false, explicit null), one JSON array per row,
hashed in primary-key order. Text keys are ordered by code point on both dialects
(PostgreSQL compares them with the "C" collation), so the order never depends on locale.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Column, Connection, MetaData, String, Table, func, select, type_coerce
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator

from mrs.db.base import Base, import_all_models

ALEMBIC_TABLE = "alembic_version"
# Alembic's own bookkeeping table, described here so it is digested like any other.
_alembic_version = Table(
    ALEMBIC_TABLE, MetaData(), Column("version_num", String(32), primary_key=True)
)


@dataclass(frozen=True)
class TableDigest:
    """How many rows a table holds and the checksum of their canonical form."""

    rows: int
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "sha256": self.sha256}


def data_tables() -> list[Table]:
    """Every application table in foreign-key order (parents first)."""
    import_all_models()
    return list(Base.metadata.sorted_tables)


def digest_tables() -> list[Table]:
    """The tables compared between databases: the data tables and Alembic's revision."""
    return [*data_tables(), _alembic_version]


_JSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC | orjson.OPT_SORT_KEYS


def _default(value: Any) -> Any:
    """Canonical JSON for the values orjson does not write by itself."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    raise TypeError(f"no canonical form for {type(value).__name__}")


def canonical_line(values: Sequence[Any]) -> bytes:
    """One row as a canonical JSON array.

    Timestamps come out as UTC ISO 8601 with a `Z` (SQLite's naive values hold UTC; the
    PostgreSQL sessions run in UTC and UTCDateTime returns UTC), dates as ISO dates,
    booleans as true/false, NULL as null, integers and text as themselves.
    """
    return orjson.dumps(tuple(values), default=_default, option=_JSON_OPTIONS)


def canonical_rows(rows: Sequence[Sequence[Any]]) -> bytes:
    """The canonical lines of a batch of rows, each ended by a newline."""
    dumps, options = orjson.dumps, _JSON_OPTIONS
    return b"".join([dumps(tuple(row), default=_default, option=options) + b"\n" for row in rows])


def _order_by(connection: Connection, table: Table) -> list[ColumnElement[Any]]:
    keys: list[ColumnElement[Any]] = []
    for column in table.primary_key.columns or table.columns:
        if connection.dialect.name == "postgresql" and isinstance(column.type, String):
            keys.append(column.collate("C"))
        else:
            keys.append(column)
    return keys


def _plain(column: Column[Any]) -> ColumnElement[Any]:
    # Digests skip TypeDecorators (e.g. UTCDateTime's per-value conversion): the driver's
    # value has the same canonical form and reading it is several times faster.
    if isinstance(column.type, TypeDecorator):
        return type_coerce(column, column.type.impl).label(column.name)
    return column


def iter_batches(
    connection: Connection, table: Table, batch_size: int = 5000, *, plain: bool = False
) -> Iterator[Sequence[Sequence[Any]]]:
    """The table's rows in primary-key order, streamed in batches.

    `plain` reads driver values (for digests only; they may not be valid to write back).
    """
    columns = [_plain(c) for c in table.columns] if plain else list(table.columns)
    statement = select(*columns).order_by(*_order_by(connection, table))
    result = connection.execution_options(yield_per=batch_size).execute(statement)
    yield from result.partitions(batch_size)


class Digester:
    """Accumulates the digest of one table from its rows, in order."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.rows = 0
        self._hash = hashlib.sha256()

    def update(self, rows: Sequence[Sequence[Any]]) -> None:
        self._hash.update(canonical_rows(rows))
        self.rows += len(rows)

    def result(self) -> TableDigest:
        return TableDigest(self.rows, self._hash.hexdigest())


def table_exists(connection: Connection, name: str) -> bool:
    from sqlalchemy import inspect

    return bool(inspect(connection).has_table(name))


def digest_table(
    connection: Connection,
    table: Table,
    *,
    batch_size: int = 5000,
    on_rows: Callable[[int], None] | None = None,
) -> TableDigest:
    """The digest of one table, read on `connection` (inside the caller's transaction)."""
    digester = Digester(table)
    for batch in iter_batches(connection, table, batch_size, plain=True):
        digester.update(batch)
        if on_rows is not None:
            on_rows(len(batch))
    return digester.result()


def digest_database(
    connection: Connection,
    *,
    on_table: Callable[[str, int], None] | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> dict[str, TableDigest]:
    """Digests of every compared table; a table missing from the database is absent."""
    digests: dict[str, TableDigest] = {}
    for table in digest_tables():
        if not table_exists(connection, table.name):
            continue
        if on_table is not None:
            on_table(table.name, count_rows(connection, table))
        digests[table.name] = digest_table(connection, table, on_rows=on_rows)
    return digests


def count_rows(connection: Connection, table: Table) -> int:
    return int(connection.scalar(select(func.count()).select_from(table)) or 0)


def differences(expected: dict[str, TableDigest], actual: dict[str, TableDigest]) -> list[str]:
    """Human-readable differences between two sets of digests (empty when equal)."""
    found: list[str] = []
    for name in sorted(expected.keys() | actual.keys()):
        want, got = expected.get(name), actual.get(name)
        if want is None:
            found.append(f"{name}: only in the second database")
        elif got is None:
            found.append(f"{name}: missing from the second database")
        elif want.rows != got.rows:
            found.append(f"{name}: {want.rows} rows vs {got.rows} rows")
        elif want.sha256 != got.sha256:
            found.append(f"{name}: same row count ({want.rows}) but different content")
    return found
