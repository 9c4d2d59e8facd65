"""Weeks: a room's week (7 days by its bookable hours, free slots as links to book them)
and my week (my meetings, day by day)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

from fastapi import APIRouter, Request
from starlette.responses import Response

from mrs.http.dependencies import DatabaseDep, LocaleDep, NowDep, SettingsDep
from mrs.http.types import RoomIdPath
from mrs.i18n import translate
from mrs.reservations import reads as reservations_reads
from mrs.reservations import rules, timelines
from mrs.reservations.models import SLOT_HOLDING
from mrs.wallclock import MINUTES_PER_DAY, format_minute, minutes_gone
from mrs.web.dependencies import PageUser
from mrs.web.grids import segments, week_rows
from mrs.web.pages.common import query_day, site_now
from mrs.web.rendering import render
from mrs.web.slots import bookable_span, grid_bounds

router = APIRouter()

DAYS_IN_WEEK = 7


def week_of(day: date) -> list[date]:
    """The Monday-to-Sunday week holding `day`."""
    monday = day - timedelta(days=day.weekday())
    return [monday + timedelta(days=offset) for offset in range(DAYS_IN_WEEK)]


def _week_context(days: list[date], today: date) -> dict[str, object]:
    return {
        "days": days,
        "today": today,
        "previous_week": days[0] - timedelta(days=DAYS_IN_WEEK),
        "next_week": days[0] + timedelta(days=DAYS_IN_WEEK),
    }


@router.get("/rooms/{room_id}/week")
async def room_week(
    request: Request,
    room_id: RoomIdPath,
    user: PageUser,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
    locale: LocaleDep,
) -> Response:
    """A room's week: a column per day, a row per slot of the bookable hours."""
    local_now = site_now(now, settings)
    day, date_error = query_day(request, local_now.date(), locale)
    days = week_of(day)
    viewer = rules.Actor(user_id=user.user_id, is_admin=user.is_admin)
    week = await timelines.room_days(
        db, room_id=room_id, from_day=days[0], to_day=days[-1], viewer=viewer
    )
    slot = settings.slot_minutes
    hours = bookable_span(week.open_minute, week.close_minute, slot)
    first, last = grid_bounds(
        [booking for bookings in week.bookings.values() for booking in bookings],
        slot_minutes=slot,
        first_hour=settings.web_day_start_hour,
        last_hour=settings.web_day_end_hour,
        # A room bookable all day shows the site's usual hours, as its day page does.
        bookable=None if hours == (0, MINUTES_PER_DAY) else hours,
    )
    columns = {
        each: (
            segments(
                week.bookings.get(each, []),
                slot_minutes=slot,
                first_minute=first,
                last_minute=last,
                gone_until=minutes_gone(each, now, settings.tz),
                bookable=hours,
            )
            if each in week.bookable
            else None
        )
        for each in days
    }

    def book_url(each: date, minute: int) -> str:
        return (
            f"/rooms/{room_id}?date={each.isoformat()}&start={format_minute(minute)}"
            f"&end={format_minute(minute + slot)}"
        )

    body = week_rows(
        days,
        columns,
        first_minute=first,
        last_minute=last,
        slot_minutes=slot,
        book_url=book_url,
        text=partial(timelines.shown_title, locale),
        free_label=translate(locale, "Book from"),
        repeats_label=translate(locale, "(repeats)"),
        closed_label=translate(locale, "Not open"),
        viewer_id=user.user_id,
    )
    return render(
        request,
        "room_week.html",
        {
            **_week_context(days, local_now.date()),
            "room": week,
            "day": day,
            "body": body,
            "date_error": date_error,
        },
        status_code=422 if date_error else 200,
    )


@router.get("/my/week")
async def my_week(
    request: Request,
    user: PageUser,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
    locale: LocaleDep,
) -> Response:
    """My meetings of a week, day by day."""
    local_now = site_now(now, settings)
    day, date_error = query_day(request, local_now.date(), locale)
    days = week_of(day)
    mine = await reservations_reads.reservations_of_user(
        db, user_id=user.user_id, now=now, settings=settings
    )
    by_day: dict[date, list[reservations_reads.ReservationView]] = {each: [] for each in days}
    for reservation in mine:
        if reservation.date in by_day and reservation.status in SLOT_HOLDING:
            by_day[reservation.date].append(reservation)
    for reservations in by_day.values():
        reservations.sort(key=lambda r: (r.start_time, r.room_name))
    return render(
        request,
        "my_week.html",
        {
            **_week_context(days, local_now.date()),
            "day": day,
            "by_day": by_day,
            "date_error": date_error,
        },
        status_code=422 if date_error else 200,
    )
