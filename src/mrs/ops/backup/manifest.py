"""The manifest beside every backup file: what the file must hold, and the proof that it does.

`<file>.manifest.json` records the file's sha256 and size, the schema revision, and the row
count and content checksum (mrs.ops.canonical) of every table, plus the outcome of the last
verification. A file with a manifest is a whole backup: both are written under a
`.partial` name and renamed when complete.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from mrs import __version__
from mrs.clock import system_clock
from mrs.db.migrate import current_revisions, head_revisions
from mrs.ops import canonical
from mrs.ops.connections import quote_identifier
from mrs.ops.copy import read_options
from mrs.ops.errors import BackupDamaged
from mrs.ops.progress import Progress
from mrs.ops.switch import write_json_atomically

MANIFEST_SUFFIX = ".manifest.json"
PARTIAL_SUFFIX = ".partial"
MANIFEST_FORMAT = 1


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
class Dump:
    """What a dialect's dump reports about the file it wrote."""

    digests: dict[str, canonical.TableDigest]
    schema_revision: str
    server_version: str


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + MANIFEST_SUFFIX)


def partial_path(path: Path) -> Path:
    """Where `path` is written until it is complete."""
    return path.with_name(path.name + PARTIAL_SUFFIX)


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest of the backup file `path`, or None when missing or unreadable."""
    try:
        data = json.loads(manifest_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    """Write (or replace) the manifest of the backup file `path`, all at once."""
    write_json_atomically(manifest_path(path), manifest)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def new_manifest(
    final: Path,
    dump: Dump,
    *,
    dialect: str,
    trigger: str,
    created_at: datetime,
    seconds: float,
    partial: Path,
) -> dict[str, Any]:
    """The manifest of a backup whose complete file is still at `partial`."""
    return {
        "format": MANIFEST_FORMAT,
        "file": final.name,
        "created_at": created_at.isoformat(),
        "finished_at": system_clock().isoformat(),
        "app_version": __version__,
        "schema_revision": dump.schema_revision,
        "dialect": dialect,
        "server_version": dump.server_version,
        "trigger": trigger,
        "tables": {name: d.as_dict() for name, d in dump.digests.items()},
        "sha256": sha256_of(partial),
        "size_bytes": partial.stat().st_size,
        "duration_seconds": round(seconds, 3),
        "verification": None,
    }


def digest_database(engine: Engine, progress: Progress) -> dict[str, canonical.TableDigest]:
    """Row counts and content checksums of every table, read in one consistent snapshot."""
    with read_options(engine.connect()) as connection, connection.begin():
        return canonical.digest_database(
            connection,
            on_table=lambda name, rows: progress.start(f"checksum {name}", rows),
            on_rows=progress.advance,
        )


def check_file(backup: Backup) -> None:
    """The file is the one the manifest describes (size and sha256), or BackupDamaged."""
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
    if sha256_of(backup.path) != backup.manifest.get("sha256"):
        raise BackupDamaged(
            name=backup.name,
            reason="its sha256 checksum does not match the manifest (the file was changed or corrupted)",
        )


def compare_with_database(backup: Backup, engine: Engine, progress: Progress) -> int:
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
        actual = digest_database(engine, progress)
    else:
        # An older schema: this code's table definitions do not apply; compare counts.
        actual = {}
        with engine.connect() as connection:
            for name in expected:
                # The name is quoted as an identifier; it comes from our own manifest.
                rows = connection.scalar(
                    text(f"SELECT count(*) FROM {quote_identifier(connection, name)}")  # noqa: S608
                )
                actual[name] = canonical.TableDigest(int(rows or 0), expected[name].sha256)
    diff = canonical.differences(expected, actual)
    if diff:
        raise BackupDamaged(name=backup.name, reason="; ".join(diff))
    return sum(d.rows for d in expected.values())


def record_verification(backup: Backup, *, ok: bool, error: str | None, seconds: float) -> Backup:
    """Write the outcome of a verification into the manifest (best effort: a read-only
    backup directory must not turn a good verification into a failure)."""
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
        write_manifest(backup.path, manifest)
    return Backup(backup.path, manifest)
