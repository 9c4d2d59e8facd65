"""The database switch that ends a PostgreSQL restore, made recoverable by a journal.

A restore builds the new content beside the live database (`<name>_restoring_<time>`),
then renames the live one to `<name>_before_restore_<time>` and the new one to the live
name. A process killed between those two renames would leave no database under the live
name. So the restore first writes a journal in the data directory naming the three
databases and the phase:

- `restoring`: the new database is being filled and is not proven yet; recovery drops it
  and the live database stays as it was.
- `switching`: the new database matched the manifest and was migrated; recovery finishes
  the switch (or, asked to, rolls it back), whichever rename was the last one done.

The journal is removed once the databases are settled. `mrs db recover`,
`mrs backup restore --resume` and `mrs serve` (at start) read it.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text

from mrs.ops.connections import quote_identifier
from mrs.ops.errors import OpsError
from mrs.ops.pause import pause_point
from mrs.settings import Settings, create_private_file

JOURNAL_FILE = "restore-journal.json"
RESTORING = "restoring"
SWITCHING = "switching"


@dataclass(frozen=True)
class SwitchPlan:
    """The databases of one restore and how far it got (the journal's content)."""

    original: str
    fresh: str
    previous: str
    phase: str
    backup: str

    def at(self, phase: str) -> SwitchPlan:
        return SwitchPlan(self.original, self.fresh, self.previous, phase, self.backup)


def write_json_atomically(path: Path, data: dict[str, Any]) -> None:
    """Replace `path` with `data` all at once, durably, readable by the owner only."""
    partial = path.with_name(path.name + ".partial")
    create_private_file(partial)
    with partial.open("r+b") as handle:
        handle.write((json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)
    # The rename itself must survive a power cut, or recovery would not find the journal.
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def journal_path(settings: Settings) -> Path:
    return settings.data_dir / JOURNAL_FILE


def write_journal(settings: Settings, plan: SwitchPlan) -> None:
    settings.ensure_data_dir()
    write_json_atomically(journal_path(settings), asdict(plan))


def read_journal(settings: Settings) -> SwitchPlan | None:
    """The journal of an unfinished restore, or None when there is none."""
    path = journal_path(settings)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return SwitchPlan(**{k: str(data[k]) for k in SwitchPlan.__dataclass_fields__})
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise OpsError(reason=f"the restore journal {path} is unreadable: {exc}") from exc


def remove_journal(settings: Settings) -> None:
    journal_path(settings).unlink(missing_ok=True)


def _existing(admin: Any, plan: SwitchPlan) -> set[str]:
    names = [plan.original, plan.fresh, plan.previous]
    rows = admin.scalars(
        text("SELECT datname FROM pg_database WHERE datname = ANY(:names)"), {"names": names}
    )
    return set(rows)


def _allow(admin: Any, name: str, allow: bool) -> None:
    value = "true" if allow else "false"
    admin.execute(
        text(f"ALTER DATABASE {quote_identifier(admin, name)} WITH ALLOW_CONNECTIONS {value}")
    )


def _rename(admin: Any, old: str, new: str) -> None:
    # Sessions just terminated may take a moment to leave (bounded: 5 s).
    for attempt in range(50):
        try:
            admin.execute(
                text(
                    f"ALTER DATABASE {quote_identifier(admin, old)} RENAME TO {quote_identifier(admin, new)}"
                )
            )
            return
        except Exception:
            if attempt == 49:
                raise
            time.sleep(0.1)


def drop_database(admin: Any, name: str) -> None:
    """Drop the database `name` if it exists, ending its sessions."""
    admin.execute(text(f"DROP DATABASE IF EXISTS {quote_identifier(admin, name)} WITH (FORCE)"))


def _end_sessions(admin: Any, name: str) -> None:
    admin.execute(
        text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = :name AND pid <> pg_backend_pid()"
        ),
        {"name": name},
    )


def switch(settings: Settings, admin: Any, plan: SwitchPlan) -> None:
    """Put the fresh database under the live name; the live one becomes `previous`."""
    # Nobody may connect between ending the sessions and the renames.
    _allow(admin, plan.original, False)
    _end_sessions(admin, plan.original)
    pause_point(settings, "restore-before-rename")
    _rename(admin, plan.original, plan.previous)
    pause_point(settings, "restore-between-renames")
    _finish_from_renamed(admin, plan)


def _finish_from_renamed(admin: Any, plan: SwitchPlan) -> None:
    _rename(admin, plan.fresh, plan.original)
    _allow(admin, plan.original, True)
    _allow(admin, plan.previous, True)


def settle(settings: Settings, admin: Any, plan: SwitchPlan, *, rollback: bool) -> str:
    """Finish or roll back an interrupted restore from the databases that exist now;
    returns what was done, in one sentence."""
    exists = _existing(admin, plan)
    original, fresh, previous = plan.original, plan.fresh, plan.previous
    if plan.phase == RESTORING:
        if original not in exists:
            raise OpsError(reason=_unknown_state(plan, exists))
        drop_database(admin, fresh)
        _allow(admin, original, True)
        return f"the restore had not reached the switch: dropped {fresh}; {original} is unchanged"
    if exists == {original, fresh}:
        if rollback:
            drop_database(admin, fresh)
            _allow(admin, original, True)
            return f"rolled back: dropped {fresh}; {original} is unchanged"
        switch(settings, admin, plan)
        return f"switched: {original} holds the restored data; the old one is {previous}"
    if exists == {fresh, previous}:
        if rollback:
            _rename(admin, previous, original)
            _allow(admin, original, True)
            drop_database(admin, fresh)
            return f"rolled back: {previous} renamed back to {original}; dropped {fresh}"
        _finish_from_renamed(admin, plan)
        return f"switch finished: {original} holds the restored data; the old one is {previous}"
    if exists == {original, previous}:
        if rollback:
            raise OpsError(
                reason=f"the switch had finished ({original} holds the restored data); "
                "to undo the restore, restore the safety backup taken before it"
            )
        _allow(admin, original, True)
        _allow(admin, previous, True)
        return f"the switch had finished: {original} holds the restored data"
    raise OpsError(reason=_unknown_state(plan, exists))


def _unknown_state(plan: SwitchPlan, exists: set[str]) -> str:
    return (
        f"cannot tell how far the restore got: of {plan.original}, {plan.fresh} and "
        f"{plan.previous} only {', '.join(sorted(exists)) or 'none'} exist; "
        "see docs/operations/backup-restore.md (manual recovery)"
    )
