"""Administrators: the equipment list (add, rename, delete after a confirmation page)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from starlette.datastructures import FormData
from starlette.responses import Response

from mrs.rooms import equipment as rooms_equipment
from mrs.rooms import service as rooms_service
from mrs.rooms.errors import EquipmentNotFound
from mrs.rooms.models import Equipment
from mrs.rooms.schemas import EquipmentCreate, EquipmentUpdate
from mrs.web.dependencies import Page, PageAdmin, PageContext
from mrs.web.forms import FormState, no_fields, submit, text_values
from mrs.web.pages.common import done_message, redirect
from mrs.web.rendering import render

router = APIRouter()

# Codes that cannot exist are refused at the edge (the schema's pattern).
CodePath = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,40}$")]
NAME_FIELDS = ("name_en", "name_ja")


async def _item(page: PageContext, code: str) -> Equipment:
    """The piece of equipment with this code, or 404."""
    for item in await rooms_equipment.list_equipment(page.db):
        if item.equipment_code == code:
            return item
    raise EquipmentNotFound(code=code)


async def _list_page(page: PageContext, state: FormState) -> Response:
    """The equipment list and the form adding to it (`state`: what was typed, messages)."""
    return render(
        page.request,
        "admin/equipment.html",
        {
            "items": await rooms_equipment.list_equipment(page.db),
            "values": state.values,
            "errors": state.errors,
            "done": done_message(page.request, page.locale),
        },
        status_code=state.status_code,
    )


@router.get("/admin/equipment")
async def equipment_list(page: Page, _admin: PageAdmin) -> Response:
    values = dict.fromkeys(("code", *NAME_FIELDS), "")
    return await _list_page(page, FormState(locale=page.locale, values=values))


def _parse_new(form: FormData, state: FormState) -> EquipmentCreate | None:
    state.values = text_values(form, ("code", *NAME_FIELDS))
    return state.validate(EquipmentCreate, state.values)


@router.post("/admin/equipment")
async def equipment_add(page: Page, admin: PageAdmin) -> Response:
    async def add(body: EquipmentCreate) -> Response:
        await rooms_equipment.create_equipment(
            page.db,
            code=body.code,
            name_en=body.name_en,
            name_ja=body.name_ja,
            now=page.now,
            actor_id=admin.user_id,
        )
        return redirect("/admin/equipment?done=equipment_added")

    async def again(state: FormState) -> Response:
        return await _list_page(page, state)

    return await submit(
        page.request, locale=page.locale, parse=_parse_new, action=add, render_again=again
    )


async def _item_page(page: PageContext, code: str, state: FormState | None) -> Response:
    """One piece of equipment: the form renaming it, and the way to delete it."""
    item = await _item(page, code)
    shown = state or FormState(
        locale=page.locale, values={"name_en": item.name_en, "name_ja": item.name_ja}
    )
    return render(
        page.request,
        "admin/equipment_item.html",
        {"item": item, "values": shown.values, "errors": shown.errors},
        status_code=shown.status_code,
    )


@router.get("/admin/equipment/{code}")
async def equipment_item(code: CodePath, page: Page, _admin: PageAdmin) -> Response:
    return await _item_page(page, code, None)


def _parse_names(form: FormData, state: FormState) -> EquipmentUpdate | None:
    state.values = text_values(form, NAME_FIELDS)
    return state.validate(EquipmentUpdate, state.values)


@router.post("/admin/equipment/{code}")
async def equipment_rename(code: CodePath, page: Page, admin: PageAdmin) -> Response:
    async def rename(body: EquipmentUpdate) -> Response:
        await rooms_equipment.update_equipment(
            page.db, code=code, changes=body.model_dump(exclude_unset=True), actor_id=admin.user_id
        )
        return redirect("/admin/equipment?done=equipment_saved")

    async def again(state: FormState) -> Response:
        return await _item_page(page, code, state)

    return await submit(
        page.request, locale=page.locale, parse=_parse_names, action=rename, render_again=again
    )


async def _delete_page(page: PageContext, code: str, state: FormState) -> Response:
    """Asks before deleting, naming the rooms that offer it (they lose it too)."""
    item = await _item(page, code)
    offering = [room for room in await rooms_service.list_rooms(page.db) if code in room.equipment]
    return render(
        page.request,
        "admin/equipment_delete.html",
        {"item": item, "rooms": offering, "errors": state.errors},
        status_code=state.status_code,
    )


@router.get("/admin/equipment/{code}/delete")
async def equipment_delete_confirm(code: CodePath, page: Page, _admin: PageAdmin) -> Response:
    return await _delete_page(page, code, FormState(locale=page.locale))


@router.post("/admin/equipment/{code}/delete")
async def equipment_delete(code: CodePath, page: Page, admin: PageAdmin) -> Response:
    async def delete(_: bool) -> Response:
        await rooms_equipment.delete_equipment(page.db, code=code, actor_id=admin.user_id)
        return redirect("/admin/equipment?done=equipment_deleted")

    async def again(state: FormState) -> Response:
        return await _delete_page(page, code, state)

    return await submit(
        page.request, locale=page.locale, parse=no_fields, action=delete, render_again=again
    )
