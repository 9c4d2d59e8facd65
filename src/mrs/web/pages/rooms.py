"""Rooms by date, a room's day with its slot grid, and reserving."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from mrs.errors import DomainError
from mrs.http.dependencies import DatabaseDep, LocaleDep, NowDep, SettingsDep
from mrs.http.types import RoomIdPath, parse_iso_date
from mrs.reservations import delegation, rules, timelines
from mrs.reservations import reads as reservations_reads
from mrs.reservations import service as reservations_service
from mrs.reservations.errors import ReservationConflict, SeriesConflict
from mrs.reservations.recurrence import WEEKDAY_CODES, RecurrenceRule
from mrs.reservations.schemas import (
    DESCRIPTION_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    ReservationCreate,
    parse_idempotency_key,
)
from mrs.reservations.series import OnConflict
from mrs.rooms import availability
from mrs.rooms import details as room_details
from mrs.rooms import service as rooms_service
from mrs.wallclock import MINUTES_PER_DAY, minutes_gone
from mrs.web.dependencies import Page, PageContext, PageUser
from mrs.web.forms import FormState, submit, text_values
from mrs.web.pages import series_booking
from mrs.web.pages.common import (
    done_message,
    query_day,
    redirect,
    site_now,
)
from mrs.web.pages.meeting_form import (
    attendee_messages_on_the_field,
    conflict_message,
    meeting_data,
    meeting_values,
)
from mrs.web.pages.repeat_form import (
    error_messages,
    monthly_options,
    parse_repeat,
    repeat_values,
    weekday_options,
)
from mrs.web.rendering import render
from mrs.web.slots import (
    asked_times,
    bookable_span,
    day_slots,
    grid_bounds,
    missing_boundaries,
    offered_times,
    timeline_cells,
)

router = APIRouter()


class RoomCard(NamedTuple):
    """One room on the rooms page. A tuple, not a dict: Jinja looks up `entry.room` as an
    attribute first, and on a dict that miss raised and caught an exception each time."""

    room: timelines.RoomTimeline
    reservations: list[timelines.TakenTime]
    cells: list[tuple[int, str]]
    details: room_details.RoomDetails | None


@router.get("/rooms")
async def rooms_of_day(
    request: Request,
    user: PageUser,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
    locale: LocaleDep,
) -> Response:
    """Rooms open on a date (today by default) with the taken slots at a glance, and what
    each offers (description, equipment, bookable hours; outside them the bar is closed)."""
    local_now = site_now(now, settings)
    day, date_error = query_day(request, local_now.date(), locale)
    of_day = await timelines.room_timelines(db, day=day)
    details = await room_details.details_of_day(db, day=day) if of_day else {}
    first, last = grid_bounds(
        [taken for timeline in of_day for taken in timeline.taken],
        slot_minutes=settings.slot_minutes,
        first_hour=settings.web_day_start_hour,
        last_hour=settings.web_day_end_hour,
    )
    gone = minutes_gone(day, now, settings.tz)
    overview = [
        RoomCard(
            room=timeline,
            reservations=timeline.taken,
            cells=timeline_cells(
                timeline.taken,
                slot_minutes=settings.slot_minutes,
                first_minute=first,
                last_minute=last,
                gone_until=gone,
                bookable=_span(room, settings.slot_minutes),
            ),
            details=room,
        )
        for timeline in of_day
        for room in (details.get(timeline.room_id),)
    ]
    hours = list(range(first, last, 60 if last - first <= 16 * 60 else 120))
    return render(
        request,
        "rooms.html",
        {
            "day": day,
            "today": local_now.date(),
            "previous_day": day - timedelta(days=1),
            "next_day": day + timedelta(days=1),
            "overview": overview,
            "hours": hours,
            "grid_first": first,
            "grid_last": last,
            "date_error": date_error,
        },
        status_code=422 if date_error else 200,
    )


def _span(room: room_details.RoomDetails | None, slot_minutes: int) -> tuple[int, int] | None:
    """The room's bookable hours on slot boundaries (None when unknown)."""
    if room is None:
        return None
    return bookable_span(room.open_minute, room.close_minute, slot_minutes)


# --- a room's day and reserving ---


