"""Free-room search: a form (date, times, seats, equipment) and the rooms that fit, each
linking to its day with the booking form filled in."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from mrs.errors import DomainError
from mrs.http.dependencies import DatabaseDep, LocaleDep, NowDep, SettingsDep
from mrs.http.types import parse_hour_minute, parse_iso_date
from mrs.i18n import translate
from mrs.reservations import search
from mrs.rooms import equipment as equipment_list
from mrs.web.dependencies import PageUser
from mrs.web.forms import MAX_VALUE_LENGTH, FormErrors
from mrs.web.pages.common import site_now
from mrs.web.rendering import render

router = APIRouter()

_FIELDS = ("date", "start_time", "end_time", "capacity")


def _read(values: dict[str, str], codes: list[str], locale: str, errors: FormErrors) -> Any:
    """The search the form asks for, or None with messages by field."""
    parsed: dict[str, Any] = {}
    for name, parser in (
        ("date", parse_iso_date),
        ("start_time", parse_hour_minute),
        ("end_time", parse_hour_minute),
    ):
        if not values[name]:
            errors.add(name, translate(locale, "This field is required."))
            continue
        try:
            parsed[name] = parser(values[name])
        except ValueError as exc:
            errors.add(name, translate(locale, str(exc)))
    capacity = None
    if values["capacity"]:
        raw = values["capacity"]
        if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= 10000:
            capacity = int(raw)
        else:
            errors.add("capacity", translate(locale, "Enter a number of seats from 1 to 10000."))
    try:
        equipment = search.parse_equipment_codes(codes)
    except DomainError as exc:
        errors.add("equipment", translate(locale, exc.msgid, **exc.params))
        equipment = ()
    if errors:
        return None
    return search.FreeRoomQuery(
        day=parsed["date"],
        start_minute=parsed["start_time"],
        end_minute=parsed["end_time"],
        capacity=capacity,
        equipment=equipment,
    )


@router.get("/search")
async def free_room_search(
    request: Request,
    user: PageUser,
    db: DatabaseDep,
    settings: SettingsDep,
    now: NowDep,
    locale: LocaleDep,
) -> Response:
    """The search form; with its fields filled in, the rooms free for the whole time."""
    params = request.query_params
    values = {
        name: params.get(name, "").replace("\x00", "").strip()[:MAX_VALUE_LENGTH]
        for name in _FIELDS
    }
    codes = [code[:MAX_VALUE_LENGTH] for code in params.getlist("equipment")[:50] if code]
    asked = any(values.values()) or bool(codes)
    if not values["date"]:
        values["date"] = site_now(now, settings).date().isoformat()
    errors = FormErrors()
    results: list[search.FreeRoom] | None = None
    query = _read(values, codes, locale, errors) if asked else None
    if query is not None:
        try:
            results = await search.free_rooms(db, settings=settings, query=query)
        except DomainError as exc:
            details = exc.details if isinstance(exc.details, dict) else {}
            errors.add(str(details.get("field", "")), translate(locale, exc.msgid, **exc.params))
    equipment = await equipment_list.list_equipment(db)
    names = {item.equipment_code: item.name(locale) for item in equipment}
    return render(
        request,
        "search.html",
        {
            "values": values,
            "chosen": set(codes),
            "equipment": equipment,
            "equipment_names": names,
            "errors": errors,
            "results": results,
            "query": query,
        },
        status_code=422 if errors else 200,
    )
