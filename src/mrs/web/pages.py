"""The HTML pages. Each calls the domain services directly (never the JSON API over HTTP),
answers a POST with a redirect (post/redirect/get), and on a rejected form renders the
form again with what was typed and the message next to the field."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from mrs.accounts import session_cookie
from mrs.accounts.errors import InvalidCredentials
from mrs.accounts.schemas import LoginRequest
from mrs.clock import system_clock
from mrs.db.engine import Database
from mrs.errors import DomainError
from mrs.http.dependencies import LOCALE_COOKIE, DatabaseDep, LocaleDep, NowDep, SettingsDep
from mrs.http.types import ReservationIdPath, RoomIdPath, parse_iso_date
from mrs.i18n import SUPPORTED_LOCALES, translate
from mrs.reservations import rules
from mrs.reservations import service as reservations_service
from mrs.reservations.errors import (
    InvalidTimeRange,
    OutsideDay,
    ReservationConflict,
    SlotMisaligned,
    StartInPast,
)
from mrs.reservations.schemas import ReservationCreate
from mrs.rooms import service as rooms_service
from mrs.rooms.errors import RoomHasReservations, RoomNameTaken
from mrs.rooms.schemas import RoomCreate, RoomOpening, RoomUpdate
from mrs.settings import Settings
from mrs.wallclock import format_minute
from mrs.web.dependencies import PageAdmin, PageUser, Visitor, mark_page
from mrs.web.forms import FormErrors, form_error, parse, read_form, text_values
from mrs.web.i18n import N_
from mrs.web.rendering import render
from mrs.web.slots import day_slots, grid_bounds, past_until, slot_choices

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)

LANGUAGE_COOKIE_DAYS = 365
ADMIN_DATES_WEEKS = 8

# Confirmations shown after a redirect (?done=...); only these keys are honoured.
DONE_MESSAGES = {
    "reserved": N_("Your reservation is confirmed."),
    "cancelled": N_("The reservation was cancelled."),
    "logged_out": N_("You have logged out."),
    "room_created": N_("The room was created. Open it for the dates people may reserve it."),
    "room_saved": N_("The room was saved."),
    "opened": N_("The room is now open on {count} more date(s)."),
    "closed": N_("The room is now closed on {count} date(s)."),
}
WEEKDAY_NAMES = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _safe_next(target: str | None, default: str = "/rooms") -> str:
    """Only same-site paths: never an open redirect to another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def _done_message(request: Request, locale: str) -> str | None:
    key = request.query_params.get("done", "")
    msgid = DONE_MESSAGES.get(key)
    if msgid is None:
        return None
    count = request.query_params.get("n", "0")
    return translate(locale, msgid, count=int(count) if count.isdigit() and len(count) < 5 else 0)


def _local_now(now: datetime, settings: Settings) -> datetime:
    return now.astimezone(settings.tz)


def _query_day(request: Request, today: date, locale: str) -> tuple[date, str | None]:
    """The ?date= of the request (today when absent) and a message when it is not a date."""
    raw = request.query_params.get("date")
    if not raw:
        return today, None
    try:
        day = parse_iso_date(raw)
    except ValueError as exc:
        return today, translate(locale, str(exc))
    if not date.min < day < date.max:  # the pages link to the day before and after
        return today, translate(locale, "This date is out of range.")
    return day, None


# --- home, language, login, logout ---


@router.get("/")
async def home(visitor: Visitor) -> Response:
    return _redirect("/rooms" if visitor else "/login")


@router.post("/language")
async def choose_language(request: Request) -> Response:
    """Remember the chosen language in a cookie and go back to the page."""
    form = await read_form(request)
    values = text_values(form, ("lang", "next"))
    response = _redirect(_safe_next(values["next"], "/"))
    if values["lang"] in SUPPORTED_LOCALES:
        response.set_cookie(
            LOCALE_COOKIE,
            values["lang"],
            max_age=LANGUAGE_COOKIE_DAYS * 24 * 3600,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/",
        )
    return response


