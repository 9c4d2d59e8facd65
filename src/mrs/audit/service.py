"""Writing audit rows in the caller's transaction, reading them back, and pruning.

`record` never opens a transaction of its own: the row commits with the change it
describes, or not at all.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from mrs.audit import rules
from mrs.audit.context import CURRENT
from mrs.audit.models import AuditEntry
from mrs.clock import system_clock
from mrs.db.engine import Database
from mrs.http.csv_export import csv_text

logger = logging.getLogger(__name__)

MAX_PAGE_SIZE = 500
# Longer values are cut: an id or address has no business being longer than its column.
_ID_LENGTH = 32
_TEXT_LENGTH = 64
PRUNE_ACTION = "audit.prune"


def as_json(fields: Mapping[str, Any] | None) -> str | None:
    """A small JSON object of changed fields (dates and other values as their text)."""
    if fields is None:
        return None
    return json.dumps(dict(fields), ensure_ascii=False, sort_keys=True, default=str)


async def record(
    session: AsyncSession,
    *,
    action: str,
    subject_type: str,
    subject_id: object,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    actor_id: str | None,
    on_behalf_of: str | None = None,
    at: datetime | None = None,
) -> None:
    """Add one audit row to the caller's transaction (it commits with the change).

    `actor_id` None means the system did it; the request id and client address come
    from the request being served, if any. `at` defaults to the system clock."""
    request_id, client_address = request_origin()
    session.add(
        AuditEntry(
            at=at or system_clock(),
            actor_id=actor_id[:_ID_LENGTH] if actor_id else None,
            on_behalf_of=on_behalf_of[:_ID_LENGTH] if on_behalf_of else None,
            action=action[:_TEXT_LENGTH],
            subject_type=subject_type[:_ID_LENGTH],
            subject_id=str(subject_id)[:_TEXT_LENGTH],
            before=as_json(before),
            after=as_json(after),
            request_id=request_id,
            client_address=client_address,
        )
    )


def request_origin() -> tuple[str | None, str | None]:
    """The request id and client address the rows written now carry (None, None outside
    a request), as stored: also for a statement that inserts its audit row itself."""
    origin = CURRENT.get()
    address = origin.client_address[:_TEXT_LENGTH] if origin.client_address else None
    return origin.request_id, address


def changed(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields whose value differs, as (before, after)."""
    keys = [key for key in after if before.get(key) != after[key]]
    return {key: before.get(key) for key in keys}, {key: after[key] for key in keys}


@dataclass(frozen=True)
class AuditFilter:
    """Which rows to show: by whom (who acted, or on whose behalf an administrator
    did), action prefix ("group." or "group.create"), period."""

    actor_id: str | None = None
    action_prefix: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.actor_id:
            found.append(
                or_(
                    AuditEntry.actor_id == self.actor_id,
                    AuditEntry.on_behalf_of == self.actor_id,
                )
            )
        if self.action_prefix:
            # A prefix match without LIKE: no wildcard in the input can widen it.
            prefix = self.action_prefix
            found.append(func.substr(AuditEntry.action, 1, len(prefix)) == prefix)
        if self.since is not None:
            found.append(AuditEntry.at >= self.since)
        if self.until is not None:
            found.append(AuditEntry.at < self.until)
        return found


async def list_entries(
    db: Database, *, where: AuditFilter, offset: int = 0, limit: int = 50
) -> tuple[list[AuditEntry], int]:
    """One page of matching rows, newest first, and how many match in all."""
    conditions = where.conditions()
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    async with db.snapshot() as session:
        total = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(*conditions)
        )
        rows = await session.scalars(
            select(AuditEntry)
            .where(*conditions)
            .order_by(AuditEntry.at.desc(), AuditEntry.audit_id.desc())
            .offset(max(offset, 0))
            .limit(limit)
        )
        return list(rows.all()), int(total or 0)


async def all_entries(db: Database, *, where: AuditFilter, limit: int) -> list[AuditEntry]:
    """Matching rows newest first, at most `limit` (the CSV export)."""
    async with db.snapshot() as session:
        rows = await session.scalars(
            select(AuditEntry)
            .where(*where.conditions())
            .order_by(AuditEntry.at.desc(), AuditEntry.audit_id.desc())
            .limit(limit)
        )
        return list(rows.all())


def as_csv(entries: list[AuditEntry]) -> str:
    """The rows as CSV (UTF-8 with a BOM; no cell a spreadsheet runs as a formula)."""
    return csv_text(
        rules.CSV_HEADER,
        (
            rules.csv_row(
                e.audit_id,
                e.at,
                e.actor_id,
                e.on_behalf_of,
                e.action,
                e.subject_type,
                e.subject_id,
                e.before,
                e.after,
                e.request_id,
                e.client_address,
            )
            for e in entries
        ),
    )


async def prune(db: Database, *, older_than_days: int, now: datetime) -> int:
    """Delete rows older than the given days; the prune itself is recorded (in the
    same transaction). On PostgreSQL the append-only trigger lets this one transaction
    delete (`SET LOCAL`: the permission ends with it)."""
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    cutoff = now - timedelta(days=older_than_days)
    async with db.transaction() as session:
        if db.dialect == "postgresql":
            await session.execute(text("SET LOCAL mrs.audit_prune = 'on'"))
        result = await session.execute(delete(AuditEntry).where(AuditEntry.at < cutoff))
        removed = int(getattr(result, "rowcount", 0) or 0)
        if db.dialect == "postgresql":
            await session.execute(text("SET LOCAL mrs.audit_prune = 'off'"))
        await record(
            session,
            action=PRUNE_ACTION,
            subject_type="audit_log",
            subject_id="*",
            after={"older_than": cutoff.isoformat(), "removed": removed},
            actor_id=None,
            at=now,
        )
    logger.info("audit log pruned: %d rows older than %s", removed, cutoff.isoformat())
    return removed
