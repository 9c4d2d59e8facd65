"""Administrators: rooms (create, edit: details, description, equipment, opening rule)
and the dates they are open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.responses import Response

from mrs.http.types import RoomIdPath
from mrs.reservations import closing
from mrs.reservations.errors import RoomHasReservations
from mrs.rooms import equipment as rooms_equipment
from mrs.rooms import opening as rooms_opening
from mrs.rooms import service as rooms_service
from mrs.rooms.rules import OpeningRule
from mrs.rooms.schemas import (
    MAX_ROOM_EQUIPMENT,
    OpeningRuleWrite,
    RoomCreate,
    RoomOpening,
    RoomUpdate,
)
from mrs.settings import Settings
from mrs.wallclock import MINUTES_PER_DAY, format_minute
from mrs.web.dependencies import Page, PageAdmin, PageContext
from mrs.web.forms import FormState, submit, text_values
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

# The opening rule's weekdays, short: the room's page also has the dates form, whose
# checkboxes carry the full names.
WEEKDAY_SHORT_NAMES = (
    N_("Mon"),
    N_("Tue"),
    N_("Wed"),
    N_("Thu"),
    N_("Fri"),
    N_("Sat"),
    N_("Sun"),
)

ROOM_FIELDS = ("room_name", "capacity", "location", "description")
RULE_TIMES = ("start_time", "end_time")
RoomForm = TypeVar("RoomForm", RoomCreate, RoomUpdate)
_WEEKDAY_VALUES = frozenset("1234567")


def _rule_values(rule: OpeningRule) -> dict[str, Any]:
    """An opening rule as its form shows it."""
    return {
        "open_weekdays": sorted(rule.weekdays),
        "start_time": format_minute(rule.open_minute),
        "end_time": format_minute(rule.close_minute),
        "auto_open": rule.auto_open,
        "closed_on_holidays": rule.closed_on_holidays,
    }


def _room_values(form: FormData) -> dict[str, Any]:
    """The room form as typed: text fields, the equipment ticked, and the opening rule's
    weekdays, times and switches. A form without the description or without the rule's
    fields (a client posting only some) leaves those out: they keep their value."""
    values: dict[str, Any] = text_values(form, (*ROOM_FIELDS, *RULE_TIMES))
    values["equipment"] = sorted(
        {code for code in form.getlist("equipment") if isinstance(code, str)}
    )[:MAX_ROOM_EQUIPMENT]
    if "description" not in form:
        del values["description"]
    if RULE_TIMES[0] not in form:
        return {key: value for key, value in values.items() if key not in RULE_TIMES}
    values["open_weekdays"] = sorted(
        {int(day) for day in form.getlist("open_weekdays") if day in _WEEKDAY_VALUES}
    )
    values["auto_open"] = form.get("auto_open") == "on"
    values["closed_on_holidays"] = form.get("closed_on_holidays") == "on"
    return values


def _room_payload(values: dict[str, Any]) -> dict[str, Any]:
    """Form values to the schema's types: empty optional fields mean "none"."""
    payload = {
        "room_name": values["room_name"],
        "capacity": values["capacity"] or None,
        "location": values["location"] or None,
        "equipment": values["equipment"],
    }
    if "description" in values:
        payload["description"] = values["description"]
    return payload


def _parse_room(model: type[RoomForm], values: dict[str, Any], state: FormState) -> RoomForm | None:
    """The room form checked by `model` (RoomCreate or RoomUpdate), with its opening rule
    when the form carries one; None (the messages recorded) when refused."""
    rule = None
    if RULE_TIMES[0] in values:
        if not values["open_weekdays"]:
            state.add_error("open_weekdays", N_("Choose at least one weekday."))
        rule = state.validate(
            OpeningRuleWrite,
            {
                "start_time": values["start_time"],
                "end_time": values["end_time"],
                "auto_open": values["auto_open"],
                "closed_on_holidays": values["closed_on_holidays"],
            }
            | ({"weekdays": values["open_weekdays"]} if values["open_weekdays"] else {}),
        )
    payload = _room_payload(values)
    for switch in ("active", "has_feed"):
        if switch in values:
            payload[switch] = values[switch]
    body = state.validate(model, payload)
    if body is None or state.errors:
        return None
    return body if rule is None else body.model_copy(update={"opening": rule})


