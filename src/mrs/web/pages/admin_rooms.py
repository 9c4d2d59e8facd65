"""Administrators: rooms (create, edit) and the dates they are open."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from mrs.db.engine import Database
from mrs.errors import DomainError
from mrs.http.dependencies import DatabaseDep, LocaleDep, NowDep, SettingsDep
from mrs.http.types import RoomIdPath
from mrs.i18n import translate
from mrs.reservations import closing
from mrs.reservations.errors import RoomHasReservations
from mrs.rooms import service as rooms_service
from mrs.rooms.errors import RoomNameTaken
from mrs.rooms.schemas import RoomCreate, RoomOpening, RoomUpdate
from mrs.web.dependencies import PageAdmin
from mrs.web.forms import FormErrors, form_error, parse, read_form, text_values
from mrs.web.i18n import N_
from mrs.web.pages.common import (
    done_message,
    redirect,
    site_now,
)
from mrs.web.rendering import render

router = APIRouter()

ADMIN_DATES_WEEKS = 8
WEEKDAY_NAMES = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)


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
            "done": done_message(request, locale),
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
            return redirect(f"/admin/rooms/{room.room_id}?done=room_created")
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
            "done": done_message(request, locale),
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
        request, db, room_id=room_id, today=site_now(now, settings).date(), locale=locale
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
            return redirect(f"/admin/rooms/{room_id}?done=room_saved")
    return await _admin_room_page(
        request,
        db,
        room_id=room_id,
        today=site_now(now, settings).date(),
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
                changed = await closing.close_room(
                    db,
                    room_id=room_id,
                    from_date=body.from_date,
                    to_date=body.to_date,
                    weekdays=body.weekdays,
                )
                return redirect(f"/admin/rooms/{room_id}?done=closed&n={len(changed)}")
            changed = await rooms_service.open_room(
                db,
                room_id=room_id,
                from_date=body.from_date,
                to_date=body.to_date,
                weekdays=body.weekdays,
            )
            return redirect(f"/admin/rooms/{room_id}?done=opened&n={len(changed)}")
        except RoomHasReservations as exc:
            form_error(errors, locale, exc.msgid, **exc.params)
            # Dates as the pages write them; the links need the ISO form too.
            blocking = [
                detail | {"day": date.fromisoformat(detail["date"])}
                for detail in (exc.details or [])
            ]
            status_code = exc.status
        except DomainError as exc:  # e.g. a range that runs backwards or is too long
            form_error(errors, locale, exc.msgid, **exc.params)
            status_code = exc.status
    return await _admin_room_page(
        request,
        db,
        room_id=room_id,
        today=site_now(now, settings).date(),
        locale=locale,
        opening=opening,
        opening_errors=errors,
        blocking=blocking,
        status_code=status_code,
    )