@router.get("/login")
async def login_form(request: Request, visitor: Visitor, locale: LocaleDep) -> Response:
    next_url = _safe_next(request.query_params.get("next"))
    if visitor is not None:
        return _redirect(next_url)
    return render(
        request,
        "login.html",
        {
            "values": {"user_id": ""},
            "errors": FormErrors(),
            "next_url": next_url,
            "done": _done_message(request, locale),
        },
    )


@router.post("/login")
async def login_submit(
    request: Request, db: DatabaseDep, settings: SettingsDep, locale: LocaleDep
) -> Response:
    form = await read_form(request)
    values = text_values(form, ("user_id", "next"))
    password = form.get("password")
    next_url = _safe_next(values["next"])
    errors = FormErrors()
    body = parse(
        LoginRequest,
        {"user_id": values["user_id"], "password": password if isinstance(password, str) else ""},
        locale=locale,
        errors=errors,
    )
    status_code = 422
    if body is not None:
        try:
            _user, issued = await session_cookie.log_in(
                db, settings, user_id=body.user_id, password=body.password, now=system_clock()
            )
        except InvalidCredentials as exc:
            form_error(errors, locale, exc.msgid)
            status_code = exc.status
        except DomainError as exc:  # e.g. throttling: show it on the form
            form_error(errors, locale, exc.msgid, **exc.params)
            status_code = exc.status
        else:
            response = _redirect(next_url)
            session_cookie.set_session_cookie(request, response, issued)
            return response
    return render(
        request,
        "login.html",
        {"values": values, "errors": errors, "next_url": next_url, "done": None},
        status_code=status_code,
    )


@router.post("/logout")
async def logout(user: PageUser, db: DatabaseDep) -> Response:
    response = _redirect("/login?done=logged_out")
    await session_cookie.log_out(db, response, user_id=user.user_id, now=system_clock())
    return response


# --- rooms by date ---


@router.get("/rooms")
async def rooms_of_day(
    request: Request,
    user: PageUser,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
    locale: LocaleDep,
) -> Response:
    """Rooms open on a date (today by default) with the taken slots at a glance."""
    local_now = _local_now(now, settings)
    day, date_error = _query_day(request, local_now.date(), locale)
    rooms = await rooms_service.rooms_reservable_on(db, day=day)
    by_room: dict[int, list[reservations_service.ReservationView]] = defaultdict(list)
    for reservation in await reservations_service.reservations_of_day(db, day=day):
        by_room[reservation.room_id].append(reservation)
    first, last = grid_bounds(
        [r for rs in by_room.values() for r in rs],
        slot_minutes=settings.slot_minutes,
        first_hour=settings.web_day_start_hour,
        last_hour=settings.web_day_end_hour,
    )
    gone = past_until(day, local_now)
    overview = [
        {
            "room": room,
            "reservations": by_room.get(room.room_id, []),
            "slots": day_slots(
                by_room.get(room.room_id, []),
                slot_minutes=settings.slot_minutes,
                first_minute=first,
                last_minute=last,
                gone_until=gone,
            ),
        }
        for room in rooms
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
            "date_error": date_error,
        },
        status_code=422 if date_error else 200,
    )


# --- a room's day and reserving ---


async def _room_day_page(
    request: Request,
    *,
    db: Database,
    settings: Settings,
    user_id: str,
    room_id: int,
    day: date,
    now: datetime,
    values: dict[str, str],
    errors: FormErrors,
    status_code: int = 200,
    done: str | None = None,
) -> Response:
    room = await rooms_service.get_room(db, room_id=room_id)
    is_open = room.active and bool(
        await rooms_service.open_dates(db, room_id=room_id, from_date=day, to_date=day)
    )
    reservations = await reservations_service.reservations_of_room_day(db, room_id=room_id, day=day)
    first, last = grid_bounds(
        reservations,
        slot_minutes=settings.slot_minutes,
        first_hour=settings.web_day_start_hour,
        last_hour=settings.web_day_end_hour,
    )
    local_now = _local_now(now, settings)
    slots = day_slots(
        reservations,
        slot_minutes=settings.slot_minutes,
        first_minute=first,
        last_minute=last,
        gone_until=past_until(day, local_now),
    )
    return render(
        request,
        "room_day.html",
        {
            "room": room,
            "day": day,
            "today": local_now.date(),
            "previous_day": day - timedelta(days=1),
            "next_day": day + timedelta(days=1),
            "is_open": is_open,
            "slots": slots,
            "choices": slot_choices(settings.slot_minutes),
            "values": values,
            "errors": errors,
            "me": user_id,
            "done": done,
        },
        status_code=status_code,
    )


