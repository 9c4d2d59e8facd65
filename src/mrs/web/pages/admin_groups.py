"""Administrators: groups (departments) of users — the list with member counts, add,
rename, delete after a confirmation page, and each group's members (a searchable,
paged list of checkboxes)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from starlette.datastructures import FormData
from starlette.responses import Response

from mrs.accounts import groups
from mrs.accounts import users as accounts_users
from mrs.accounts.schemas import GroupCreate, GroupUpdate
from mrs.web.dependencies import Page, PageAdmin, PageContext
from mrs.web.forms import FormState, no_fields, submit, text_values
from mrs.web.i18n import N_
from mrs.web.pages.common import done_message, redirect
from mrs.web.rendering import render

router = APIRouter()

GroupIdPath = Annotated[int, Path(ge=1, le=2**62)]
FIELDS = ("name", "description")
# People offered on one page of a group's members: each is a form field, and forms are
# bounded (mrs.web.forms.MAX_FIELDS).
MEMBERS_PAGE_SIZE = 25
# The longest user id the members form accepts (the ids' own rule allows 32).
MAX_USER_ID_LENGTH = 64


def _page_number(raw: str | None) -> int:
    """The ?page= of the members list: 1 when absent or not a small positive number."""
    return int(raw) if raw and raw.isdigit() and 0 < len(raw) < 6 and int(raw) > 0 else 1


async def _list_page(page: PageContext, state: FormState) -> Response:
    """The groups with their member counts, and the form adding one."""
    return render(
        page.request,
        "admin/groups.html",
        {
            "items": await groups.list_groups(page.db),
            "values": state.values,
            "errors": state.errors,
            "done": done_message(page.request, page.locale),
        },
        status_code=state.status_code,
    )


@router.get("/admin/groups")
async def group_list(page: Page, admin: PageAdmin) -> Response:
    return await _list_page(page, FormState(locale=page.locale, values=dict.fromkeys(FIELDS, "")))


def _parse_new(form: FormData, state: FormState) -> GroupCreate | None:
    state.values = text_values(form, FIELDS)
    return state.validate(GroupCreate, state.values)


@router.post("/admin/groups")
async def group_add(page: Page, admin: PageAdmin) -> Response:
    async def add(body: GroupCreate) -> Response:
        group = await groups.create_group(
            page.db,
            name=body.name,
            description=body.description,
            now=page.now,
            actor_id=admin.user_id,
        )
        return redirect(f"/admin/groups/{group.group_id}/members?done=group_added")

    async def again(state: FormState) -> Response:
        return await _list_page(page, state)

    return await submit(
        page.request, locale=page.locale, parse=_parse_new, action=add, render_again=again
    )


async def _group_page(page: PageContext, group_id: int, state: FormState | None) -> Response:
    """One group: the form renaming it, and the ways to its members and to delete it."""
    detail = await groups.get_group(page.db, group_id=group_id)
    shown = state or FormState(
        locale=page.locale,
        values={"name": detail.group.name, "description": detail.group.description},
    )
    return render(
        page.request,
        "admin/group.html",
        {
            "group": detail.group,
            "member_count": len(detail.member_ids),
            "values": shown.values,
            "errors": shown.errors,
        },
        status_code=shown.status_code,
    )


@router.get("/admin/groups/{group_id}")
async def group_item(group_id: GroupIdPath, page: Page, admin: PageAdmin) -> Response:
    return await _group_page(page, group_id, None)


def _parse_changes(form: FormData, state: FormState) -> GroupUpdate | None:
    state.values = text_values(form, FIELDS)
    return state.validate(GroupUpdate, state.values)


@router.post("/admin/groups/{group_id}")
async def group_rename(group_id: GroupIdPath, page: Page, admin: PageAdmin) -> Response:
    async def rename(body: GroupUpdate) -> Response:
        await groups.update_group(
            page.db,
            group_id=group_id,
            changes=body.model_dump(exclude_unset=True),
            actor_id=admin.user_id,
            now=page.now,
        )
        return redirect("/admin/groups?done=group_saved")

    async def again(state: FormState) -> Response:
        return await _group_page(page, group_id, state)

    return await submit(
        page.request, locale=page.locale, parse=_parse_changes, action=rename, render_again=again
    )


async def _delete_page(page: PageContext, group_id: int, state: FormState) -> Response:
    """Asks before deleting, saying how many members lose the group (the users stay)."""
    detail = await groups.get_group(page.db, group_id=group_id)
    return render(
        page.request,
        "admin/group_delete.html",
        {"group": detail.group, "member_count": len(detail.member_ids), "errors": state.errors},
        status_code=state.status_code,
    )


@router.get("/admin/groups/{group_id}/delete")
async def group_delete_confirm(group_id: GroupIdPath, page: Page, admin: PageAdmin) -> Response:
    return await _delete_page(page, group_id, FormState(locale=page.locale))


@router.post("/admin/groups/{group_id}/delete")
async def group_delete(group_id: GroupIdPath, page: Page, admin: PageAdmin) -> Response:
    async def delete(_: bool) -> Response:
        await groups.delete_group(page.db, group_id=group_id, actor_id=admin.user_id, now=page.now)
        return redirect("/admin/groups?done=group_deleted")

    async def again(state: FormState) -> Response:
        return await _delete_page(page, group_id, state)

    return await submit(
        page.request, locale=page.locale, parse=no_fields, action=delete, render_again=again
    )


async def _members_page(page: PageContext, group_id: int, state: FormState) -> Response:
    """One page of the people who may be members (searchable), ticked when they are."""
    request = page.request
    detail = await groups.get_group(page.db, group_id=group_id)
    search = request.query_params.get("q", "")[: accounts_users.MAX_SEARCH_LENGTH].strip()
    number = _page_number(request.query_params.get("page"))
    people, total = await groups.member_candidates(
        page.db,
        group_id=group_id,
        search=search,
        offset=(number - 1) * MEMBERS_PAGE_SIZE,
        limit=MEMBERS_PAGE_SIZE,
    )
    last_page = max(1, -(-total // MEMBERS_PAGE_SIZE))
    if number > last_page:
        number = last_page
        people, total = await groups.member_candidates(
            page.db,
            group_id=group_id,
            search=search,
            offset=(number - 1) * MEMBERS_PAGE_SIZE,
            limit=MEMBERS_PAGE_SIZE,
        )
    # After a refused save, the boxes show what was ticked, not what is stored.
    ticked = state.values.get("members")
    return render(
        request,
        "admin/group_members.html",
        {
            "group": detail.group,
            "people": people,
            "members": set(ticked if ticked is not None else detail.member_ids),
            "member_count": len(detail.member_ids),
            "search": search,
            "page": number,
            "last_page": last_page,
            "total": total,
            "errors": state.errors,
            "done": done_message(request, page.locale),
        },
        status_code=state.status_code,
    )


@router.get("/admin/groups/{group_id}/members")
async def group_members(group_id: GroupIdPath, page: Page, admin: PageAdmin) -> Response:
    return await _members_page(page, group_id, FormState(locale=page.locale))


def _ids(values: list[str]) -> list[str]:
    return [value.strip() for value in values if value.strip()]


def _parse_members(form: FormData, state: FormState) -> tuple[list[str], list[str]] | None:
    """The users this page showed (one hidden field, space-separated) and those ticked."""
    raw_shown = form.get("shown")
    shown = _ids(raw_shown.split()) if isinstance(raw_shown, str) else []
    chosen = _ids([value for value in form.getlist("member") if isinstance(value, str)])
    state.values = {"members": chosen}
    if len(shown) > MEMBERS_PAGE_SIZE or any(
        len(user_id) > MAX_USER_ID_LENGTH or "\x00" in user_id for user_id in (*shown, *chosen)
    ):
        state.add_error("", N_("The form was not sent as this page made it. Please try again."))
        return None
    return shown, chosen


@router.post("/admin/groups/{group_id}/members")
async def group_members_save(group_id: GroupIdPath, page: Page, admin: PageAdmin) -> Response:
    async def save(parsed: tuple[list[str], list[str]]) -> Response:
        shown, chosen = parsed
        await groups.change_members(
            page.db,
            group_id=group_id,
            shown=shown,
            chosen=chosen,
            actor_id=admin.user_id,
            now=page.now,
        )
        query = page.request.url.query
        return redirect(
            f"/admin/groups/{group_id}/members?{query + '&' if query else ''}done=members_saved"
        )

    async def again(state: FormState) -> Response:
        return await _members_page(page, group_id, state)

    return await submit(
        page.request, locale=page.locale, parse=_parse_members, action=save, render_again=again
    )
