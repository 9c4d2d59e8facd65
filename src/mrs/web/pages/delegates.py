"""Everyone logged in: their delegates (代理予約), who may book, edit and cancel for them
(add by user id or name, remove), and the people they may book for."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.responses import Response

from mrs.reservations import delegation
from mrs.web.dependencies import Page, PageContext, PageUser
from mrs.web.forms import MAX_VALUE_LENGTH, FormState, submit
from mrs.web.pages.common import done_message, redirect
from mrs.web.rendering import render

router = APIRouter()

PATH = "/account/delegates"


async def _page(page: PageContext, user_id: str, state: FormState) -> Response:
    found = await delegation.delegation_of(page.db, user_id=user_id, locale=page.locale)
    return render(
        page.request,
        "account/delegates.html",
        {
            "delegation": found,
            "max_delegates": delegation.MAX_DELEGATES,
            "values": state.values,
            "errors": state.errors,
            "done": done_message(page.request, page.locale),
        },
        status_code=state.status_code,
    )


@router.get(PATH)
async def delegates_page(page: Page, user: PageUser) -> Response:
    return await _page(page, user.user_id, FormState(locale=page.locale))


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip()[:MAX_VALUE_LENGTH] if isinstance(value, str) else ""


def _person(form: FormData, state: FormState) -> str | None:
    person = _text(form, "person")
    state.values = {"person": person}
    if not person:
        state.add_error("person", "This field is required.")
        return None
    return person


def _removed(form: FormData, state: FormState) -> str | None:
    return _text(form, "user_id") or None


async def _current(page: PageContext, user_id: str) -> list[str]:
    found = await delegation.delegation_of(page.db, user_id=user_id, locale=page.locale)
    return [person.user_id for person in found.delegates]


@router.post(PATH)
async def add_delegate(page: Page, user: PageUser) -> Response:
    """Add the person named (a user id, or a name that only one user has)."""

    async def add(person: str) -> Response:
        delegate_id = await delegation.person_named(page.db, text=person)
        await delegation.replace_delegates(
            page.db,
            principal_id=user.user_id,
            user_ids=[*await _current(page, user.user_id), delegate_id],
            now=page.now,
            locale=page.locale,
        )
        return redirect(f"{PATH}?done=delegate_added")

    async def again(state: FormState) -> Response:
        return await _page(page, user.user_id, state)

    return await submit(
        page.request, locale=page.locale, parse=_person, action=add, render_again=again
    )


@router.post(f"{PATH}/remove")
async def remove_delegate(page: Page, user: PageUser) -> Response:
    """Take a delegate off: they may no longer book for me, from now on."""

    async def remove(delegate_id: str) -> Response:
        current = await _current(page, user.user_id)
        await delegation.replace_delegates(
            page.db,
            principal_id=user.user_id,
            user_ids=[each for each in current if each != delegate_id],
            now=page.now,
            locale=page.locale,
        )
        return redirect(f"{PATH}?done=delegate_removed")

    async def again(state: FormState) -> Response:
        return await _page(page, user.user_id, state)

    return await submit(
        page.request, locale=page.locale, parse=_removed, action=remove, render_again=again
    )
