"""The audit log for administrators: JSON, or CSV with `?format=csv`.

Served from accounts, beside the other administrators' surfaces (the mail outbox), so
that `mrs.audit` stays below every package that records into it."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from mrs.accounts.dependencies import AdminUser
from mrs.audit import rules, service
from mrs.audit.schemas import AuditEntryRead, AuditPage
from mrs.http.csv_export import csv_download
from mrs.http.dependencies import DatabaseDep, SettingsDep
from mrs.http.types import MAX_INT32, IsoDate

router = APIRouter(prefix="/api/admin/audit", tags=["audit"])

CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}
}


@router.get("", response_model=AuditPage, responses=CSV_RESPONSE)
async def audit_log(
    _admin: AdminUser,
    db: DatabaseDep,
    settings: SettingsDep,
    actor_id: Annotated[
        str | None,
        Query(
            pattern=rules.ACTOR_PATTERN,
            description="Who acted, or on whose behalf an administrator did (user id)",
        ),
    ] = None,
    action: Annotated[
        str | None,
        Query(pattern=rules.ACTION_PATTERN, description='Action prefix, e.g. "group."'),
    ] = None,
    first: Annotated[
        IsoDate | None, Query(alias="from", description="First date (site's time zone)")
    ] = None,
    last: Annotated[IsoDate | None, Query(alias="to", description="Last date (inclusive)")] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_INT32)] = 0,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE_SIZE)] = 50,
    format: Annotated[
        Literal["json", "csv"], Query(description="csv: UTF-8 with a BOM, every match")
    ] = "json",
) -> Any:
    """Recorded changes newest first: who, when, what, before/after, request id, client
    address. The CSV holds every matching row (at most 50,000), not one page."""
    since, until = rules.period_bounds(first, last, settings.tz)
    where = service.AuditFilter(actor_id=actor_id, action_prefix=action, since=since, until=until)
    if format == "csv":
        entries = await service.all_entries(db, where=where, limit=rules.MAX_CSV_ROWS)
        return csv_download(service.as_csv(entries), filename=csv_filename(first, last))
    entries, total = await service.list_entries(db, where=where, offset=offset, limit=limit)
    return AuditPage(
        total=total,
        offset=offset,
        limit=limit,
        entries=[AuditEntryRead.of(entry) for entry in entries],
    )


def csv_filename(first: date | None, last: date | None) -> str:
    """`audit-<from>-<to>.csv`, an open end named "start" or "now"."""
    return (
        f"audit-{first.isoformat() if first else 'start'}-{last.isoformat() if last else 'now'}.csv"
    )
