"""Backups: create, list, verify, prune and restore, each proven by checksums.

A backup is a file `mrs-<UTC timestamp>.dump` (PostgreSQL, `pg_dump --format=custom`) or
`mrs-<UTC timestamp>.sqlite3` (SQLite, the online backup API) plus a manifest
`<file>.manifest.json` holding its sha256, size, schema revision and the row count and
content checksum of every table (mrs.ops.canonical). Both are written under a temporary
name and renamed when complete, so a file with a manifest is always a whole backup.

On PostgreSQL the checksums are computed in the very snapshot pg_dump dumps
(`pg_export_snapshot()` + `pg_dump --snapshot`), so the manifest describes exactly the
file's content even while the service keeps writing.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from mrs import __version__
from mrs.clock import system_clock
from mrs.db.engine import make_sync_engine
from mrs.db.leader import lock_key
from mrs.db.migrate import current_revisions, head_revisions, upgrade
from mrs.errors import DomainError
from mrs.ops import canonical, pgtools, switch
from mrs.ops.connections import first_line, open_engine
from mrs.ops.copy import read_options
from mrs.ops.errors import (
    BackupDamaged,
    BackupFailed,
    BackupNotFound,
    DatabaseUnreachable,
    OpsError,
    RestoreFailed,
)
from mrs.ops.pause import pause_point
from mrs.ops.progress import Progress, SilentProgress
from mrs.ops.switch import RESTORING, SWITCHING, SwitchPlan, write_json_atomically
from mrs.settings import PRIVATE_FILE_MODE, Settings, create_private_file

MANIFEST_SUFFIX = ".manifest.json"
PARTIAL_SUFFIX = ".partial"
MANIFEST_FORMAT = 1
RESTORE_MAINTENANCE_WORK_MEM = "256MB"
SCRATCH_PREFIX = "mrs_verify"
LOCK_FILE = ".lock"
_EXTENSIONS = {"postgresql": ".dump", "sqlite": ".sqlite3"}

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backup:
    """One backup file and its manifest (None when missing or unreadable)."""

    path: Path
    manifest: dict[str, Any] | None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def manifest_path(self) -> Path:
        return manifest_path(self.path)

    @property
    def created_at(self) -> datetime | None:
        if self.manifest is None:
            return None
        return datetime.fromisoformat(self.manifest["created_at"])

    @property
    def verification(self) -> dict[str, Any] | None:
        return self.manifest.get("verification") if self.manifest else None

    @property
    def good(self) -> bool:
        """Complete and not known to be bad (a failed verification makes a backup bad)."""
        if self.manifest is None or not self.path.is_file():
            return False
        if self.path.stat().st_size != self.manifest.get("size_bytes"):
            return False
        return not (self.verification and not self.verification.get("ok"))


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


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + MANIFEST_SUFFIX)


def _dialect(url: str) -> str:
    return make_url(url).get_backend_name()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def _stage(name: str, target: object, error: type[OpsError] = BackupFailed) -> Iterator[None]:
    """Name the step and its file or database in any unexpected error raised inside."""
    try:
        yield
    except DomainError:
        raise
    except (OSError, SQLAlchemyError, sqlite3.Error, subprocess.SubprocessError) as exc:
        raise error(reason=f"{name} ({target}): {first_line(exc)}") from exc


@contextlib.contextmanager
def _directory_lock(directory: Path) -> Iterator[bool]:
    """Hold the backup directory's lock (shared) for the block; yields True when this
    process had it alone first, i.e. no other backup of this directory was running.

    Only a process that had the lock alone may remove leftovers: every `.partial` then
    belongs to a backup whose process is gone.
    """
    with (directory / LOCK_FILE).open("a+") as handle:
        os.fchmod(handle.fileno(), PRIVATE_FILE_MODE)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            alone = True
        except BlockingIOError:
            alone = False
        # Shared from here on: other backups may run beside this one, none may clean up.
        fcntl.flock(handle, fcntl.LOCK_SH)
        try:
            yield alone
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_leftovers(directory: Path) -> list[Path]:
    """Delete the `.partial` files of interrupted backups and manifest writes."""
    removed = []
    for leftover in directory.glob(f"mrs-*{PARTIAL_SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
            removed.append(leftover)
    return removed


def read_manifest(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(manifest_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def list_backups(settings: Settings) -> list[Backup]:
    """Every backup file in the backup directory, newest first (names sort by time)."""
    directory = settings.effective_backup_dir
    if not directory.is_dir():
        return []
    files = [
        p
        for p in directory.iterdir()
        if p.is_file() and p.name.startswith("mrs-") and p.suffix in _EXTENSIONS.values()
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


def _new_name(dialect: str, now: datetime) -> str:
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"mrs-{stamp}{_EXTENSIONS[dialect]}"


def _digest_on(engine: Engine, progress: Progress) -> dict[str, canonical.TableDigest]:
    with read_options(engine.connect()) as connection, connection.begin():
        return canonical.digest_database(
            connection,
            on_table=lambda name, rows: progress.start(f"checksum {name}", rows),
            on_rows=progress.advance,
        )


# --- create -------------------------------------------------------------------------


def _dump_postgresql(
    settings: Settings, url: str, partial: Path, progress: Progress
) -> tuple[dict[str, canonical.TableDigest], str, str]:
    """pg_dump into `partial`; returns the table digests of the dumped snapshot."""
    with open_engine(settings, url) as engine:
        with engine.connect() as connection:
            server = pgtools.server_major(connection)
            server_version = str(connection.scalar(text("SHOW server_version")))
        pg_dump = pgtools.find_tool("pg_dump", settings, server)
        with (
            engine.connect().execution_options(
                isolation_level="REPEATABLE READ"
            ) as snapshot_reader,
            snapshot_reader.begin(),
        ):
            snapshot = str(snapshot_reader.scalar(text("SELECT pg_export_snapshot()")))
            revision = ",".join(sorted(current_revisions_on(snapshot_reader)))
            progress.start("pg_dump", None)
            with subprocess.Popen(  # noqa: S603 - our own arguments, no shell
                [
                    str(pg_dump),
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    "--no-password",
                    f"--file={partial}",
                ],
                env=pgtools.libpq_env(url),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            ) as dump:
                # Checksums of the same snapshot while pg_dump writes it (both need it open).
                digests = canonical.digest_database(
                    snapshot_reader,
                    on_table=lambda name, rows: progress.start(f"checksum {name}", rows),
                    on_rows=progress.advance,
                )
                _, stderr = dump.communicate()
            if dump.returncode != 0:
                raise BackupFailed(
                    reason=f"pg_dump into {partial}: {pgtools.stderr_summary(stderr)}"
                )
    return digests, revision, server_version


def current_revisions_on(connection: Any) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    return set(MigrationContext.configure(connection).get_current_heads())


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise OpsError(reason="an in-memory SQLite database cannot be backed up")
    return Path(database)


def _file_engine(path: Path) -> Engine:
    """A plain engine on a SQLite file (unlike the service's, it leaves the journal mode)."""
    return create_engine(f"sqlite:///{path}", poolclass=NullPool)


def _dump_sqlite(
    settings: Settings, url: str, partial: Path, progress: Progress
) -> tuple[dict[str, canonical.TableDigest], str, str]:
    source_path = _sqlite_path(url)
    if not source_path.is_file():
        raise DatabaseUnreachable(url=url, reason="the SQLite file does not exist")
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
    # The copy itself is digested: it is exactly what the file holds.
    engine = _file_engine(partial)
    try:
        revision = ",".join(sorted(current_revisions(engine)))
        digests = _digest_on(engine, progress)
    finally:
        engine.dispose()
    return digests, revision, sqlite3.sqlite_version


def create_backup(
    settings: Settings, *, trigger: str = "manual", progress: Progress | None = None
) -> Backup:
    """Write a new backup and its manifest; nothing is left behind if it fails."""
    progress = progress or SilentProgress()
    url = settings.effective_backup_database_url
    dialect = _dialect(url)
    with _stage("prepare the backup directory", settings.effective_backup_dir):
        directory = settings.ensure_backup_dir()
        with _directory_lock(directory) as alone:
            if alone:
                for leftover in _remove_leftovers(directory):
                    logger.info("removed %s, left by an interrupted backup", leftover.name)
            return _create_in(settings, url, dialect, directory, trigger, progress)


def _create_in(
    settings: Settings, url: str, dialect: str, directory: Path, trigger: str, progress: Progress
) -> Backup:
    started_at = system_clock()
    started = time.monotonic()
    final = directory / _new_name(dialect, started_at)
    partial = final.with_name(final.name + PARTIAL_SUFFIX)
    try:
        with _stage("create the backup file", partial):
            create_private_file(partial)
        with _stage(f"dump the {dialect} database", partial):
            if dialect == "postgresql":
                digests, revision, server_version = _dump_postgresql(
                    settings, url, partial, progress
                )
            else:
                digests, revision, server_version = _dump_sqlite(settings, url, partial, progress)
        pause_point(settings, "backup-dumped")
        with _stage("write the backup file to disk", partial):
            os.chmod(partial, PRIVATE_FILE_MODE)  # a tool may have recreated it
            with partial.open("rb") as handle:
                os.fsync(handle.fileno())
            checksum, size = _sha256(partial), partial.stat().st_size
        manifest = {
            "format": MANIFEST_FORMAT,
            "file": final.name,
            "created_at": started_at.isoformat(),
            "finished_at": system_clock().isoformat(),
            "app_version": __version__,
            "schema_revision": revision,
            "dialect": dialect,
            "server_version": server_version,
            "trigger": trigger,
            "tables": {name: d.as_dict() for name, d in digests.items()},
            "sha256": checksum,
            "size_bytes": size,
            "duration_seconds": round(time.monotonic() - started, 3),
            "verification": None,
        }
        with _stage("move the backup into place", final):
            os.replace(partial, final)
        with _stage("write the manifest", manifest_path(final)):
            write_json_atomically(manifest_path(final), manifest)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        with contextlib.suppress(OSError):
            final.unlink()
        raise
    return Backup(final, manifest)


# --- verify -------------------------------------------------------------------------


def _admin_url(url: str, database: str = "postgres") -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


@contextlib.contextmanager
def _admin_connection(settings: Settings, url: str) -> Iterator[Any]:
    """An autocommit connection to the server's maintenance database (CREATE/DROP DATABASE)."""
    engine = make_sync_engine(settings, _admin_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            yield connection
    except OpsError:
        raise
    except Exception as exc:
        if "connection" in type(exc).__name__.lower() or "Operational" in type(exc).__name__:
            raise DatabaseUnreachable(url=_redact(url), reason=first_line(exc)) from exc
        raise
    finally:
        engine.dispose()


def _redact(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _quote(connection: Any, name: str) -> str:
    return str(connection.dialect.identifier_preparer.quote(name))


def _pg_restore(
    settings: Settings, url: str, database: str, path: Path, *, keep_owner: bool, server: int
) -> None:
    pg_restore = pgtools.find_tool("pg_restore", settings, server)
    args = [str(pg_restore), "--exit-on-error", "--no-password", f"--dbname={database}"]
    if not keep_owner:
        args += ["--no-owner", "--no-privileges"]
    jobs = min(2, os.cpu_count() or 1)
    if jobs > 1:
        args.append(f"--jobs={jobs}")
    env = pgtools.libpq_env(url, database=database)
    # Rebuilding the exclusion constraint's GiST index dominates a restore; more memory for
    # index builds (this session only) makes it markedly faster.
    env["PGOPTIONS"] = f"-c maintenance_work_mem={RESTORE_MAINTENANCE_WORK_MEM}"
    result = pgtools.run_tool([*args, str(path)], env=env)
    if result.returncode != 0:
        raise BackupDamaged(
            name=path.name, reason=f"pg_restore: {pgtools.stderr_summary(result.stderr)}"
        )


def _compare_with_manifest(backup: Backup, engine: Engine, progress: Progress) -> int:
    """Digest a restored copy and compare it with the manifest; returns the row count."""
    assert backup.manifest is not None
    expected = {
        name: canonical.TableDigest(int(v["rows"]), str(v["sha256"]))
        for name, v in backup.manifest["tables"].items()
    }
    revision = ",".join(sorted(current_revisions(engine)))
    if revision != backup.manifest["schema_revision"]:
        raise BackupDamaged(
            name=backup.name,
            reason=f"restored schema revision {revision}, manifest says "
            f"{backup.manifest['schema_revision']}",
        )
    if {revision} == {",".join(sorted(head_revisions()))}:
        actual = _digest_on(engine, progress)
        diff = canonical.differences(expected, actual)
    else:
        # An older schema: this code's table definitions do not apply; compare counts.
        actual = {}
        with engine.connect() as connection:
            for name in expected:
                # The name is quoted as an identifier; it comes from our own manifest.
                rows = connection.scalar(
                    text(f"SELECT count(*) FROM {_quote(connection, name)}")  # noqa: S608
                )
                actual[name] = canonical.TableDigest(int(rows or 0), expected[name].sha256)
        diff = canonical.differences(expected, actual)
    if diff:
        raise BackupDamaged(name=backup.name, reason="; ".join(diff))
    return sum(d.rows for d in expected.values())


def _check_file(backup: Backup) -> None:
    if backup.manifest is None:
        raise BackupDamaged(
            name=backup.name,
            reason=f"its manifest {backup.manifest_path.name} is missing or unreadable",
        )
    size = backup.path.stat().st_size
    if size != backup.manifest.get("size_bytes"):
        raise BackupDamaged(
            name=backup.name,
            reason=f"the file has {size} bytes, the manifest says {backup.manifest.get('size_bytes')} (truncated or changed)",
        )
    if _sha256(backup.path) != backup.manifest.get("sha256"):
        raise BackupDamaged(
            name=backup.name,
            reason="its sha256 checksum does not match the manifest (the file was changed or corrupted)",
        )


def drop_orphaned_scratch_databases(settings: Settings, url: str) -> list[str]:
    """Drop scratch databases whose verify process is gone (killed, crashed, host lost).

    A verify holds an advisory lock named after its scratch database for as long as the
    database exists; a scratch database whose lock anyone can take has no owner left.
    """
    dropped = []
    with _admin_connection(settings, url) as admin:
        names = admin.scalars(
            text("SELECT datname FROM pg_database WHERE datname LIKE :pattern"),
            {"pattern": f"{SCRATCH_PREFIX}\\_%"},
        ).all()
        for name in names:
            key = lock_key(f"scratch:{name}")
            if not admin.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}):
                continue  # a running verify owns it
            try:
                admin.execute(text(f"DROP DATABASE IF EXISTS {_quote(admin, name)} WITH (FORCE)"))
                dropped.append(name)
                logger.info("dropped %s, left by an interrupted verify", name)
            finally:
                admin.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
    return dropped


@contextlib.contextmanager
def scratch_database(settings: Settings, url: str) -> Iterator[str]:
    """A new, empty database on the server of `url`, dropped after the block; yields its name.

    Scratch databases left by killed verifies are dropped first.
    """
    with _stage("drop scratch databases of interrupted verifies", _redact(url)):
        drop_orphaned_scratch_databases(settings, url)
    name = f"{SCRATCH_PREFIX}_{uuid.uuid4().hex[:12]}"
    # The owner's lock lives on this connection, held until the database is gone.
    with _admin_connection(settings, url) as owner:
        owner.execute(text("SELECT pg_advisory_lock(:k)"), {"k": lock_key(f"scratch:{name}")})
        with _stage("create the scratch database", name):
            owner.execute(text(f"CREATE DATABASE {_quote(owner, name)}"))
        try:
            yield name
        finally:
            with _stage("drop the scratch database", name):
                owner.execute(text(f"DROP DATABASE IF EXISTS {_quote(owner, name)} WITH (FORCE)"))


def _restore_into_scratch_and_compare(
    settings: Settings, backup: Backup, progress: Progress
) -> int:
    assert backup.manifest is not None
    dialect = backup.manifest["dialect"]
    if dialect == "postgresql":
        url = settings.effective_backup_database_url
        if _dialect(url) != "postgresql":
            raise OpsError(
                reason="verifying a PostgreSQL backup needs a PostgreSQL server (MRS_DATABASE_URL)"
            )
        with open_engine(settings, url) as engine, engine.connect() as connection:
            server = pgtools.server_major(connection)
        with scratch_database(settings, url) as name:
            progress.start("pg_restore into a scratch database", None)
            pause_point(settings, "verify-scratch")
            with _stage("restore into the scratch database", name):
                _pg_restore(settings, url, name, backup.path, keep_owner=False, server=server)
            engine = make_sync_engine(settings, _admin_url(url, name))
            try:
                with _stage("compare the scratch database with the manifest", name):
                    return _compare_with_manifest(backup, engine, progress)
            finally:
                engine.dispose()
    with tempfile.TemporaryDirectory(prefix="mrs-verify-") as tmp:
        copy = Path(tmp) / "restored.sqlite3"
        shutil.copyfile(backup.path, copy)
        check = sqlite3.connect(copy)
        try:
            result = check.execute("PRAGMA integrity_check").fetchone()
        except sqlite3.DatabaseError as exc:
            raise BackupDamaged(
                name=backup.name, reason=f"not a readable SQLite file: {exc}"
            ) from exc
        finally:
            check.close()
        if not result or result[0] != "ok":
            raise BackupDamaged(name=backup.name, reason=f"SQLite integrity check: {result}")
        engine = make_sync_engine(settings, f"sqlite:///{copy}")
        try:
            return _compare_with_manifest(backup, engine, progress)
        finally:
            engine.dispose()


def verify_backup(
    settings: Settings, backup: Backup, *, progress: Progress | None = None
) -> VerifyReport:
    """Check the file's checksum, restore it into a scratch database and compare its content
    with the manifest. The result (ok or the error) is written into the manifest."""
    progress = progress or SilentProgress()
    started = time.monotonic()
    try:
        _check_file(backup)
        rows = _restore_into_scratch_and_compare(settings, backup, progress)
    except BackupDamaged as exc:
        _mark(backup, ok=False, error=str(exc), seconds=time.monotonic() - started)
        raise
    seconds = time.monotonic() - started
    updated = _mark(backup, ok=True, error=None, seconds=seconds)
    created = backup.created_at or system_clock()
    return VerifyReport(
        backup=updated,
        restore_seconds=seconds,
        data_age_seconds=(system_clock() - created).total_seconds(),
        rows=rows,
    )


def _mark(backup: Backup, *, ok: bool, error: str | None, seconds: float) -> Backup:
    if backup.manifest is None:
        return backup
    manifest = dict(backup.manifest)
    manifest["verification"] = {
        "ok": ok,
        "at": system_clock().isoformat(),
        "restore_seconds": round(seconds, 3),
        "error": error,
    }
    with contextlib.suppress(OSError):
        write_json_atomically(backup.manifest_path, manifest)
    return Backup(backup.path, manifest)


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
    # Leftovers of interrupted backups older than a day.
    directory = settings.effective_backup_dir
    for leftover in directory.glob(f"mrs-*{PARTIAL_SUFFIX}"):
        if time.time() - leftover.stat().st_mtime > 86_400:
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
    return deleted


# --- restore ------------------------------------------------------------------------


def _restore_postgresql(settings: Settings, backup: Backup, progress: Progress) -> str:
    """Restore into a new database, prove it, then swap names; returns the old DB's new name.

    Every step after the journal is written can be finished or undone by `recover_restore`
    if the process dies (mrs.ops.switch).
    """
    url = settings.effective_backup_database_url
    original = make_url(url).database
    if not original:
        raise RestoreFailed(reason="the database URL names no database")
    if switch.read_journal(settings) is not None:
        raise RestoreFailed(
            reason=f"an earlier restore was interrupted ({switch.journal_path(settings)}): "
            "run `mrs db recover` first"
        )
    stamp = system_clock().strftime("%Y%m%d%H%M%S")
    plan = SwitchPlan(
        original=original,
        fresh=f"{original[:40]}_restoring_{stamp}",
        previous=f"{original[:40]}_before_restore_{stamp}",
        phase=RESTORING,
        backup=str(backup.path),
    )
    with open_engine(settings, url) as engine, engine.connect() as connection:
        server = pgtools.server_major(connection)
        superuser = connection.scalar(
            text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        )
    with _stage("write the restore journal", switch.journal_path(settings), RestoreFailed):
        switch.write_journal(settings, plan)
    settled = False
    try:
        with _admin_connection(settings, url) as admin:
            owner = admin.scalar(
                text("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = :name"),
                {"name": original},
            )
            admin.execute(
                text(
                    f"CREATE DATABASE {_quote(admin, plan.fresh)} OWNER {_quote(admin, str(owner))}"
                )
            )
        progress.start("pg_restore into a new database", None)
        pause_point(settings, "restore-into-new")
        try:
            _pg_restore(
                settings, url, plan.fresh, backup.path, keep_owner=bool(superuser), server=server
            )
        except BackupDamaged as exc:
            raise RestoreFailed(reason=f"restore into {plan.fresh}: {exc}") from exc
        fresh_engine = make_sync_engine(settings, _admin_url(url, plan.fresh))
        try:
            with _stage("compare and migrate the new database", plan.fresh, RestoreFailed):
                _compare_with_manifest(backup, fresh_engine, progress)
                upgrade(fresh_engine)
        finally:
            fresh_engine.dispose()
        # From here on the new database is proven: an interrupted switch is finished.
        plan = plan.at(SWITCHING)
        with _stage("write the restore journal", switch.journal_path(settings), RestoreFailed):
            switch.write_journal(settings, plan)
        progress.start("switching databases", None)
        with _admin_connection(settings, url) as admin:
            try:
                switch.switch(settings, admin, plan)
            except Exception as exc:
                undone = switch.settle(settings, admin, plan, rollback=True)
                settled = True
                raise RestoreFailed(
                    reason=f"switching {plan.fresh} to {original}: {first_line(exc)} ({undone})"
                ) from exc
        settled = True
    finally:
        if not settled:
            with _admin_connection(settings, url) as admin:
                switch.settle(settings, admin, plan.at(RESTORING), rollback=True)
        switch.remove_journal(settings)
    return plan.previous


def recover_restore(settings: Settings, *, rollback: bool = False) -> str | None:
    """Finish (or roll back) a restore interrupted at its switch, from its journal;
    None when there is nothing to recover, else what was done."""
    plan = switch.read_journal(settings)
    if plan is None:
        return None
    url = settings.effective_backup_database_url
    if make_url(url).database != plan.original:
        raise OpsError(
            reason=f"the restore journal is about database {plan.original}, the configured "
            f"database is {make_url(url).database}: run the recovery with the settings of "
            "that restore"
        )
    with _admin_connection(settings, url) as admin:
        done = switch.settle(settings, admin, plan, rollback=rollback)
    switch.remove_journal(settings)
    logger.warning("interrupted restore recovered: %s", done)
    return done


def _restore_sqlite(settings: Settings, backup: Backup, progress: Progress) -> None:
    live = _sqlite_path(settings.effective_backup_database_url)
    with tempfile.TemporaryDirectory(prefix="mrs-restore-", dir=live.parent) as tmp:
        staged = Path(tmp) / "restored.sqlite3"
        shutil.copyfile(backup.path, staged)
        engine = _file_engine(staged)
        try:
            _compare_with_manifest(backup, engine, progress)
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


def restore_backup(
    settings: Settings, backup: Backup, *, progress: Progress | None = None
) -> RestoreReport:
    """Replace the database's content with a verified backup, after a safety backup.

    On any failure the database is left as it was (see docs/operations/backup-restore.md).
    """
    progress = progress or SilentProgress()
    started = time.monotonic()
    try:
        _check_file(backup)
    except BackupDamaged as exc:
        raise RestoreFailed(reason=str(exc)) from exc
    assert backup.manifest is not None
    dialect = _dialect(settings.effective_backup_database_url)
    if backup.manifest["dialect"] != dialect:
        raise RestoreFailed(
            reason=f"the backup is of a {backup.manifest['dialect']} database, the configured database is {dialect} (use `mrs db copy` to move between them)"
        )
    progress.start("safety backup of the current database", None)
    try:
        safety = create_backup(settings, trigger="pre-restore", progress=progress)
    except OpsError as exc:
        raise RestoreFailed(reason=f"the safety backup failed: {exc}") from exc
    previous: str | None = None
    try:
        if dialect == "postgresql":
            previous = _restore_postgresql(settings, backup, progress)
        else:
            _restore_sqlite(settings, backup, progress)
    except RestoreFailed:
        raise
    except (OpsError, SQLAlchemyError, OSError, sqlite3.Error) as exc:
        raise RestoreFailed(reason=first_line(exc)) from exc
    return RestoreReport(backup, safety, time.monotonic() - started, previous)
