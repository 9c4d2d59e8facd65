"""Advisory file locks (flock) for what must run once per host or per directory.

The lock belongs to the open file, so it is released when the process dies, however it
dies: a lock file left on disk never blocks anyone. Lock files are private to the
service's user, like everything else in the data directory.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TextIO

from mrs.settings import PRIVATE_FILE_MODE, Settings, private_directory

LOCK_DIR = "locks"


@contextmanager
def try_exclusive(path: Path) -> Iterator[bool]:
    """Hold `path`'s lock alone for the block if nobody else holds it; yields whether held.

    Never waits: a second holder is told "not yours" at once.
    """
    with _opened(path) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def shared_noting_first(path: Path) -> Iterator[bool]:
    """Hold `path`'s lock shared for the block; yields True when this process had it alone
    first, i.e. no other holder was inside its block at that moment.

    For work that may run side by side but whose clean-up of leftovers must not run while
    another one is busy: only the process that was alone may clean up.
    """
    with _opened(path) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            alone = True
        except BlockingIOError:
            alone = False
        # Shared from here on: others may run beside this one, none of them may clean up.
        fcntl.flock(handle, fcntl.LOCK_SH)
        try:
            yield alone
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@asynccontextmanager
async def host_lock(settings: Settings, name: str) -> AsyncIterator[bool]:
    """The non-blocking lock `name` in the data directory: one holder per host (and per
    data directory). Yields whether this process holds it."""
    lock_dir = private_directory(settings.ensure_data_dir() / LOCK_DIR)
    with try_exclusive(lock_dir / f"{name}.lock") as held:
        yield held


@contextmanager
def _opened(path: Path) -> Iterator[TextIO]:
    # Append mode creates the file when missing and never truncates someone else's.
    with path.open("a+") as handle:
        os.fchmod(handle.fileno(), PRIVATE_FILE_MODE)
        yield handle