async def _room_day_page(
    page: PageContext,
    state: FormState,
    *,
    viewer: rules.Actor,
    room_id: int,
    day: date,
    done: str | None = None,
    preview: series_booking.SeriesPreview | None = None,
) -> Response:
    """A room's day: what the room offers, the slot grid over its bookable hours, who
    holds the taken slots, and the reservation form offering only times within those
    hours (`state`: the times typed and the messages), with its repeat options and the
    dates of the series when they were asked for (`preview`)."""
    db, settings, now = page.db, page.settings, page.now
    room = await rooms_service.get_room(db, room_id=room_id)
    details = await room_details.details_of_room(db, room_id=room_id)
    hours = bookable_span(
        room.opening.open_minute, room.opening.close_minute, settings.slot_minutes
    )
    # A room bookable all day (rooms from before opening rules) shows the site's usual
    # hours (MRS_WEB_DAY_START_HOUR/_END_HOUR), widened for its reservations, as before.
    grid_hours = None if hours == (0, MINUTES_PER_DAY) else hours
    is_open = await availability.why_not_bookable(db, room_id=room_id, day=day) is None
    reservations = await reservations_reads.reservations_of_room_day(
        db, room_id=room_id, day=day, viewer=viewer, locale=page.locale
    )
    # A time asked for outside the usual hours (the timeline offers an all-day room from
    # the earliest hour any room opens) widens the grid, so the form can offer it.
    asked = asked_times(state.values.get("start_time", ""), state.values.get("end_time", ""))
    first, last = grid_bounds(
        [*reservations, *([asked] if asked else [])],
        slot_minutes=settings.slot_minutes,
        first_hour=settings.web_day_start_hour,
        last_hour=settings.web_day_end_hour,
        bookable=grid_hours,
    )
    local_now = site_now(now, settings)
    principals = (
        await delegation.delegation_of(db, user_id=viewer.user_id, locale=page.locale)
    ).principals
    bookers = await delegation.names_of(db, (r.booked_by for r in reservations), page.locale)
    missing = missing_boundaries(day, settings.tz, settings.slot_minutes)
    gone = minutes_gone(day, now, settings.tz)
    slots = day_slots(
        reservations,
        slot_minutes=settings.slot_minutes,
        first_minute=first,
        last_minute=last,
        gone_until=gone,
        missing=missing,
        bookable=hours,
    )
    start_choices, end_choices = offered_times(
        slot_minutes=settings.slot_minutes,
        first_minute=first,
        last_minute=last,
        gone_until=gone,
        missing=missing,
        bookable=hours,
    )
    return render(
        page.request,
        "room_day.html",
        {
            "room": room,
            "details": details,
            "hours": hours,
            "day": day,
            "today": local_now.date(),
            "previous_day": day - timedelta(days=1),
            "next_day": day + timedelta(days=1),
            "is_open": is_open,
            "slots": slots,
            "start_choices": start_choices,
            "end_choices": end_choices,
            # A fresh key per rendered form: submitting it twice books once.
            "idempotency_key": secrets.token_urlsafe(18),
            # A weekly repeat starts out on the booking date's weekday.
            "values": {"weekdays": WEEKDAY_CODES[day.weekday()], **state.values},
            "errors": state.errors,
            "weekday_options": weekday_options(page.locale),
            "monthly_options": monthly_options(day, page.locale),
            "preview": preview,
            "me": viewer.user_id,
            # A delegate books for themself or for one of these (the "Book for" select).
            "principals": principals,
            "bookers": bookers,
            "title_max": TITLE_MAX_LENGTH,
            "description_max": DESCRIPTION_MAX_LENGTH,
            "done": done,
        },
        status_code=state.status_code,
    )


@router.get("/rooms/{room_id}")
async def room_day(room_id: RoomIdPath, page: Page, user: PageUser) -> Response:
    """A room's day: the slot grid, who holds the taken slots, and the reservation form."""
    request = page.request
    day, date_error = query_day(request, site_now(page.now, page.settings).date(), page.locale)
    state = FormState(
        locale=page.locale,
        values={
            "start_time": request.query_params.get("start", "")[:5],
            "end_time": request.query_params.get("end", "")[:5],
        },
    )
    if date_error:
        state.errors.add("date", date_error)
        state.status_code = 422
    return await _room_day_page(
        page,
        state,
        viewer=rules.Actor(user_id=user.user_id, is_admin=user.is_admin),
        room_id=room_id,
        day=day,
        done=done_message(request, page.locale),
    )


@dataclass(frozen=True)
class _Booking:
    """The booking form as sent: the meeting, its idempotency key, and its repeat rule
    with what to do with it (`intent` "preview" or "series"; `on_conflict`)."""

    meeting: ReservationCreate
    key: str | None
    values: dict[str, str]
    rule: RecurrenceRule | None = None
    intent: str = ""
    on_conflict: OnConflict = "fail"


