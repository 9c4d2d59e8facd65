"""Copying every table from one database to another (SQLite → PostgreSQL, PG → PG), proven.

The target is migrated to this code's schema revision, then filled in ONE transaction:
every table in foreign-key order, in batches, sequences reset, and finally every table's
row count and content checksum (mrs.ops.canonical) compared with what was read from the
source. Any difference or error rolls the transaction back, so an interrupted or failed
copy (Ctrl-C, kill, a lost connection) leaves the target's rows as they were.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, delete, func, select, text

from mrs.db.engine import SQLITE_BEGIN_OPTION
from mrs.db.migrate import upgrade
from mrs.ops import canonical
from mrs.ops.connections import open_engine, require_current_schema
from mrs.ops.errors import DatabasesDiffer, TargetNotEmpty
from mrs.ops.progress import Progress, SilentProgress
from mrs.reports import summary
from mrs.settings import Settings


@dataclass(frozen=True)
class CopyReport:
    tables: dict[str, canonical.TableDigest]
    seconds: float

    @property
    def total_rows(self) -> int:
        return sum(d.rows for d in self.tables.values())


def read_options(connection: Connection) -> Connection:
    """A consistent, non-blocking read: a snapshot on PostgreSQL, a deferred read on SQLite."""
    if connection.dialect.name == "postgresql":
        return connection.execution_options(isolation_level="REPEATABLE READ")
    return connection.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})


def _first_non_empty(connection: Connection, tables: list[Table]) -> tuple[str, int] | None:
    for table in tables:
        rows = canonical.count_rows(connection, table)
        if rows:
            return table.name, rows
    return None


def _clear(connection: Connection, tables: list[Table]) -> None:
    if connection.dialect.name == "postgresql":
        names = ", ".join(connection.dialect.identifier_preparer.format_table(t) for t in tables)
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        return
    for table in reversed(tables):
        connection.execute(delete(table))


class _Writer:
    """Writes batches of one table: COPY on PostgreSQL (many times faster), INSERT elsewhere."""

    def __init__(self, connection: Connection, table: Table) -> None:
        self.connection = connection
        self.table = table
        dialect = connection.dialect
        # Values are converted as SQLAlchemy would for an INSERT (UTC timestamps, JSON, ...).
        self.processors = [
            column.type.dialect_impl(dialect).bind_processor(dialect) for column in table.columns
        ]
        preparer = dialect.identifier_preparer
        names = ", ".join(preparer.quote(column.name) for column in table.columns)
        self.copy_sql = f"COPY {preparer.format_table(table)} ({names}) FROM STDIN"

    def write(self, rows: Sequence[Sequence[Any]]) -> None:
        if self.connection.dialect.name != "postgresql":
            keys = [column.key for column in self.table.columns]
            self.connection.execute(
                self.table.insert(), [dict(zip(keys, row, strict=True)) for row in rows]
            )
            return
        processors = list(enumerate(self.processors))
        driver = self.connection.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(self.copy_sql) as copy:
            for row in rows:
                copy.write_row(
                    [
                        row[i] if proc is None or row[i] is None else proc(row[i])
                        for i, proc in processors
                    ]
                )


def reset_sequences(connection: Connection, tables: list[Table]) -> None:
    """Make PostgreSQL's serial/identity sequences continue after the copied ids."""
    if connection.dialect.name != "postgresql":
        return  # SQLite takes max(rowid) + 1 by itself
    for table in tables:
        for column in table.primary_key.columns:
            sequence = connection.scalar(
                text("SELECT pg_get_serial_sequence(:table, :column)"),
                {"table": table.name, "column": column.name},
            )
            if sequence is None:
                continue
            highest = connection.scalar(select(func.max(column)))
            if highest is None:
                connection.execute(text("SELECT setval(:seq, 1, false)"), {"seq": sequence})
            else:
                connection.execute(
                    text("SELECT setval(:seq, :value, true)"),
                    {"seq": sequence, "value": int(highest)},
                )


def copy_database(
    settings: Settings,
    *,
    source_url: str,
    target_url: str,
    batch_size: int = 5000,
    replace: bool = False,
    progress: Progress | None = None,
) -> CopyReport:
    """Copy every table from source to target and prove it; raise on any difference."""
    progress = progress or SilentProgress()
    started = time.monotonic()
    tables = canonical.data_tables()
    with (
        open_engine(settings, source_url) as source,
        open_engine(settings, target_url) as target,
    ):
        require_current_schema(source, source_url)
        upgrade(target)
        source_digests: dict[str, canonical.TableDigest] = {}
        with read_options(source.connect()) as reader, reader.begin(), target.begin() as writer:
            found = _first_non_empty(writer, tables)
            if found is not None:
                if not replace:
                    raise TargetNotEmpty(table=found[0], rows=found[1])
                _clear(writer, tables)
            for table in tables:
                progress.start(f"copy {table.name}", canonical.count_rows(reader, table))
                digester = canonical.Digester(table)
                writer_for_table = _Writer(writer, table)
                for batch in canonical.iter_batches(reader, table, batch_size):
                    digester.update(batch)
                    writer_for_table.write(batch)
                    progress.advance(len(batch))
                source_digests[table.name] = digester.result()
            reset_sequences(writer, tables)
            # The reports' summary is derived, not a data table: neither copied nor
            # compared. The target's triggers filled it while the reservations were
            # written; it is recomputed from what was copied all the same, so it never
            # depends on the order or the way the rows arrived.
            summary.rebuild(writer)
            target_digests: dict[str, canonical.TableDigest] = {}
            for table in tables:
                progress.start(f"verify {table.name}", source_digests[table.name].rows)
                target_digests[table.name] = canonical.digest_table(
                    writer, table, batch_size=batch_size, on_rows=progress.advance
                )
            diff = canonical.differences(source_digests, target_digests)
            if diff:
                raise DatabasesDiffer(summary="; ".join(diff), details=diff)
        return CopyReport(source_digests, time.monotonic() - started)


def verify_databases(
    settings: Settings,
    *,
    source_url: str,
    target_url: str,
    progress: Progress | None = None,
) -> dict[str, canonical.TableDigest]:
    """Compare two databases table by table (counts and checksums, Alembic revision too).

    Returns the digests when equal; raises DatabasesDiffer listing what differs.
    """
    progress = progress or SilentProgress()
    sides: list[dict[str, canonical.TableDigest]] = []
    for url in (source_url, target_url):
        with (
            open_engine(settings, url) as engine,
            read_options(engine.connect()) as conn,
            conn.begin(),
        ):
            sides.append(
                canonical.digest_database(
                    conn,
                    on_table=lambda name, rows: progress.start(f"read {name}", rows),
                    on_rows=progress.advance,
                )
            )
    diff = canonical.differences(sides[0], sides[1])
    if diff:
        raise DatabasesDiffer(summary="; ".join(diff), details=diff)
    return sides[0]
