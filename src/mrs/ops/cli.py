"""`mrs backup …` and `mrs db copy|verify`: thin commands over mrs.ops (imports inside)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from mrs.console import fail, settings_or_exit

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress

    from mrs.settings import Settings

backup_app = typer.Typer(
    no_args_is_help=True, help="Backups: create, list, verify, restore, prune."
)


class _Bar:
    """mrs.ops.progress.Progress on a Rich progress bar (one task per step)."""

    def __init__(self, progress: RichProgress) -> None:
        self.progress = progress
        self.task: object | None = None

    def start(self, label: str, total: int | None) -> None:
        if self.task is not None:
            self.progress.update(self.task, completed=self.progress.tasks[-1].total)  # type: ignore[arg-type]
        self.task = self.progress.add_task(label, total=total)

    def advance(self, amount: int) -> None:
        if self.task is not None:
            self.progress.advance(self.task, amount)  # type: ignore[arg-type]


@contextmanager
def _progress() -> Iterator[_Bar]:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        TextColumn("{task.description:<34}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=False,
    ) as progress:
        yield _Bar(progress)


@contextmanager
def _reported() -> Iterator[None]:
    """Turn operations errors into one red line and a non-zero exit."""
    from sqlalchemy.exc import SQLAlchemyError

    from mrs.errors import DomainError

    try:
        yield
    except DomainError as exc:
        details = exc.details if isinstance(exc.details, list) else []
        for line in details:
            typer.secho(f"  differs: {line}", fg=typer.colors.YELLOW, err=True)
        raise fail(str(exc)) from exc
    except KeyboardInterrupt:
        raise fail("interrupted; nothing was changed", 130) from None
    except (SQLAlchemyError, OSError) as exc:
        # Unexpected, but an operator still gets one line (the run is in backup_run too).
        from mrs.db.errors import first_line

        raise fail(f"{type(exc).__name__}: {first_line(exc)}") from exc


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


# --- backup -------------------------------------------------------------------------


@backup_app.command("create")
def backup_create(
    verify: Annotated[
        bool,
        typer.Option("--verify/--no-verify", help="Restore into a scratch database and compare."),
    ] = True,
) -> None:
    """Back up the database now, verify the backup, then prune to MRS_BACKUP_KEEP."""
    from mrs.ops import service

    settings = settings_or_exit()
    with _reported(), _progress() as bar:
        result = service.run_backup(settings, trigger="manual", verify=verify, progress=bar)
    manifest = result.backup.manifest or {}
    typer.echo(f"backup written: {result.backup.path} ({manifest.get('size_bytes', 0)} bytes)")
    if result.verification is not None:
        typer.echo(
            f"verified: restore {result.verification.restore_seconds:.1f} s, all tables match"
        )
    for path in result.pruned:
        typer.echo(f"pruned: {path.name}")


@backup_app.command("list")
def backup_list() -> None:
    """List backups, newest first, with their state."""
    from rich.console import Console
    from rich.table import Table

    from mrs.ops.backup import list_backups

    settings = settings_or_exit()
    table = Table("file", "created (UTC)", "size", "rows", "revision", "state")
    for backup in list_backups(settings):
        manifest = backup.manifest or {}
        rows = sum(int(t["rows"]) for t in manifest.get("tables", {}).values())
        verification = backup.verification
        if not backup.good:
            state = "BAD" if verification else "INCOMPLETE (no manifest)"
        elif verification:
            state = f"verified {verification['at'][:19]}"
        else:
            state = "not verified"
        table.add_row(
            backup.name,
            str(manifest.get("created_at", "?"))[:19],
            str(manifest.get("size_bytes", backup.path.stat().st_size)),
            str(rows),
            str(manifest.get("schema_revision", "?")),
            state,
        )
    Console().print(table)
    typer.echo(f"directory: {settings.effective_backup_dir}; keeping {settings.backup_keep}")


@backup_app.command("verify")
def backup_verify(
    path: Annotated[str | None, typer.Argument(help="Backup file (name or path).")] = None,
    latest: Annotated[
        bool, typer.Option("--latest", help="Verify the newest good backup.")
    ] = False,
    drill: Annotated[
        bool, typer.Option("--drill", help="Record it as the restore drill (OS schedulers).")
    ] = False,
) -> None:
    """Check a backup's checksum, restore it into a scratch database and compare it."""
    from mrs.ops import backup as backups
    from mrs.ops import service
    from mrs.ops.models import RunKind

    if path is not None and latest:
        raise fail("give a PATH or --latest, not both", 2)
    settings = settings_or_exit()
    with _reported():
        target = backups.find_backup(settings, path)
        with _progress() as bar:
            report = service.run_verify(
                settings,
                target,
                trigger="schedule" if drill else "manual",
                kind=RunKind.DRILL if drill else RunKind.VERIFY,
                progress=bar,
            )
    typer.echo(
        f"{target.name}: OK — {report.rows} rows match the manifest; "
        f"restore took {report.restore_seconds:.1f} s (RTO); data age {_age(report.data_age_seconds)} (RPO)"
    )


