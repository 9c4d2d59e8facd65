"""Create → verify → prune, and restore: written once, against mrs.ops.backup.strategy.

A backup is a file `mrs-<UTC timestamp><extension>` plus its manifest
(mrs.ops.backup.manifest). Both are written under a temporary name and renamed when
complete, so a file with a manifest is always a whole backup; what an interrupted backup
leaves (`.partial` files) is removed by the next backup that runs alone.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from mrs.clock import system_clock
from mrs.db.errors import first_line
from mrs.db.filelock import shared_noting_first
from mrs.ops.backup.manifest import (
    PARTIAL_SUFFIX,
    Backup,
    check_file,
    new_manifest,
    partial_path,
    read_manifest,
    record_verification,
    write_manifest,
)
from mrs.ops.backup.postgresql import PostgresBackups
from mrs.ops.backup.sqlite import SqliteBackups
from mrs.ops.backup.strategy import DialectBackups, stage
from mrs.ops.errors import BackupDamaged, BackupNotFound, OpsError, RestoreFailed
from mrs.ops.pause import pause_point
from mrs.ops.progress import Progress, SilentProgress
from mrs.settings import PRIVATE_FILE_MODE, Settings, create_private_file

LOCK_FILE = ".lock"
# Leftovers of interrupted backups older than this are removed by a prune even while
# another backup runs (no backup takes a day).
STALE_PARTIAL_SECONDS = 86_400

_STRATEGIES: dict[str, type[PostgresBackups] | type[SqliteBackups]] = {
    PostgresBackups.dialect: PostgresBackups,
    SqliteBackups.dialect: SqliteBackups,
}
_EXTENSIONS = {strategy.extension for strategy in _STRATEGIES.values()}

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VerifyReport:
    backup: Backup
    restore_seconds: float
    data_age_seconds: float
    rows: int


@dataclass(frozen=True)
class RestoreReport:
    backup: Backup
    safety_backup: Backup
    seconds: float
    previous_database: str | None


def strategy_for(settings: Settings, dialect: str | None = None) -> DialectBackups:
    """The backups of `dialect` (default: the configured database's) on the configured URL."""
    url = settings.effective_backup_database_url
    name = dialect or make_url(url).get_backend_name()
    strategy = _STRATEGIES.get(name)
    if strategy is None:
        raise OpsError(reason=f"backups of {name} databases are not supported")
    return strategy(settings, url)


def list_backups(settings: Settings) -> list[Backup]:
    """Every backup file in the backup directory, newest first (names sort by time)."""
    directory = settings.effective_backup_dir
    if not directory.is_dir():
        return []
    files = [
        p
        for p in directory.iterdir()
        if p.is_file() and p.name.startswith("mrs-") and p.suffix in _EXTENSIONS
    ]
    return [Backup(p, read_manifest(p)) for p in sorted(files, key=lambda p: p.name, reverse=True)]


def find_backup(settings: Settings, path: str | Path | None) -> Backup:
    """The backup at `path` (or, with None, the newest good one)."""
    if path is None:
        for backup in list_backups(settings):
            if backup.good:
                return backup
        raise BackupNotFound(path=str(settings.effective_backup_dir))
    candidate = Path(path)
    if not candidate.is_file() and not candidate.is_absolute():
        candidate = settings.effective_backup_dir / candidate
    if not candidate.is_file():
        raise BackupNotFound(path=str(path))
    return Backup(candidate, read_manifest(candidate))


# --- create -------------------------------------------------------------------------


def create_backup(
    settings: Settings, *, trigger: str = "manual", progress: Progress | None = None
) -> Backup:
    """Write a new backup and its manifest; nothing is left behind if it fails."""
    progress = progress or SilentProgress()
    strategy = strategy_for(settings)
    with stage("prepare the backup directory", settings.effective_backup_dir):
        directory = settings.ensure_backup_dir()
        # Backups may run side by side; only one that ran alone may remove leftovers: every
        # `.partial` then belongs to a backup whose process is gone.
        with shared_noting_first(directory / LOCK_FILE) as alone:
            if alone:
                for leftover in _remove_leftovers(directory):
                    logger.info("removed %s, left by an interrupted backup", leftover.name)
            return _create_in(settings, strategy, directory, trigger, progress)


def _create_in(
    settings: Settings,
    strategy: DialectBackups,
    directory: Path,
    trigger: str,
    progress: Progress,
) -> Backup:
    started_at = system_clock()
    started = time.monotonic()
    stamp = started_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    final = directory / f"mrs-{stamp}{strategy.extension}"
    partial = partial_path(final)
    try:
        with stage("create the backup file", partial):
            create_private_file(partial)
        with stage(f"dump the {strategy.dialect} database", partial):
            dump = strategy.dump(partial, progress)
        pause_point(settings, "backup-dumped")
        with stage("write the backup file to disk", partial):
            os.chmod(partial, PRIVATE_FILE_MODE)  # a tool may have recreated it
            with partial.open("rb") as handle:
                os.fsync(handle.fileno())
            manifest = new_manifest(
                final,
                dump,
                dialect=strategy.dialect,
                trigger=trigger,
                created_at=started_at,
                seconds=time.monotonic() - started,
                partial=partial,
            )
        with stage("move the backup into place", final):
            os.replace(partial, final)
        with stage("write the manifest", Backup(final, None).manifest_path):
            write_manifest(final, manifest)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        with contextlib.suppress(OSError):
            final.unlink()
        raise
    return Backup(final, manifest)


def _remove_leftovers(directory: Path, *, older_than: float | None = None) -> list[Path]:
    """Delete the `.partial` files of interrupted backups and manifest writes (only those
    not modified for `older_than` seconds, when given)."""
    removed = []
    for leftover in directory.glob(f"mrs-*{PARTIAL_SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            if older_than is not None and time.time() - leftover.stat().st_mtime <= older_than:
                continue
            leftover.unlink()
            removed.append(leftover)
    return removed


# --- verify -------------------------------------------------------------------------


def verify_backup(
    settings: Settings, backup: Backup, *, progress: Progress | None = None
) -> VerifyReport:
    """Check the file's checksum, restore it apart from the live database and compare its
    content with the manifest. The result (ok or the error) is written into the manifest."""
    progress = progress or SilentProgress()
    started = time.monotonic()
    try:
        check_file(backup)
        assert backup.manifest is not None
        strategy = strategy_for(settings, backup.manifest["dialect"])
        rows = strategy.restore_and_compare(backup, progress)
    except BackupDamaged as exc:
        record_verification(backup, ok=False, error=str(exc), seconds=time.monotonic() - started)
        raise
    seconds = time.monotonic() - started
    updated = record_verification(backup, ok=True, error=None, seconds=seconds)
    created = backup.created_at or system_clock()
    return VerifyReport(
        backup=updated,
        restore_seconds=seconds,
        data_age_seconds=(system_clock() - created).total_seconds(),
        rows=rows,
    )


# --- prune --------------------------------------------------------------------------


def prune_backups(settings: Settings, *, keep: int | None = None) -> list[Path]:
    """Keep the newest `keep` good backups; delete older good ones and bad ones older than
    the newest good one. Never deletes the last good backup. Returns the deleted files."""
    keep = keep or settings.backup_keep
    backups = list_backups(settings)
    good = [b for b in backups if b.good]
    if not good:
        return []
    kept = {b.path for b in good[:keep]}
    newest_good = good[0].path.name
    doomed = [b for b in backups if b.path not in kept and (b.good or b.path.name < newest_good)]
    deleted: list[Path] = []
    for backup in doomed:
        for path in (backup.manifest_path, backup.path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        deleted.append(backup.path)
    _remove_leftovers(settings.effective_backup_dir, older_than=STALE_PARTIAL_SECONDS)
    return deleted


# --- restore ------------------------------------------------------------------------


def restore_backup(
    settings: Settings, backup: Backup, *, progress: Progress | None = None
) -> RestoreReport:
    """Replace the database's content with a verified backup, after a safety backup.

    On any failure the database is left as it was (see docs/operations/backup-restore.md).
    """
    progress = progress or SilentProgress()
    started = time.monotonic()
    try:
        check_file(backup)
    except BackupDamaged as exc:
        raise RestoreFailed(reason=str(exc)) from exc
    assert backup.manifest is not None
    strategy = strategy_for(settings)
    if backup.manifest["dialect"] != strategy.dialect:
        raise RestoreFailed(
            reason=f"the backup is of a {backup.manifest['dialect']} database, the configured database is {strategy.dialect} (use `mrs db copy` to move between them)"
        )
    progress.start("safety backup of the current database", None)
    try:
        safety = create_backup(settings, trigger="pre-restore", progress=progress)
    except OpsError as exc:
        raise RestoreFailed(reason=f"the safety backup failed: {exc}") from exc
    try:
        previous = strategy.restore(backup, progress)
    except RestoreFailed:
        raise
    except (OpsError, SQLAlchemyError, OSError, sqlite3.Error) as exc:
        raise RestoreFailed(reason=first_line(exc)) from exc
    return RestoreReport(backup, safety, time.monotonic() - started, previous)