@router.get("/rooms/{room_id}")
async def room_day(
    request: Request,
    room_id: RoomIdPath,
    user: PageUser,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
    locale: LocaleDep,
) -> Response:
    """A room's day: the slot grid, who holds the taken slots, and the reservation form."""
    day, date_error = _query_day(request, _local_now(now, settings).date(), locale)
    errors = FormErrors()
    if date_error:
        errors.add("date", date_error)
    values = {
        "start_time": request.query_params.get("start", "")[:5],
        "end_time": request.query_params.get("end", "")[:5],
    }
    return await _room_day_page(
        request,
        db=db,
        settings=settings,
        user_id=user.user_id,
        room_id=room_id,
        day=day,
        now=now,
        values=values,
        errors=errors,
        status_code=422 if date_error else 200,
        done=_done_message(request, locale),
    )


async def _conflict_message(db: Database, locale: str, exc: ReservationConflict) -> str:
    """Say which reservation is in the way, and whose it is."""
    details = exc.details if isinstance(exc.details, dict) else {}
    reservation_id = details.get("reservation_id")
    if isinstance(reservation_id, int):
        try:
            other = await reservations_service.get_reservation(db, reservation_id=reservation_id)
        except DomainError:
            other = None
        if other is not None:
            return translate(
                locale,
                "This time overlaps the reservation of {name} from {start} to {end}. "
                "Choose another time.",
                name=other.user_name or other.user_id,
                start=format_minute(other.start_time),
                end=format_minute(other.end_time),
            )
    return translate(locale, exc.msgid, **exc.params)


@router.post("/rooms/{room_id}/reservations")
async def reserve(
    request: Request,
    room_id: RoomIdPath,
    user: PageUser,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
    locale: LocaleDep,
) -> Response:
    form = await read_form(request)
    values = text_values(form, ("date", "start_time", "end_time"))
    errors = FormErrors()
    body = parse(ReservationCreate, values, locale=locale, errors=errors)
    status_code = 422
    if body is not None:
        try:
            await reservations_service.reserve(
                db,
                settings=settings,
                user_id=user.user_id,
                room_id=room_id,
                day=body.date,
                start_minute=body.start_time,
                end_minute=body.end_time,
                now=now,
            )
        except ReservationConflict as exc:
            errors.add("", await _conflict_message(db, locale, exc))
            status_code = exc.status
        except (InvalidTimeRange, SlotMisaligned, OutsideDay) as exc:
            errors.add("end_time", translate(locale, exc.msgid, **exc.params))
            status_code = exc.status
        except StartInPast as exc:
            errors.add("start_time", translate(locale, exc.msgid, **exc.params))
            status_code = exc.status
        except DomainError as exc:  # e.g. the room is not open that day
            form_error(errors, locale, exc.msgid, **exc.params)
            status_code = exc.status
        else:
            return _redirect(f"/rooms/{room_id}?date={body.date.isoformat()}&done=reserved")
    try:
        day = parse_iso_date(values["date"])
    except ValueError:
        day = _local_now(now, settings).date()
    if not date.min < day < date.max:
        day = _local_now(now, settings).date()
    return await _room_day_page(
        request,
        db=db,
        settings=settings,
        user_id=user.user_id,
        room_id=room_id,
        day=day,
        now=now,
        values=values,
        errors=errors,
        status_code=status_code,
    )


# --- my reservations ---


async def _my_reservations_page(
    request: Request,
    *,
    db: Database,
    settings: Settings,
    user_id: str,
    now: datetime,
    message: str | None,
    error: str | None,
    status_code: int = 200,
) -> Response:
    views = await reservations_service.reservations_of_user(
        db, user_id=user_id, now=now, settings=settings
    )
    upcoming = [v for v in views if rules.local_datetime(v.date, v.end_time, settings.tz) > now]
    past = [v for v in views if v not in upcoming]
    return render(
        request,
        "my_reservations.html",
        {"upcoming": upcoming, "past": past, "done": message, "error": error},
        status_code=status_code,
    )