@backup_app.command("restore")
def backup_restore(
    path: Annotated[str | None, typer.Argument(help="Backup file (name or path).")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="Finish a restore that was interrupted at its switch."),
    ] = False,
) -> None:
    """Replace the database with a backup (a safety backup is taken first)."""
    from mrs.db.urls import redacted
    from mrs.ops import backup as backups
    from mrs.ops import service

    settings = settings_or_exit()
    if resume:
        if path is not None:
            raise fail("--resume takes no backup file: it finishes the interrupted one", 2)
        _recover(settings, rollback=False)
        return
    if path is None:
        raise fail("name the backup file to restore (see `mrs backup list`)", 2)
    with _reported():
        target = backups.find_backup(settings, path)
    if not yes:
        typer.confirm(
            f"Replace ALL data in {redacted(settings.effective_backup_database_url)} "
            f"with {target.name}?",
            abort=True,
        )
    with _reported(), _progress() as bar:
        report = service.run_restore(settings, target, progress=bar)
    typer.echo(f"restored {target.name} in {report.seconds:.1f} s")
    typer.echo(f"safety backup of the previous state: {report.safety_backup.path}")
    if report.previous_database:
        typer.echo(
            f"the previous database is kept as {report.previous_database}; "
            "drop it when you no longer need it"
        )


@backup_app.command("prune")
def backup_prune() -> None:
    """Delete backups beyond the newest MRS_BACKUP_KEEP good ones."""
    from mrs.ops import service

    settings = settings_or_exit()
    with _reported():
        deleted = service.run_prune(settings)
    typer.echo("\n".join(f"deleted: {p.name}" for p in deleted) or "nothing to delete")


def _recover(settings: Settings, *, rollback: bool) -> None:
    from mrs.ops import service

    with _reported():
        done = service.run_recover(settings, rollback=rollback)
    typer.echo(done or "no interrupted restore: nothing to do")


def recover_on_start(settings: Settings) -> None:
    """Before serving: finish a restore interrupted at its switch (its new database was
    proven before the switch began), so the live database name exists again."""
    from mrs.ops import service

    with _reported():
        done = service.run_recover(settings, rollback=False, trigger="startup")
    if done:
        typer.echo(f"an interrupted restore was recovered: {done}")


# --- db copy / verify ---------------------------------------------------------------


def register_db_commands(db_app: typer.Typer) -> None:
    """Add `copy`, `verify` and `recover` to the `mrs db` group."""

    @db_app.command("recover")
    def db_recover(
        rollback: Annotated[
            bool,
            typer.Option(
                "--rollback", help="Undo the interrupted restore instead of finishing it."
            ),
        ] = False,
    ) -> None:
        """Finish (or roll back) a restore interrupted at its database switch."""
        _recover(settings_or_exit(), rollback=rollback)

    @db_app.command("copy")
    def db_copy(
        source: Annotated[
            str, typer.Option(help="Source database URL (sqlite:///… or postgresql://…).")
        ],
        target: Annotated[str, typer.Option(help="Target database URL; must be empty.")],
        batch_size: Annotated[
            int, typer.Option(min=100, max=100_000, help="Rows per batch.")
        ] = 5000,
        replace: Annotated[
            bool, typer.Option("--replace", help="Delete the target's rows first (asks first).")
        ] = False,
        yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    ) -> None:
        """Copy every table to another database in one transaction, then prove it."""
        from mrs.db.urls import redacted
        from mrs.ops.copy import copy_database

        settings = settings_or_exit()
        if replace and not yes:
            typer.confirm(f"Delete ALL rows in {redacted(target)} and replace them?", abort=True)
        with _reported(), _progress() as bar:
            report = copy_database(
                settings,
                source_url=source,
                target_url=target,
                batch_size=batch_size,
                replace=replace,
                progress=bar,
            )
        for name, digest in report.tables.items():
            typer.echo(f"  {name:<24} {digest.rows:>10} rows  sha256 {digest.sha256[:16]}…  equal")
        typer.echo(f"copied and verified {report.total_rows} rows in {report.seconds:.1f} s")

    @db_app.command("verify")
    def db_verify(
        source: Annotated[str, typer.Option(help="First database URL.")],
        target: Annotated[str, typer.Option(help="Second database URL.")],
    ) -> None:
        """Compare two databases: row counts and content checksums of every table."""
        from mrs.ops.copy import verify_databases

        settings = settings_or_exit()
        with _reported(), _progress() as bar:
            digests = verify_databases(settings, source_url=source, target_url=target, progress=bar)
        for name, digest in digests.items():
            typer.echo(f"  {name:<24} {digest.rows:>10} rows  sha256 {digest.sha256[:16]}…  equal")
        typer.echo("the databases are equal")
