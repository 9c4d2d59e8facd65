"""The reports as CSV that Excel opens correctly in Japanese: UTF-8 with a byte order mark."""

from __future__ import annotations

from starlette.responses import Response

from mrs.http.csv_export import csv_download, csv_text
from mrs.reports.periods import Period
from mrs.reports.schemas import BusiestHoursReport, GroupUtilisationReport, UtilisationReport

UTILISATION_HEADER = (
    "room_id",
    "room_name",
    "bookable_minutes",
    "booked_minutes",
    "utilisation",
    "reservations",
    "cancelled",
    "cancelled_share",
    "checkin_bookings_started",
    "no_shows",
    "no_show_rate",
)


def utilisation_csv(report: UtilisationReport) -> str:
    return csv_text(
        UTILISATION_HEADER,
        (
            (
                r.room_id,
                r.room_name,
                r.bookable_minutes,
                r.booked_minutes,
                r.utilisation,
                r.reservations,
                r.cancelled,
                r.cancelled_share,
                r.no_shows.started,
                r.no_shows.released,
                r.no_shows.rate,
            )
            for r in report.rooms
        ),
    )


GROUPS_HEADER = (
    "group_id",
    "group_name",
    "members",
    "bookable_minutes",
    "booked_minutes",
    "utilisation",
    "reservations",
    "cancelled",
    "cancelled_share",
)


def groups_csv(report: GroupUtilisationReport) -> str:
    return csv_text(
        GROUPS_HEADER,
        (
            (
                g.group_id,
                g.group_name,
                g.members,
                g.bookable_minutes,
                g.booked_minutes,
                g.utilisation,
                g.reservations,
                g.cancelled,
                g.cancelled_share,
            )
            for g in report.groups
        ),
    )


def busiest_hours_csv(report: BusiestHoursReport) -> str:
    return csv_text(
        ("weekday", "hour", "booked_minutes"),
        ((c.weekday, c.hour, c.booked_minutes) for c in report.cells),
    )


def csv_response(text: str, *, name: str, period: Period) -> Response:
    """A download: text/csv, saved as `<name>-<from>-<to>.csv`."""
    filename = f"{name}-{period.first.isoformat()}-{period.last.isoformat()}.csv"
    return csv_download(text, filename=filename)