def _time_choices(settings: Settings) -> list[str]:
    """The times the opening rule's selects offer: every slot boundary of the day."""
    return [
        format_minute(minute) for minute in range(0, MINUTES_PER_DAY + 1, settings.slot_minutes)
    ]


async def _room_form_context(page: PageContext) -> dict[str, Any]:
    """What the room form needs besides its values: the equipment to tick, the times."""
    return {
        "equipment": await rooms_equipment.list_equipment(page.db),
        "time_choices": _time_choices(page.settings),
        "weekday_names": WEEKDAY_NAMES,
        "rule_weekday_names": WEEKDAY_SHORT_NAMES,
    }


async def _admin_rooms_page(page: PageContext, state: FormState) -> Response:
    """The rooms, and the form for a new one (`state`: what was typed, the messages; the
    site's rule for new rooms where it says nothing)."""
    return render(
        page.request,
        "admin/rooms.html",
        {
            "rooms": await rooms_service.list_rooms(page.db),
            "values": _new_room_values(page.settings) | state.values,
            "errors": state.errors,
            "done": done_message(page.request, page.locale),
        }
        | await _room_form_context(page),
        status_code=state.status_code,
    )


@router.get("/admin/rooms")
async def admin_rooms(page: Page, _admin: PageAdmin) -> Response:
    """The rooms, and the form for a new one with the site's opening rule for new rooms."""
    return await _admin_rooms_page(page, FormState(locale=page.locale))


def _new_room_values(settings: Settings) -> dict[str, Any]:
    """The new-room form before anything is typed: the site's rule for new rooms."""
    values: dict[str, Any] = dict.fromkeys(ROOM_FIELDS, "") | {"equipment": []}
    return values | _rule_values(rooms_opening.default_rule(settings))


def _parse_new_room(form: FormData, state: FormState) -> RoomCreate | None:
    state.values = _room_values(form)
    return _parse_room(RoomCreate, state.values, state)


@router.post("/admin/rooms")
async def admin_create_room(page: Page, admin: PageAdmin) -> Response:
    async def create(body: RoomCreate) -> Response:
        room = await rooms_service.add_room(
            page.db,
            settings=page.settings,
            today=site_now(page.now, page.settings).date(),
            room_name=body.room_name,
            capacity=body.capacity,
            location=body.location,
            description=body.description,
            equipment=body.equipment,
            opening_changes=body.opening.changes() if body.opening is not None else None,
            actor_id=admin.user_id,
            now=page.now,
        )
        done = "room_created_auto" if room.opening.auto_open else "room_created"
        return redirect(f"/admin/rooms/{room.room_id}?done={done}")

    async def again(state: FormState) -> Response:
        return await _admin_rooms_page(page, state)

    return await submit(
        page.request, locale=page.locale, parse=_parse_new_room, action=create, render_again=again
    )


def _default_opening(today: date) -> dict[str, Any]:
    return {
        "from_date": today.isoformat(),
        "to_date": (today + timedelta(days=27)).isoformat(),
        "weekdays": [1, 2, 3, 4, 5],
    }


@dataclass(frozen=True)
class RoomForms:
    """The two forms of a room's page as shown again: one of them was just refused."""

    room: FormState | None = None
    opening: FormState | None = None