def _parse_reservation(form: FormData, state: FormState) -> _Booking | None:
    """The meeting to reserve, the form's idempotency key (None when it has none), and
    the repeat rule when one is chosen (its fields' messages recorded otherwise)."""
    state.values = {
        **text_values(
            form, ("date", "start_time", "end_time", "intent", "on_conflict", "on_behalf_of")
        ),
        **meeting_values(form),
        **repeat_values(form),
    }
    body = state.validate(
        ReservationCreate,
        {
            "date": state.values["date"],
            "start_time": state.values["start_time"],
            "end_time": state.values["end_time"],
            **meeting_data(state.values),
            "on_behalf_of": state.values["on_behalf_of"] or None,
        },
    )
    attendee_messages_on_the_field(state)
    key = text_values(form, ("idempotency_key",))["idempotency_key"] or None
    if key is not None:
        try:
            key = parse_idempotency_key(key)
        except ValueError as exc:  # the hidden field tampered with
            state.add_error("", str(exc))
            return None
    if body is None:
        return None
    choice = parse_repeat(state.values, body.date)
    for name, message in error_messages(choice.errors, state.locale).items():
        state.errors.add(name, message)
    if choice.errors:
        return None
    on_conflict: OnConflict = "skip" if state.values["on_conflict"] == "skip" else "fail"
    return _Booking(body, key, state.values, choice.rule, state.values["intent"], on_conflict)


@router.post("/rooms/{room_id}/reservations")
async def reserve(room_id: RoomIdPath, page: Page, user: PageUser) -> Response:
    """Reserve, and back to the room's day; a refused time is said next to its field,
    a taken one names the reservation in the way. A repeating meeting first shows its
    dates ("Preview dates", or the usual button), then is reserved as a series and shown
    on its page; a date taken meanwhile brings the form back with every such date."""
    db, settings, now = page.db, page.settings, page.now
    viewer = rules.Actor(user_id=user.user_id, is_admin=user.is_admin)
    asked: list[_Booking] = []  # what was asked, for the dates shown again after a 409

    async def book(parsed: _Booking) -> Response:
        asked.append(parsed)
        body = parsed.meeting
        owner_id, booked_by = await delegation.booking_owner(
            db, actor=viewer, on_behalf_of=body.on_behalf_of
        )
        if parsed.rule is not None:
            if parsed.intent != "series":
                return await _room_day_page(
                    page,
                    FormState(locale=page.locale, values=parsed.values),
                    viewer=viewer,
                    room_id=room_id,
                    day=body.date,
                    preview=await series_booking.preview(
                        page, viewer=viewer, room_id=room_id, meeting=body, rule=parsed.rule
                    ),
                )
            created = await series_booking.reserve_series(
                page,
                user_id=owner_id,
                booked_by=booked_by,
                room_id=room_id,
                meeting=body,
                rule=parsed.rule,
                on_conflict=parsed.on_conflict,
            )
            return redirect(created)
        answer = await reservations_service.reserve(
            db,
            settings=settings,
            user_id=owner_id,
            booked_by=booked_by,
            room_id=room_id,
            day=body.date,
            start_minute=body.start_time,
            end_minute=body.end_time,
            now=now,
            title=body.title,
            description=body.description,
            visibility=body.visibility,
            attendees=body.attendees,
            idempotency_key=parsed.key,
            locale=page.locale,
        )
        done = "reserved_pending" if answer.pending else "reserved"
        return redirect(f"/rooms/{room_id}?date={body.date.isoformat()}&done={done}")

    async def explain(exc: DomainError) -> str | None:
        if isinstance(exc, ReservationConflict):
            return await conflict_message(db, page.locale, viewer, exc)
        return await series_booking.series_conflict_message(page, viewer, exc)

    async def again(state: FormState) -> Response:
        today = site_now(now, settings).date()
        try:
            day = parse_iso_date(state.values["date"])
        except ValueError:
            day = today
        if not date.min < day < date.max:
            day = today
        preview = None
        if isinstance(state.refusal, SeriesConflict) and asked and asked[0].rule is not None:
            # The dates as they are now, so another choice can be made at once.
            preview = await series_booking.preview(
                page, viewer=viewer, room_id=room_id, meeting=asked[0].meeting, rule=asked[0].rule
            )
        return await _room_day_page(
            page, state, viewer=viewer, room_id=room_id, day=day, preview=preview
        )

    return await submit(
        page.request,
        locale=page.locale,
        parse=_parse_reservation,
        action=book,
        render_again=again,
        explain=explain,
    )
