"""What each database dialect provides to the backup flow, and how its errors are named."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

from sqlalchemy.exc import SQLAlchemyError

from mrs.db.errors import first_line
from mrs.errors import DomainError
from mrs.ops.backup.manifest import Backup, Dump
from mrs.ops.errors import BackupFailed, OpsError
from mrs.ops.progress import Progress


@runtime_checkable
class DialectBackups(Protocol):
    """Dump, verify and restore for one dialect; mrs.ops.backup.flow does the rest
    (names, manifest, locking, pruning, safety backups) once for all of them."""

    @property
    def dialect(self) -> str:
        """The SQLAlchemy backend name ("postgresql", "sqlite")."""
        ...

    @property
    def extension(self) -> str:
        """The backup file's suffix: how `mrs backup list` tells backups from other files."""
        ...

    def dump(self, partial: Path, progress: Progress) -> Dump:
        """Write a consistent copy of the database into `partial` and digest exactly it."""
        ...

    def restore_and_compare(self, backup: Backup, progress: Progress) -> int:
        """Restore `backup` somewhere apart from the live database and compare it with its
        manifest; returns the row count. The copy is gone afterwards."""
        ...

    def restore(self, backup: Backup, progress: Progress) -> str | None:
        """Replace the live database's content with the proven `backup`; returns where the
        old content was kept, if it was."""
        ...


@contextlib.contextmanager
def stage(name: str, target: object, error: type[OpsError] = BackupFailed) -> Iterator[None]:
    """Name the step and its file or database in any unexpected error raised inside."""
    try:
        yield
    except DomainError:
        raise
    except (OSError, SQLAlchemyError, sqlite3.Error, subprocess.SubprocessError) as exc:
        raise error(reason=f"{name} ({target}): {first_line(exc)}") from exc
