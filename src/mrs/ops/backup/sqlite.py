"""SQLite backups: a copy through SQLite's online backup API, one self-contained file.

The copy is digested itself, so the manifest describes exactly what the file holds; a
restore proves a staged copy first and then writes it into the live file in one step.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from mrs.db.engine import make_sync_engine
from mrs.db.migrate import current_revisions, upgrade
from mrs.ops.backup.manifest import Backup, Dump, compare_with_database, digest_database
from mrs.ops.errors import BackupDamaged, DatabaseUnreachable, OpsError
from mrs.ops.progress import Progress
from mrs.settings import Settings


@dataclass(frozen=True)
class SqliteBackups:
    """Backups of the SQLite database file named by `url`."""

    settings: Settings
    url: str
    dialect: ClassVar[str] = "sqlite"
    extension: ClassVar[str] = ".sqlite3"

    def dump(self, partial: Path, progress: Progress) -> Dump:
        source_path = self._live_path()
        if not source_path.is_file():
            raise DatabaseUnreachable(url=self.url, reason="the SQLite file does not exist")
        progress.start("sqlite backup", None)
        source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
        target = sqlite3.connect(partial)
        try:
            source.backup(target)  # a consistent copy, even while the service writes
            # One self-contained file: no -wal/-shm companions to lose when it is moved.
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
            source.close()
        engine = _file_engine(partial)
        try:
            revision = ",".join(sorted(current_revisions(engine)))
            digests = digest_database(engine, progress)
        finally:
            engine.dispose()
        return Dump(digests, revision, sqlite3.sqlite_version)

    def restore_and_compare(self, backup: Backup, progress: Progress) -> int:
        with tempfile.TemporaryDirectory(prefix="mrs-verify-") as tmp:
            copy = Path(tmp) / "restored.sqlite3"
            shutil.copyfile(backup.path, copy)
            _check_integrity(backup, copy)
            engine = make_sync_engine(self.settings, f"sqlite:///{copy}")
            try:
                return compare_with_database(backup, engine, progress)
            finally:
                engine.dispose()

    def restore(self, backup: Backup, progress: Progress) -> None:
        live = self._live_path()
        with tempfile.TemporaryDirectory(prefix="mrs-restore-", dir=live.parent) as tmp:
            staged = Path(tmp) / "restored.sqlite3"
            shutil.copyfile(backup.path, staged)
            engine = _file_engine(staged)
            try:
                compare_with_database(backup, engine, progress)
                upgrade(engine)
            finally:
                engine.dispose()
            progress.start("copying into the live database", None)
            source = sqlite3.connect(staged)
            target = sqlite3.connect(live, timeout=30)
            try:
                # One step (pages=-1): the live file changes all at once or not at all, and
                # open connections of the service see the restored content.
                source.backup(target, pages=-1)
            finally:
                target.close()
                source.close()
        return None

    def _live_path(self) -> Path:
        database = make_url(self.url).database
        if not database or database == ":memory:":
            raise OpsError(reason="an in-memory SQLite database cannot be backed up")
        return Path(database)


def _file_engine(path: Path) -> Engine:
    """A plain engine on a SQLite file (unlike the service's, it leaves the journal mode)."""
    return create_engine(f"sqlite:///{path}", poolclass=NullPool)


def _check_integrity(backup: Backup, copy: Path) -> None:
    check = sqlite3.connect(copy)
    try:
        result = check.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupDamaged(name=backup.name, reason=f"not a readable SQLite file: {exc}") from exc
    finally:
        check.close()
    if not result or result[0] != "ok":
        raise BackupDamaged(name=backup.name, reason=f"SQLite integrity check: {result}")
