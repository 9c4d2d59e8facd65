"""PostgreSQL backups: `pg_dump --format=custom`, verified by `pg_restore` into a scratch
database, restored into a new database that replaces the live one by a journalled switch.

The checksums are computed in the very snapshot pg_dump dumps (`pg_export_snapshot()` +
`pg_dump --snapshot`), so the manifest describes exactly the file's content even while the
service keeps writing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from mrs.clock import system_clock
from mrs.db.engine import make_sync_engine
from mrs.db.errors import first_line
from mrs.db.leader import lock_key
from mrs.db.migrate import upgrade
from mrs.db.urls import redacted
from mrs.ops import canonical, pgtools, switch
from mrs.ops.backup.manifest import Backup, Dump, compare_with_database
from mrs.ops.backup.strategy import stage
from mrs.ops.connections import open_engine, quote_identifier
from mrs.ops.errors import (
    BackupDamaged,
    BackupFailed,
    DatabaseUnreachable,
    OpsError,
    RestoreFailed,
)
from mrs.ops.pause import pause_point
from mrs.ops.progress import Progress
from mrs.ops.switch import RESTORING, SWITCHING, SwitchPlan
from mrs.settings import Settings

RESTORE_MAINTENANCE_WORK_MEM = "256MB"
SCRATCH_PREFIX = "mrs_verify"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PostgresBackups:
    """Backups of the PostgreSQL database at `url` (see the module's description)."""

    settings: Settings
    url: str
    dialect: ClassVar[str] = "postgresql"
    extension: ClassVar[str] = ".dump"

    def dump(self, partial: Path, progress: Progress) -> Dump:
        settings, url = self.settings, self.url
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
                revision = ",".join(sorted(_current_revisions_on(snapshot_reader)))
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
        return Dump(digests, revision, server_version)

    def restore_and_compare(self, backup: Backup, progress: Progress) -> int:
        settings, url = self.settings, self.url
        if make_url(url).get_backend_name() != "postgresql":
            raise OpsError(
                reason="verifying a PostgreSQL backup needs a PostgreSQL server (MRS_DATABASE_URL)"
            )
        server = _server_major(settings, url)
        with scratch_database(settings, url) as name:
            progress.start("pg_restore into a scratch database", None)
            pause_point(settings, "verify-scratch")
            with stage("restore into the scratch database", name):
                _pg_restore(settings, url, name, backup.path, keep_owner=False, server=server)
            engine = make_sync_engine(settings, _admin_url(url, name))
            try:
                with stage("compare the scratch database with the manifest", name):
                    return compare_with_database(backup, engine, progress)
            finally:
                engine.dispose()

    def restore(self, backup: Backup, progress: Progress) -> str:
        """Restore into a new database, prove it, then swap names; returns the old
        database's new name.

        Every step after the journal is written can be finished or undone by
        `recover_restore` if the process dies (mrs.ops.switch).
        """
        settings, url = self.settings, self.url
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
        self._write_journal(plan)
        settled = False
        try:
            with _admin_connection(settings, url) as admin:
                owner = admin.scalar(
                    text("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = :name"),
                    {"name": original},
                )
                admin.execute(
                    text(
                        f"CREATE DATABASE {quote_identifier(admin, plan.fresh)} "
                        f"OWNER {quote_identifier(admin, str(owner))}"
                    )
                )
            progress.start("pg_restore into a new database", None)
            pause_point(settings, "restore-into-new")
            try:
                _pg_restore(
                    settings,
                    url,
                    plan.fresh,
                    backup.path,
                    keep_owner=bool(superuser),
                    server=server,
                )
            except BackupDamaged as exc:
                raise RestoreFailed(reason=f"restore into {plan.fresh}: {exc}") from exc
            fresh_engine = make_sync_engine(settings, _admin_url(url, plan.fresh))
            try:
                with stage("compare and migrate the new database", plan.fresh, RestoreFailed):
                    compare_with_database(backup, fresh_engine, progress)
                    upgrade(fresh_engine)
            finally:
                fresh_engine.dispose()
            # From here on the new database is proven: an interrupted switch is finished.
            plan = plan.at(SWITCHING)
            self._write_journal(plan)
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

    def _write_journal(self, plan: SwitchPlan) -> None:
        with stage("write the restore journal", switch.journal_path(self.settings), RestoreFailed):
            switch.write_journal(self.settings, plan)


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
                switch.drop_database(admin, name)
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
    with stage("drop scratch databases of interrupted verifies", redacted(url)):
        drop_orphaned_scratch_databases(settings, url)
    name = f"{SCRATCH_PREFIX}_{uuid.uuid4().hex[:12]}"
    # The owner's lock lives on this connection, held until the database is gone.
    with _admin_connection(settings, url) as owner:
        owner.execute(text("SELECT pg_advisory_lock(:k)"), {"k": lock_key(f"scratch:{name}")})
        with stage("create the scratch database", name):
            owner.execute(text(f"CREATE DATABASE {quote_identifier(owner, name)}"))
        try:
            yield name
        finally:
            with stage("drop the scratch database", name):
                switch.drop_database(owner, name)


def _current_revisions_on(connection: Connection) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    return set(MigrationContext.configure(connection).get_current_heads())


def _server_major(settings: Settings, url: str) -> int:
    with open_engine(settings, url) as engine, engine.connect() as connection:
        return pgtools.server_major(connection)


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
            raise DatabaseUnreachable(url=redacted(url), reason=first_line(exc)) from exc
        raise
    finally:
        engine.dispose()


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
