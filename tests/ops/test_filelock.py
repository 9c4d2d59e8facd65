"""File locks: one holder at a time across processes, freed when the holder is killed,
and lock files private to the service's user whatever the umask."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from mrs.db.engine import Database
from mrs.db.leader import exclusive
from mrs.settings import Settings

HOLDER = """
import sys, time
from pathlib import Path
from mrs.db.filelock import {function}
with {function}(Path(sys.argv[1])) as held:
    Path(sys.argv[2]).write_text(str(held))
    time.sleep(60)
"""


def _hold_in_child(function: str, lock: Path, tmp_path: Path) -> subprocess.Popen[bytes]:
    ready = tmp_path / f"ready-{function}"
    child = subprocess.Popen([sys.executable, "-c", HOLDER.format(function=function), lock, ready])
    deadline = time.monotonic() + 30
    while not ready.exists():
        assert child.poll() is None, "the lock holder died"
        assert time.monotonic() < deadline, "the lock holder never took the lock"
        time.sleep(0.05)
    assert ready.read_text() == "True"
    return child


def _kill(child: subprocess.Popen[bytes]) -> None:
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)


def test_a_held_lock_is_refused_then_freed_by_the_holders_death(tmp_path: Path) -> None:
    from mrs.db.filelock import try_exclusive

    lock = tmp_path / "job.lock"
    child = _hold_in_child("try_exclusive", lock, tmp_path)
    try:
        with try_exclusive(lock) as held:
            assert held is False
    finally:
        _kill(child)
    with try_exclusive(lock) as held:
        assert held is True


def test_a_shared_holder_is_not_alone_while_another_one_runs(tmp_path: Path) -> None:
    from mrs.db.filelock import shared_noting_first

    lock = tmp_path / ".lock"
    child = _hold_in_child("shared_noting_first", lock, tmp_path)
    try:
        with shared_noting_first(lock) as alone:
            assert alone is False
    finally:
        _kill(child)
    with shared_noting_first(lock) as alone:
        assert alone is True


async def test_the_leader_lock_file_is_private(tmp_path: Path, sqlite_url: str) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=sqlite_url,
        secret_key="test-secret-key-0123456789-0123456789-0123456789",
    )
    db = Database(settings)
    old = os.umask(0o022)
    try:
        async with exclusive(db, "backup") as held:
            assert held
    finally:
        os.umask(old)
        await db.dispose()
    lock = settings.data_dir / "locks" / "backup.lock"
    assert lock.stat().st_mode & 0o777 == 0o600
    assert lock.parent.stat().st_mode & 0o777 == 0o700
