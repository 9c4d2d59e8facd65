"""Errors of backups, restores and data copies; shown to operators by the CLI."""

from __future__ import annotations

from mrs.errors import Conflict, DomainError, NotFound


class OpsError(DomainError):
    code = "ops_error"
    status = 500
    message = "The operation failed: {reason}"


class DatabaseUnreachable(OpsError):
    code = "database_unreachable"
    status = 503
    message = "Cannot connect to the database {url}: {reason}"


class PgToolMissing(OpsError):
    code = "pg_tool_missing"
    message = "{tool} was not found. Install the PostgreSQL client programs (version {server} or newer) or set MRS_PG_BIN_DIR."


class PgToolTooOld(OpsError):
    code = "pg_tool_too_old"
    message = "{tool} is version {client}, older than the server (version {server}). Install the PostgreSQL {server} client programs or set MRS_PG_BIN_DIR."


class SchemaNotCurrent(Conflict):
    code = "schema_not_current"
    message = "The database {url} is at schema revision {found}, this version of MRS expects {expected}. Run `mrs db upgrade` against it first."


class TargetNotEmpty(Conflict):
    code = "target_not_empty"
    message = "The target database is not empty (table {table} has {rows} rows). Use --replace to overwrite it."


class DatabasesDiffer(OpsError):
    code = "databases_differ"
    message = "The databases differ: {summary}"


class BackupFailed(OpsError):
    code = "backup_failed"
    message = "The backup failed: {reason}"


class BackupNotFound(NotFound):
    code = "backup_not_found"
    message = "No backup found at {path}."


class BackupDamaged(OpsError):
    code = "backup_damaged"
    message = "The backup {name} is damaged: {reason}"


class RestoreFailed(OpsError):
    code = "restore_failed"
    message = "The restore failed and the database was left as it was: {reason}"
