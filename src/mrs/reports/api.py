"""Report routes (administrators): JSON, or CSV with `?format=csv`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from mrs.accounts.dependencies import AdminUser
from mrs.http.dependencies import DatabaseDep, NowDep, SettingsDep
from mrs.http.types import MAX_INT32, IsoDate
from mrs.reports import export, no_shows, service
from mrs.reports.periods import period
from mrs.reports.schemas import (
    BusiestHoursReport,
    GroupUtilisationRead,
    GroupUtilisationReport,
    NoShowRead,
    RoomUtilisationRead,
    UtilisationReport,
)

router = APIRouter(prefix="/api/admin/reports", tags=["reports"])

FromDate = Annotated[IsoDate, Query(alias="from", description="First date (inclusive)")]
ToDate = Annotated[IsoDate, Query(alias="to", description="Last date (inclusive)")]
Format = Annotated[Literal["json", "csv"], Query(description="csv: UTF-8 with a BOM")]
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}
}


@router.get("/utilisation", response_model=UtilisationReport, responses=CSV_RESPONSE)
async def utilisation(
    first: FromDate,
    last: ToDate,
    _admin: AdminUser,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
    room_id: Annotated[int | None, Query(ge=1, le=MAX_INT32)] = None,
    format: Format = "json",
) -> Any:
    """Per room: booked ÷ bookable minutes, cancellations, and no-shows (released ÷
    bookings in check-in rooms that started), over the period (at most 366 days)."""
    span = period(first, last)
    rows = await service.utilisation(db, period=span, room_id=room_id)
    missed = await no_shows.no_shows(db, period=span, now=now, tz=settings.tz, room_id=room_id)
    report = UtilisationReport(
        from_date=first,
        to_date=last,
        rooms=[RoomUtilisationRead.of(row, missed.get(row.room_id)) for row in rows],
        no_shows=NoShowRead.of(no_shows.total(missed)),
    )
    if format == "csv":
        return export.csv_response(export.utilisation_csv(report), name="utilisation", period=span)
    return report


@router.get("/groups", response_model=GroupUtilisationReport, responses=CSV_RESPONSE)
async def groups(
    first: FromDate,
    last: ToDate,
    _admin: AdminUser,
    db: DatabaseDep,
    format: Format = "json",
) -> Any:
    """Per group: its members' booked minutes ÷ the bookable minutes of all rooms, with
    reservations and cancellations, over the period (at most 366 days)."""
    span = period(first, last)
    rows = await service.group_utilisation(db, period=span)
    report = GroupUtilisationReport(
        from_date=first, to_date=last, groups=[GroupUtilisationRead.of(row) for row in rows]
    )
    if format == "csv":
        return export.csv_response(export.groups_csv(report), name="groups", period=span)
    return report


@router.get("/busiest-hours", response_model=BusiestHoursReport, responses=CSV_RESPONSE)
async def busiest_hours(
    first: FromDate,
    last: ToDate,
    _admin: AdminUser,
    db: DatabaseDep,
    format: Format = "json",
) -> Any:
    """Booked minutes by weekday and hour of the day over the period (at most 366 days)."""
    span = period(first, last)
    report = BusiestHoursReport.of(first, last, await service.busiest_hours(db, period=span))
    if format == "csv":
        return export.csv_response(
            export.busiest_hours_csv(report), name="busiest-hours", period=span
        )
    return report
