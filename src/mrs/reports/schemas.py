"""The reports' JSON shapes."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel

from mrs.reports.no_shows import NoShows
from mrs.reports.service import BusiestHours, GroupUtilisation, RoomUtilisation, Usage


class UsageRead(BaseModel):
    bookable_minutes: int
    booked_minutes: int
    utilisation: float
    reservations: int
    cancelled: int
    cancelled_share: float

    @staticmethod
    def fields_of(row: Usage) -> dict[str, Any]:
        return {
            "bookable_minutes": row.bookable_minutes,
            "booked_minutes": row.booked_minutes,
            "utilisation": round(row.utilisation, 4),
            "reservations": row.reservations,
            "cancelled": row.cancelled,
            "cancelled_share": round(row.cancelled_share, 4),
        }


class NoShowRead(BaseModel):
    """Bookings in check-in rooms that started in the period, those released because
    nobody checked in, and released ÷ started."""

    started: int
    released: int
    rate: float

    @classmethod
    def of(cls, row: NoShows) -> NoShowRead:
        return cls(started=row.started, released=row.released, rate=round(row.rate, 4))


class RoomUtilisationRead(UsageRead):
    room_id: int
    room_name: str
    no_shows: NoShowRead

    @classmethod
    def of(cls, row: RoomUtilisation, no_shows: NoShows | None = None) -> RoomUtilisationRead:
        return cls(
            room_id=row.room_id,
            room_name=row.room_name,
            no_shows=NoShowRead.of(no_shows or NoShows()),
            **cls.fields_of(row),
        )


class UtilisationReport(BaseModel):
    from_date: date
    to_date: date
    rooms: list[RoomUtilisationRead]
    # Every room's (or the one asked for) together.
    no_shows: NoShowRead


class GroupUtilisationRead(UsageRead):
    group_id: int
    group_name: str
    members: int

    @classmethod
    def of(cls, row: GroupUtilisation) -> GroupUtilisationRead:
        return cls(
            group_id=row.group_id,
            group_name=row.group_name,
            members=row.members,
            **cls.fields_of(row),
        )


class GroupUtilisationReport(BaseModel):
    from_date: date
    to_date: date
    groups: list[GroupUtilisationRead]


class HourCell(BaseModel):
    weekday: int  # ISO: 1 = Monday … 7 = Sunday
    hour: int
    booked_minutes: int


class HourTotal(BaseModel):
    hour: int
    booked_minutes: int


class BusiestHoursReport(BaseModel):
    from_date: date
    to_date: date
    by_hour: list[HourTotal]
    cells: list[HourCell]

    @classmethod
    def of(cls, first: date, last: date, hours: BusiestHours) -> BusiestHoursReport:
        return cls(
            from_date=first,
            to_date=last,
            by_hour=[HourTotal(hour=h, booked_minutes=m) for h, m in hours.by_hour().items()],
            cells=[
                HourCell(weekday=day, hour=hour, booked_minutes=minutes)
                for day, by_hour in hours.minutes.items()
                for hour, minutes in by_hour.items()
            ],
        )
