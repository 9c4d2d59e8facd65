"""Backups: create, list, verify, prune and restore, each proven by checksums.

- `manifest`: the manifest beside each file (read, write, check the file, compare a
  restored database with it);
- `strategy`: the protocol each dialect implements (dump, restore apart and compare,
  restore in place);
- `postgresql` (pg_dump, pg_restore, scratch databases, the journalled switch) and
  `sqlite` (the online backup API);
- `flow`: create → verify → prune and restore, written once against the protocol.

Callers use the names below (`from mrs.ops import backup as backups`).
"""

from mrs.ops.backup.flow import (
    LOCK_FILE,
    RestoreReport,
    VerifyReport,
    create_backup,
    find_backup,
    list_backups,
    prune_backups,
    restore_backup,
    strategy_for,
    verify_backup,
)
from mrs.ops.backup.manifest import Backup, manifest_path, read_manifest, write_manifest
from mrs.ops.backup.postgresql import recover_restore

__all__ = [
    "LOCK_FILE",
    "Backup",
    "RestoreReport",
    "VerifyReport",
    "create_backup",
    "find_backup",
    "list_backups",
    "manifest_path",
    "prune_backups",
    "read_manifest",
    "recover_restore",
    "restore_backup",
    "strategy_for",
    "verify_backup",
    "write_manifest",
]
