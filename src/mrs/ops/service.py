"""Backup use cases as operators and the scheduler run them, each recorded in backup_run.

`run_backup` is the routine: create, verify by restoring into a scratch database, and
only then prune to the newest MRS_BACKUP_KEEP good backups. A failure at any step is
recorded (and so alerted on by the monitoring rule reading mrs.ops.status) and leaves
the existing generations untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mrs.ops import backup as backups
from mrs.ops import switch
from mrs.ops.history import recorded
from mrs.ops.metrics import record_backup_success
from mrs.ops.models import RunKind
from mrs.ops.progress import Progress
from mrs.settings import Settings


@dataclass(frozen=True)
class RoutineResult:
    backup: backups.Backup
    verification: backups.VerifyReport | None
    pruned: list[Path]


def _verify_detail(report: backups.VerifyReport) -> str:
    return (
        f"{report.rows} rows restored and matched in {report.restore_seconds:.1f} s (RTO); "
        f"data age {report.data_age_seconds:.0f} s (RPO)"
    )


def run_backup(
    settings: Settings,
    *,
    trigger: str = "manual",
    verify: bool = True,
    prune: bool = True,
    progress: Progress | None = None,
) -> RoutineResult:
    """Create a backup, verify it, then prune; each step recorded as its own run."""
    with recorded(settings, RunKind.BACKUP, trigger) as outcome:
        made = backups.create_backup(settings, trigger=trigger, progress=progress)
        assert made.manifest is not None
        outcome.path = str(made.path)
        outcome.size_bytes = int(made.manifest["size_bytes"])
        rows = sum(int(t["rows"]) for t in made.manifest["tables"].values())
        outcome.detail = f"{rows} rows in {len(made.manifest['tables'])} tables"
    finished = made.created_at
    record_backup_success(
        finished_unix=finished.timestamp() if finished else 0.0,
        seconds=float(made.manifest["duration_seconds"]),
        size_bytes=int(made.manifest["size_bytes"]),
    )
    report = None
    if verify:
        report = run_verify(settings, made, trigger=trigger, progress=progress)
        made = report.backup
    pruned = run_prune(settings, trigger=trigger) if prune and verify else []
    return RoutineResult(made, report, pruned)


def run_verify(
    settings: Settings,
    backup: backups.Backup | None = None,
    *,
    trigger: str = "manual",
    kind: RunKind = RunKind.VERIFY,
    progress: Progress | None = None,
) -> backups.VerifyReport:
    """Verify one backup (default: the newest good one) by restoring it into scratch."""
    with recorded(settings, kind, trigger) as outcome:
        target = backup or backups.find_backup(settings, None)
        outcome.path = str(target.path)
        outcome.size_bytes = target.path.stat().st_size
        report = backups.verify_backup(settings, target, progress=progress)
        outcome.detail = _verify_detail(report)
    return report


def run_drill(settings: Settings, *, trigger: str = "schedule") -> backups.VerifyReport:
    """The restore drill: a full verified restore of the newest good backup."""
    return run_verify(settings, None, trigger=trigger, kind=RunKind.DRILL)


def run_prune(settings: Settings, *, trigger: str = "manual") -> list[Path]:
    with recorded(settings, RunKind.PRUNE, trigger) as outcome:
        deleted = backups.prune_backups(settings)
        outcome.detail = (
            f"deleted {len(deleted)}: " + ", ".join(p.name for p in deleted)
            if deleted
            else "nothing to delete"
        )
    return deleted


def run_restore(
    settings: Settings, backup: backups.Backup, *, progress: Progress | None = None
) -> backups.RestoreReport:
    with recorded(settings, RunKind.RESTORE, "manual") as outcome:
        outcome.path = str(backup.path)
        report = backups.restore_backup(settings, backup, progress=progress)
        outcome.detail = (
            f"restored in {report.seconds:.1f} s; safety backup {report.safety_backup.name}"
            + (
                f"; previous database kept as {report.previous_database}"
                if report.previous_database
                else ""
            )
        )
    return report


def run_recover(
    settings: Settings, *, rollback: bool = False, trigger: str = "manual"
) -> str | None:
    """Finish (or roll back) a restore interrupted at its switch; None when none was."""
    if switch.read_journal(settings) is None:
        return None
    with recorded(settings, RunKind.RESTORE, trigger) as outcome:
        done = backups.recover_restore(settings, rollback=rollback)
        outcome.detail = f"interrupted restore recovered: {done}"
    return done