async def _admin_room_page(page: PageContext, room_id: int, forms: RoomForms) -> Response:
    """A room: its details form and its open dates over the next weeks, with the form
    that opens or closes dates (and the reservations in the way of a refused close)."""
    today = site_now(page.now, page.settings).date()
    room = await rooms_service.get_room(page.db, room_id=room_id)
    horizon = today + timedelta(weeks=ADMIN_DATES_WEEKS)
    open_days = await rooms_service.open_dates(
        page.db, room_id=room_id, from_date=today, to_date=horizon
    )
    current = {
        "room_name": room.room_name,
        "capacity": "" if room.capacity is None else str(room.capacity),
        "location": room.location or "",
        "description": room.description,
        "equipment": room.equipment,
        "active": room.active,
        "has_feed": room.has_feed,
    } | _rule_values(room.opening)
    details = forms.room or FormState(locale=page.locale)
    opening = forms.opening or FormState(locale=page.locale, values=_default_opening(today))
    refusal = opening.refusal
    blocking = (
        # Dates as the pages write them; the links need the ISO form too.
        [detail | {"day": date.fromisoformat(detail["date"])} for detail in refusal.details or []]
        if isinstance(refusal, RoomHasReservations)
        else []
    )
    return render(
        page.request,
        "admin/room.html",
        {
            "room": room,
            "values": current | details.values,
            "errors": details.errors,
            "opening": opening.values,
            "opening_errors": opening.errors,
            "blocking": blocking,
            "open_days": open_days,
            "horizon": horizon,
            "today": today,
            "done": done_message(page.request, page.locale),
        }
        | await _room_form_context(page),
        status_code=max(details.status_code, opening.status_code),
    )


@router.get("/admin/rooms/{room_id}")
async def admin_room(room_id: RoomIdPath, page: Page, _admin: PageAdmin) -> Response:
    return await _admin_room_page(page, room_id, RoomForms())


def _parse_room_changes(form: FormData, state: FormState) -> RoomUpdate | None:
    state.values = _room_values(form) | {
        "active": form.get("active") == "on",
        "has_feed": form.get("has_feed") == "on",
    }
    return _parse_room(RoomUpdate, state.values, state)


@router.post("/admin/rooms/{room_id}")
async def admin_update_room(room_id: RoomIdPath, page: Page, admin: PageAdmin) -> Response:
    async def save(body: RoomUpdate) -> Response:
        changes = body.model_dump(exclude={"opening"})
        if body.opening is not None:
            changes["opening"] = body.opening.changes()
        await rooms_service.change_room(
            page.db,
            settings=page.settings,
            today=site_now(page.now, page.settings).date(),
            room_id=room_id,
            changes=changes,
            actor_id=admin.user_id,
            now=page.now,
        )
        return redirect(f"/admin/rooms/{room_id}?done=room_saved")

    async def again(state: FormState) -> Response:
        return await _admin_room_page(page, room_id, RoomForms(room=state))

    return await submit(
        page.request,
        locale=page.locale,
        parse=_parse_room_changes,
        action=save,
        render_again=again,
    )


def _parse_dates(form: FormData, state: FormState) -> tuple[RoomOpening, bool] | None:
    """The dates to open or close (and whether to close them)."""
    values = text_values(form, ("from_date", "to_date", "action"))
    weekdays = sorted({int(day) for day in form.getlist("weekdays") if day in _WEEKDAY_VALUES})
    state.values = {
        "from_date": values["from_date"],
        "to_date": values["to_date"],
        "weekdays": weekdays,
    }
    if not weekdays:
        state.add_error("weekdays", N_("Choose at least one weekday."))
    body = state.validate(RoomOpening, state.values)
    return None if body is None else (body, values["action"] == "close")


@router.post("/admin/rooms/{room_id}/dates")
async def admin_room_dates(room_id: RoomIdPath, page: Page, admin: PageAdmin) -> Response:
    """Open or close the room on a date range, optionally only on some weekdays. A close
    refused because of reservations lists them; a range that runs backwards or is too
    long is said on top of the form."""

    async def change(parsed: tuple[RoomOpening, bool]) -> Response:
        body, close = parsed
        use_case = closing.close_room if close else rooms_service.open_room
        changed = await use_case(
            page.db,
            room_id=room_id,
            from_date=body.from_date,
            to_date=body.to_date,
            weekdays=body.weekdays,
            actor_id=admin.user_id,
            now=page.now,
        )
        done = "closed" if close else "opened"
        return redirect(f"/admin/rooms/{room_id}?done={done}&n={len(changed)}")

    async def again(state: FormState) -> Response:
        return await _admin_room_page(page, room_id, RoomForms(opening=state))

    return await submit(
        page.request, locale=page.locale, parse=_parse_dates, action=change, render_again=again
    )
