"""The day timeline of every room: rooms as rows, the day's slots as columns, bookings as
blocks, free slots as links to book them; filters by location, size and equipment."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from functools import partial
from typing import NamedTuple
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from markupsafe import Markup
from starlette.responses import Response

from mrs.http.dependencies import DatabaseDep, LocaleDep, NowDep, SettingsDep
from mrs.i18n import translate
from mrs.reservations import rules, timelines
from mrs.rooms import equipment as equipment_list
from mrs.wallclock import MINUTES_PER_DAY, minutes_gone
from mrs.web.dependencies import PageUser
from mrs.web.grids import TimelineRows, hour_heads, segments
from mrs.web.pages.common import query_day, site_now
from mrs.web.rendering import render
from mrs.web.slots import bookable_span, grid_bounds

router = APIRouter()

MAX_FILTER_TEXT = 200


class Filters(NamedTuple):
    location: str
    capacity: int | None
    equipment: tuple[str, ...]
    capacity_error: str | None

    def keep(self) -> str:
        """The filters as query parameters, for links that change only the day."""
        pairs: list[tuple[str, str]] = []
        if self.location:
            pairs.append(("location", self.location))
        if self.capacity is not None:
            pairs.append(("capacity", str(self.capacity)))
        pairs.extend(("equipment", code) for code in self.equipment)
        return ("&" + urlencode(pairs)) if pairs else ""

    def admit(self, room: timelines.RoomBookings) -> bool:
        if self.location and room.location != self.location:
            return False
        if self.capacity is not None and (room.capacity is None or room.capacity < self.capacity):
            return False
        return all(code in room.equipment for code in self.equipment)


def _seats(locale: str, count: int) -> str:
    return translate(locale, "{count} seats", count=count)


def _filters(request: Request, locale: str) -> Filters:
    params = request.query_params
    location = params.get("location", "").strip()[:MAX_FILTER_TEXT]
    raw_capacity = params.get("capacity", "").strip()
    capacity: int | None = None
    error = None
    if raw_capacity:
        if raw_capacity.isascii() and raw_capacity.isdigit() and 1 <= int(raw_capacity) <= 10000:
            capacity = int(raw_capacity)
        else:
            error = translate(locale, "Enter a number of seats from 1 to 10000.")
    codes = tuple(dict.fromkeys(code[:40] for code in params.getlist("equipment")[:20] if code))
    return Filters(location, capacity, codes, error)


def _hours_of_all(
    hours: Iterable[tuple[int, int]], usual: tuple[int, int]
) -> tuple[int, int] | None:
    """From the earliest opening to the latest closing of the rooms shown, a room bookable
    all day counting as the site's `usual` hours (as on its own day page); None when no
    room is shown."""
    spans = [usual if span == (0, MINUTES_PER_DAY) else span for span in hours]
    if not spans:
        return None
    return min(span[0] for span in spans), max(span[1] for span in spans)


@router.get("/timeline")
async def day_timeline(
    request: Request,
    user: PageUser,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
    locale: LocaleDep,
) -> Response:
    """Every room bookable on a day as a line of its slots."""
    local_now = site_now(now, settings)
    day, date_error = query_day(request, local_now.date(), locale)
    filters = _filters(request, locale)
    viewer = rules.Actor(user_id=user.user_id, is_admin=user.is_admin)
    rooms = await timelines.day_timeline(db, day=day, viewer=viewer)
    equipment = await equipment_list.list_equipment(db)
    locations = sorted({room.location for room in rooms if room.location})
    shown = [room for room in rooms if filters.admit(room)]
    slot = settings.slot_minutes
    hours = {
        room.room_id: bookable_span(room.open_minute, room.close_minute, slot) for room in shown
    }
    first, last = grid_bounds(
        [booking for room in shown for booking in room.bookings],
        slot_minutes=slot,
        first_hour=settings.web_day_start_hour,
        last_hour=settings.web_day_end_hour,
        bookable=_hours_of_all(
            hours.values(),
            (settings.web_day_start_hour * 60, settings.web_day_end_hour * 60),
        ),
    )
    gone = minutes_gone(day, now, settings.tz)
    rows = TimelineRows(
        iso_day=day.isoformat(),
        slot_minutes=slot,
        text=partial(timelines.shown_title, locale),
        free_label=translate(locale, "Book from"),
        repeats_label=translate(locale, "(repeats)"),
        seats_label=partial(_seats, locale),
        viewer_id=user.user_id,
    )
    lines = Markup("").join(
        rows.line(
            room.room_id,
            room.room_name,
            room.capacity,
            segments(
                room.bookings,
                slot_minutes=slot,
                first_minute=first,
                last_minute=last,
                gone_until=gone,
                bookable=hours[room.room_id],
            ),
        )
        for room in shown
    )
    errors = {"date": date_error} if date_error else {}
    if filters.capacity_error:
        errors["capacity"] = filters.capacity_error
    return render(
        request,
        "timeline.html",
        {
            "day": day,
            "today": local_now.date(),
            "previous_day": day - timedelta(days=1),
            "next_day": day + timedelta(days=1),
            "lines": lines,
            "shown_count": len(shown),
            "room_count": len(rooms),
            "heads": hour_heads(first, last, slot),
            "filters": filters,
            "keep": filters.keep(),
            "locations": locations,
            "equipment": equipment,
            "errors": errors,
        },
        status_code=422 if errors else 200,
    )