@router.get("/reservations")
async def my_reservations(
    request: Request,
    user: PageUser,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
    locale: LocaleDep,
) -> Response:
    return await _my_reservations_page(
        request,
        db=db,
        settings=settings,
        user_id=user.user_id,
        now=now,
        message=_done_message(request, locale),
        error=None,
    )


@router.post("/reservations/{reservation_id}/cancel")
async def cancel_reservation(
    request: Request,
    reservation_id: ReservationIdPath,
    user: PageUser,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
    locale: LocaleDep,
) -> Response:
    await read_form(request)  # the CSRF token travels in the form
    try:
        await reservations_service.cancel(
            db,
            settings=settings,
            actor=rules.Actor(user_id=user.user_id, is_admin=user.is_admin),
            reservation_id=reservation_id,
            now=now,
        )
    except DomainError as exc:
        return await _my_reservations_page(
            request,
            db=db,
            settings=settings,
            user_id=user.user_id,
            now=now,
            message=None,
            error=translate(locale, exc.msgid, **exc.params),
            status_code=exc.status,
        )
    return _redirect("/reservations?done=cancelled")


# --- admin: rooms ---

ROOM_FIELDS = ("room_name", "capacity", "location")
_WEEKDAY_VALUES = frozenset("1234567")


def _room_payload(values: dict[str, str]) -> dict[str, Any]:
    """Form text to the schema's types: empty optional fields mean "none"."""
    return {
        "room_name": values["room_name"],
        "capacity": values["capacity"] or None,
        "location": values["location"] or None,
    }


async def _admin_rooms_page(
    request: Request,
    db: Database,
    *,
    values: dict[str, str],
    errors: FormErrors,
    locale: str,
    status_code: int = 200,
) -> Response:
    rooms = await rooms_service.list_rooms(db)
    return render(
        request,
        "admin/rooms.html",
        {
            "rooms": rooms,
            "values": values,
            "errors": errors,
            "done": _done_message(request, locale),
        },
        status_code=status_code,
    )


@router.get("/admin/rooms")
async def admin_rooms(
    request: Request, _admin: PageAdmin, db: DatabaseDep, locale: LocaleDep
) -> Response:
    return await _admin_rooms_page(
        request,
        db,
        values=dict.fromkeys(ROOM_FIELDS, ""),
        errors=FormErrors(),
        locale=locale,
    )


@router.post("/admin/rooms")
async def admin_create_room(
    request: Request, _admin: PageAdmin, db: DatabaseDep, locale: LocaleDep
) -> Response:
    values = text_values(await read_form(request), ROOM_FIELDS)
    errors = FormErrors()
    body = parse(RoomCreate, _room_payload(values), locale=locale, errors=errors)
    status_code = 422
    if body is not None:
        try:
            room = await rooms_service.create_room(
                db, room_name=body.room_name, capacity=body.capacity, location=body.location
            )
        except RoomNameTaken as exc:
            errors.add("room_name", translate(locale, exc.msgid, **exc.params))
            status_code = exc.status
        else:
            return _redirect(f"/admin/rooms/{room.room_id}?done=room_created")
    return await _admin_rooms_page(
        request, db, values=values, errors=errors, locale=locale, status_code=status_code
    )


def _default_opening(today: date) -> dict[str, Any]:
    return {
        "from_date": today.isoformat(),
        "to_date": (today + timedelta(days=27)).isoformat(),
        "weekdays": [1, 2, 3, 4, 5],
    }


async def _admin_room_page(
    request: Request,
    db: Database,
    *,
    room_id: int,
    today: date,
    locale: str,
    values: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
    opening: dict[str, Any] | None = None,
    opening_errors: FormErrors | None = None,
    blocking: list[dict[str, Any]] | None = None,
    status_code: int = 200,
) -> Response:
    room = await rooms_service.get_room(db, room_id=room_id)
    horizon = today + timedelta(weeks=ADMIN_DATES_WEEKS)
    open_days = await rooms_service.open_dates(
        db, room_id=room_id, from_date=today, to_date=horizon
    )
    if values is None:
        values = {
            "room_name": room.room_name,
            "capacity": "" if room.capacity is None else str(room.capacity),
            "location": room.location or "",
            "active": room.active,
        }
    return render(
        request,
        "admin/room.html",
        {
            "room": room,
            "values": values,
            "errors": errors or FormErrors(),
            "opening": opening or _default_opening(today),
            "opening_errors": opening_errors or FormErrors(),
            "blocking": blocking or [],
            "open_days": open_days,
            "horizon": horizon,
            "today": today,
            "weekday_names": WEEKDAY_NAMES,
            "done": _done_message(request, locale),
        },
        status_code=status_code,
    )


