"""On PostgreSQL the audit log is append-only for every role: a trigger refuses UPDATE
and DELETE, except a DELETE in the prune's own transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from mrs.audit import service as audit
from mrs.audit.models import AuditEntry
from mrs.clock import FixedClock
from mrs.db.engine import Database


async def _count(db: Database) -> int:
    async with db.snapshot() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


async def _delete_everything_saying_not_pruning(db: Database) -> None:
    async with db.transaction() as session:
        await session.execute(text("SET LOCAL mrs.audit_prune = 'off'"))
        await session.execute(text("DELETE FROM audit_log"))


async def test_rows_cannot_be_changed_or_deleted(db: Database) -> None:
    assert db.dialect == "postgresql"
    async with db.transaction() as session:
        await audit.record(
            session, action="test.keep", subject_type="t", subject_id=1, actor_id=None
        )
    for statement in (update(AuditEntry).values(action="test.changed"), delete(AuditEntry)):
        with pytest.raises(DBAPIError, match="append-only"):
            async with db.transaction() as session:
                await session.execute(statement)
    # Nor as raw SQL, nor by a session that merely says it is not pruning.
    with pytest.raises(DBAPIError, match="append-only"):
        await _delete_everything_saying_not_pruning(db)
    assert await _count(db) == 1
    async with db.snapshot() as session:
        assert await session.scalar(select(AuditEntry.action)) == "test.keep"


async def test_the_prune_permission_ends_with_its_transaction(
    db: Database, clock: FixedClock
) -> None:
    now = clock()
    async with db.transaction() as session:
        await audit.record(
            session,
            action="test.old",
            subject_type="t",
            subject_id=1,
            actor_id=None,
            at=now - timedelta(days=1000),
        )
        await audit.record(
            session, action="test.new", subject_type="t", subject_id=2, actor_id=None, at=now
        )
    assert await audit.prune(db, older_than_days=30, now=now) == 1
    with pytest.raises(DBAPIError, match="append-only"):
        async with db.transaction() as session:
            await session.execute(delete(AuditEntry))
    assert await _count(db) == 2  # test.new and the prune's own row


async def test_the_fast_paths_connection_cannot_change_rows_either(db: Database) -> None:
    """The bookings' own statements (psycopg, autocommit) insert audit rows: the same
    connection cannot update or delete one."""
    async with db.transaction() as session:
        await audit.record(
            session, action="test.keep", subject_type="t", subject_id=1, actor_id=None
        )
    for sql in ("UPDATE audit_log SET action = 'test.changed'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            await db.write(text(sql), {})
    async with db.snapshot() as session:
        assert await session.scalar(select(AuditEntry.action)) == "test.keep"
