"""Administrators' pages: a room's booking policy (`/admin/rooms/{id}/policy`) and the
quotas (`/admin/quotas`: each group's, and the overrides for single users). The same
services and schemas as the API; rendered like every other page (ja/en, the page guard)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from starlette.datastructures import FormData
from starlette.responses import Response

from mrs.accounts import groups as accounts_groups
from mrs.http.types import RoomIdPath
from mrs.i18n import translate
from mrs.policies import quotas, service
from mrs.policies.rules import ROLES, Quota
from mrs.policies.schemas import QuotaWrite, RoomPolicyWrite, UserQuotaWrite
from mrs.reservations import approvals
from mrs.rooms import service as rooms_service
from mrs.web.dependencies import Page, PageAdmin, PageContext
from mrs.web.forms import FormState, no_fields, submit, text_values
from mrs.web.i18n import N_
from mrs.web.pages.common import redirect
from mrs.web.rendering import render

router = APIRouter()

GroupIdPath = Annotated[int, Path(ge=1, le=2**62)]
UserIdPath = Annotated[str, Path(min_length=1, max_length=64)]

LIMIT_FIELDS = ("max_minutes", "max_days_ahead", "min_notice_minutes", "checkin_grace_minutes")
QUOTA_FIELDS = ("max_future_reservations", "max_hours_per_week")
MAX_MANAGERS = 100
DONE = {
    "policy_saved": N_("The room's policy is saved."),
    "managers_saved": N_("The room's managers are saved."),
    "quota_saved": N_("The quota is saved."),
    "override_removed": N_("The override is removed."),
}


def _done(page: PageContext) -> str | None:
    msgid = DONE.get(page.request.query_params.get("done", ""))
    return translate(page.locale, msgid) if msgid else None


def _numbers(values: dict[str, str], names: tuple[str, ...]) -> dict[str, Any]:
    """Empty boxes are null (the default); anything else is for the schema to judge."""
    return {name: values[name] or None for name in names}


def _policy_values(view: service.PolicyView) -> dict[str, Any]:
    values = view.values
    shown: dict[str, Any] = {
        name: "" if getattr(values, name) is None else str(getattr(values, name))
        for name in LIMIT_FIELDS
    }
    shown.update(
        allowed_roles=list(values.allowed_roles),
        allowed_group_ids=[str(each) for each in values.allowed_group_ids],
        approval_required=values.approval_required,
        checkin_required=values.checkin_required,
    )
    return shown


async def _policy_page(
    page: PageContext,
    room_id: int,
    state: FormState | None,
    managers_state: FormState | None = None,
) -> Response:
    room = await rooms_service.get_room(page.db, room_id=room_id)
    managers = managers_state or FormState(
        locale=page.locale,
        values={"user_ids": "\n".join(await approvals.managers_of(page.db, room_id=room_id))},
    )
    view = await service.get_policy(page.db, settings=page.settings, room_id=room_id)
    shown = state or FormState(locale=page.locale, values=_policy_values(view))
    return render(
        page.request,
        "admin/room_policy.html",
        {
            "room": room,
            "effective": view.effective,
            "groups": await accounts_groups.list_groups(page.db),
            "roles": ROLES,
            "values": shown.values,
            "errors": shown.errors,
            "managers": managers.values,
            "managers_errors": managers.errors,
            "done": _done(page),
        },
        status_code=managers_state.status_code if managers_state else shown.status_code,
    )


@router.get("/admin/rooms/{room_id}/policy")
async def policy_page(room_id: RoomIdPath, page: Page, admin: PageAdmin) -> Response:
    return await _policy_page(page, room_id, None)


def _parse_policy(form: FormData, state: FormState) -> RoomPolicyWrite | None:
    values: dict[str, Any] = dict(text_values(form, LIMIT_FIELDS))
    values["allowed_roles"] = [str(each) for each in form.getlist("allowed_roles")][:10]
    values["allowed_group_ids"] = [str(each) for each in form.getlist("allowed_group_ids")][:100]
    values["approval_required"] = form.get("approval_required") == "on"
    values["checkin_required"] = form.get("checkin_required") == "on"
    state.values = values
    return state.validate(
        RoomPolicyWrite,
        {
            **_numbers(values, LIMIT_FIELDS),
            "allowed_roles": values["allowed_roles"],
            "allowed_group_ids": values["allowed_group_ids"],
            "approval_required": values["approval_required"],
            "checkin_required": values["checkin_required"],
        },
    )


@router.post("/admin/rooms/{room_id}/policy")
async def policy_save(room_id: RoomIdPath, page: Page, admin: PageAdmin) -> Response:
    async def save(body: RoomPolicyWrite) -> Response:
        await service.set_policy(
            page.db,
            settings=page.settings,
            room_id=room_id,
            values=service.PolicyValues(**body.model_dump()),
            actor_id=admin.user_id,
            now=page.now,
        )
        return redirect(f"/admin/rooms/{room_id}/policy?done=policy_saved")

    async def again(state: FormState) -> Response:
        return await _policy_page(page, room_id, state)

    return await submit(
        page.request, locale=page.locale, parse=_parse_policy, action=save, render_again=again
    )


def _parse_managers(form: FormData, state: FormState) -> list[str] | None:
    """The managers' user ids, one per line (or separated by commas or spaces)."""
    raw = text_values(form, ("user_ids",))["user_ids"]
    state.values = {"user_ids": raw}
    ids = [each for each in raw.replace(",", " ").split() if each]
    if len(ids) > MAX_MANAGERS:
        state.add_error("user_ids", N_("Name at most {max} managers."), max=MAX_MANAGERS)
    elif any(len(each) > 32 for each in ids):
        state.add_error("user_ids", N_("A user id has at most 32 characters."))
    return ids


