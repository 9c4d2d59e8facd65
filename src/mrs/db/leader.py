"""Named exclusive locks across processes: one runner of a job at a time.

On PostgreSQL a session-level advisory lock held on a dedicated connection for the block;
on SQLite a non-blocking file lock next to the database. Either way a second process
asking for the same lock is told "not yours" at once instead of waiting.
"""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text

from mrs.db.engine import Database


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
    lock_dir = Path(db.settings.ensure_data_dir()) / "locks"
    lock_dir.mkdir(exist_ok=True)
    with (lock_dir / f"{name}.lock").open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