@router.get("/admin/rooms/{room_id}")
async def admin_room(
    request: Request,
    room_id: RoomIdPath,
    _admin: PageAdmin,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
    locale: LocaleDep,
) -> Response:
    return await _admin_room_page(
        request, db, room_id=room_id, today=_local_now(now, settings).date(), locale=locale
    )


@router.post("/admin/rooms/{room_id}")
async def admin_update_room(
    request: Request,
    room_id: RoomIdPath,
    _admin: PageAdmin,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
    locale: LocaleDep,
) -> Response:
    form = await read_form(request)
    values: dict[str, Any] = text_values(form, ROOM_FIELDS)
    values["active"] = form.get("active") == "on"
    errors = FormErrors()
    payload = _room_payload(values) | {"active": values["active"]}
    body = parse(RoomUpdate, payload, locale=locale, errors=errors)
    status_code = 422
    if body is not None:
        try:
            await rooms_service.update_room(db, room_id=room_id, changes=body.model_dump())
        except RoomNameTaken as exc:
            errors.add("room_name", translate(locale, exc.msgid, **exc.params))
            status_code = exc.status
        else:
            return _redirect(f"/admin/rooms/{room_id}?done=room_saved")
    return await _admin_room_page(
        request,
        db,
        room_id=room_id,
        today=_local_now(now, settings).date(),
        locale=locale,
        values=values,
        errors=errors,
        status_code=status_code,
    )


@router.post("/admin/rooms/{room_id}/dates")
async def admin_room_dates(
    request: Request,
    room_id: RoomIdPath,
    _admin: PageAdmin,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
    locale: LocaleDep,
) -> Response:
    """Open or close the room on a date range, optionally only on some weekdays."""
    form = await read_form(request)
    values = text_values(form, ("from_date", "to_date", "action"))
    weekdays = sorted({int(day) for day in form.getlist("weekdays") if day in _WEEKDAY_VALUES})
    opening: dict[str, Any] = {
        "from_date": values["from_date"],
        "to_date": values["to_date"],
        "weekdays": weekdays,
    }
    errors = FormErrors()
    blocking: list[dict[str, Any]] = []
    status_code = 422
    if not weekdays:
        errors.add("weekdays", translate(locale, "Choose at least one weekday."))
    body = parse(
        RoomOpening,
        {"from_date": values["from_date"], "to_date": values["to_date"], "weekdays": weekdays},
        locale=locale,
        errors=errors,
    )
    if body is not None and not errors:
        try:
            if values["action"] == "close":
                changed = await rooms_service.close_room(
                    db,
                    room_id=room_id,
                    from_date=body.from_date,
                    to_date=body.to_date,
                    weekdays=body.weekdays,
                )
                return _redirect(f"/admin/rooms/{room_id}?done=closed&n={len(changed)}")
            changed = await rooms_service.open_room(
                db,
                room_id=room_id,
                from_date=body.from_date,
                to_date=body.to_date,
                weekdays=body.weekdays,
            )
            return _redirect(f"/admin/rooms/{room_id}?done=opened&n={len(changed)}")
        except RoomHasReservations as exc:
            form_error(errors, locale, exc.msgid, **exc.params)
            blocking = list(exc.details or [])
            status_code = exc.status
        except DomainError as exc:  # e.g. a range that runs backwards or is too long
            form_error(errors, locale, exc.msgid, **exc.params)
            status_code = exc.status
    return await _admin_room_page(
        request,
        db,
        room_id=room_id,
        today=_local_now(now, settings).date(),
        locale=locale,
        opening=opening,
        opening_errors=errors,
        blocking=blocking,
        status_code=status_code,
    )