@router.post("/admin/rooms/{room_id}/managers")
async def managers_save(room_id: RoomIdPath, page: Page, admin: PageAdmin) -> Response:
    async def save(user_ids: list[str]) -> Response:
        await approvals.set_managers(
            page.db, room_id=room_id, user_ids=user_ids, actor_id=admin.user_id, now=page.now
        )
        return redirect(f"/admin/rooms/{room_id}/policy?done=managers_saved")

    async def again(state: FormState) -> Response:
        return await _policy_page(page, room_id, None, state)

    return await submit(
        page.request, locale=page.locale, parse=_parse_managers, action=save, render_again=again
    )


def _shown(quota: Quota | None) -> dict[str, str]:
    quota = quota or Quota()
    return {
        name: "" if getattr(quota, name) is None else str(getattr(quota, name))
        for name in QUOTA_FIELDS
    }


async def _quotas_page(
    page: PageContext,
    state: FormState | None = None,
    group_state: tuple[int, FormState] | None = None,
) -> Response:
    group_quotas = await quotas.list_group_quotas(page.db)
    group_rows = []
    for item in await accounts_groups.list_groups(page.db):
        group_id = item.group.group_id
        mine = group_state[1] if group_state and group_state[0] == group_id else None
        group_rows.append(
            {
                "group": item.group,
                "shown": mine.values if mine else _shown(group_quotas.get(group_id)),
                "errors": mine.errors if mine else FormState(locale=page.locale).errors,
            }
        )
    shown = state or FormState(
        locale=page.locale, values={"user_id": "", "reason": "", **_shown(None)}
    )
    status = shown.status_code if state else (group_state[1].status_code if group_state else 200)
    return render(
        page.request,
        "admin/quotas.html",
        {
            "group_rows": group_rows,
            "overrides": await quotas.list_overrides(page.db),
            "site": _shown(
                Quota(
                    page.settings.policy_max_future_reservations,
                    page.settings.policy_max_hours_per_week,
                )
            ),
            "values": shown.values,
            "errors": shown.errors,
            "done": _done(page),
        },
        status_code=status,
    )


@router.get("/admin/quotas")
async def quotas_page(page: Page, admin: PageAdmin) -> Response:
    return await _quotas_page(page)


def _parse_group_quota(form: FormData, state: FormState) -> QuotaWrite | None:
    state.values = text_values(form, QUOTA_FIELDS)
    return state.validate(QuotaWrite, _numbers(state.values, QUOTA_FIELDS))


@router.post("/admin/quotas/groups/{group_id}")
async def group_quota_save(group_id: GroupIdPath, page: Page, admin: PageAdmin) -> Response:
    async def save(body: QuotaWrite) -> Response:
        await quotas.set_group_quota(
            page.db,
            group_id=group_id,
            quota=Quota(body.max_future_reservations, body.max_hours_per_week),
            actor_id=admin.user_id,
            now=page.now,
        )
        return redirect("/admin/quotas?done=quota_saved")

    async def again(state: FormState) -> Response:
        return await _quotas_page(page, group_state=(group_id, state))

    return await submit(
        page.request, locale=page.locale, parse=_parse_group_quota, action=save, render_again=again
    )


def _parse_override(form: FormData, state: FormState) -> tuple[str, UserQuotaWrite] | None:
    state.values = text_values(form, ("user_id", "reason", *QUOTA_FIELDS))
    if not state.values["user_id"]:
        state.add_error("user_id", "This field is required.")
    body = state.validate(
        UserQuotaWrite, {**_numbers(state.values, QUOTA_FIELDS), "reason": state.values["reason"]}
    )
    if body is None or not state.values["user_id"]:
        return None
    return state.values["user_id"][:64], body


@router.post("/admin/quotas/users")
async def override_save(page: Page, admin: PageAdmin) -> Response:
    async def save(parsed: tuple[str, UserQuotaWrite]) -> Response:
        user_id, body = parsed
        await quotas.set_user_quota(
            page.db,
            settings=page.settings,
            user_id=user_id,
            quota=Quota(body.max_future_reservations, body.max_hours_per_week),
            reason=body.reason,
            actor_id=admin.user_id,
            now=page.now,
        )
        return redirect("/admin/quotas?done=quota_saved")

    async def again(state: FormState) -> Response:
        return await _quotas_page(page, state)

    return await submit(
        page.request, locale=page.locale, parse=_parse_override, action=save, render_again=again
    )


@router.post("/admin/quotas/users/{user_id}/delete")
async def override_delete(user_id: UserIdPath, page: Page, admin: PageAdmin) -> Response:
    async def remove(_: bool) -> Response:
        await quotas.delete_user_quota(
            page.db, settings=page.settings, user_id=user_id, actor_id=admin.user_id, now=page.now
        )
        return redirect("/admin/quotas?done=override_removed")

    async def again(state: FormState) -> Response:
        return await _quotas_page(page, state)

    return await submit(
        page.request, locale=page.locale, parse=no_fields, action=remove, render_again=again
    )
