"""Named exclusive locks across processes: one runner of a job at a time.

On PostgreSQL a session-level advisory lock held on a dedicated connection for the block;
on SQLite a non-blocking file lock next to the database. Either way a second process
asking for the same lock is told "not yours" at once instead of waiting.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text

from mrs.db.engine import Database
from mrs.db.filelock import host_lock


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for an advisory lock name."""
    digest = hashlib.sha256(f"mrs:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@asynccontextmanager
async def exclusive(db: Database, name: str) -> AsyncIterator[bool]:
    """Yield True when this process holds the lock `name` for the block, else False."""
    if db.dialect == "postgresql":
        key = lock_key(name)
        async with db.engine.connect() as connection:
            held = bool(
                await connection.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})
            )
            await connection.commit()
            try:
                yield held
            finally:
                if held:
                    await connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    await connection.commit()
        return
    async with host_lock(db.settings, name) as held:
        yield held
