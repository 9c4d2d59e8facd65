"""Administrators: pending registrations (approve / reject), users (disable, enable, end
sessions, send a password reset mail) and the state of the notification mail outbox."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Path
from starlette.datastructures import FormData
from starlette.responses import Response

from mrs.accounts import password_reset, registration, rules
from mrs.accounts import users as accounts_users
from mrs.accounts.dependencies import AuthNowDep
from mrs.accounts.models import Role
from mrs.accounts.password_reset_api import site_base
from mrs.notifications import service as mail_service
from mrs.notifications.models import MailState
from mrs.web.dependencies import Page, PageAdmin, PageContext
from mrs.web.forms import FormState, Parsed, no_fields, submit, text_values
from mrs.web.i18n import N_
from mrs.web.pages.common import done_message, redirect
from mrs.web.rendering import render

router = APIRouter()

# Ids that cannot exist are refused at the edge (a NUL byte would upset the database).
UserIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
RECENT_FAILURES = 10

# Statuses and roles as people read them (the stored values are English constants).
STATUS_LABELS = {
    "PENDING": N_("Waiting for approval"),
    "ACTIVE": N_("Active"),
    "REJECTED": N_("Rejected"),
    "DISABLED": N_("Disabled"),
}
ROLE_LABELS = {"USER": N_("User"), "ADMIN": N_("Administrator")}


# --- pending registrations -------------------------------------------------------------


async def _registrations_page(page: PageContext, state: FormState) -> Response:
    """Pending registrations; `state` holds typed reasons (by field) and the messages."""
    return render(
        page.request,
        "admin/registrations.html",
        {
            "pending": await registration.list_pending_users(page.db),
            "reasons": state.values,
            "errors": state.errors,
            "error": state.errors.form,
            "outbox": await mail_service.outbox_summary(page.db),
            "failures": await mail_service.list_outbox(
                page.db, state=MailState.FAILED, limit=RECENT_FAILURES
            ),
            "done": done_message(page.request, page.locale),
        },
        status_code=state.status_code,
    )


@router.get("/admin/registrations")
async def registrations(page: Page, _admin: PageAdmin) -> Response:
    return await _registrations_page(page, FormState(locale=page.locale))


async def _act(
    page: PageContext,
    *,
    parse: Callable[[FormData, FormState], Parsed | None],
    action: Callable[[Parsed], Awaitable[object]],
    done_url: str,
    list_page: Callable[[PageContext, FormState], Awaitable[Response]],
) -> Response:
    """Run an administrator's button on a list page: back to the list with its confirmation
    (and the count, when the action returns one), or the list again saying why not (e.g.
    decided meanwhile, disabling oneself, a user in the wrong state, unknown)."""

    async def act(parsed: Parsed) -> Response:
        result = await action(parsed)
        count = f"&n={result}" if isinstance(result, int) and not isinstance(result, bool) else ""
        return redirect(f"{done_url}{count}")

    async def again(state: FormState) -> Response:
        return await list_page(page, state)

    return await submit(
        page.request, locale=page.locale, parse=parse, action=act, render_again=again
    )


@router.post("/admin/registrations/{user_id}/approve")
async def approve(user_id: UserIdPath, page: Page, admin: PageAdmin, now: AuthNowDep) -> Response:
    return await _act(
        page,
        parse=no_fields,
        action=lambda _: registration.approve_user(
            page.db, user_id=user_id, admin_id=admin.user_id, now=now
        ),
        done_url="/admin/registrations?done=approved",
        list_page=_registrations_page,
    )


@router.post("/admin/registrations/{user_id}/reject")
async def reject(user_id: UserIdPath, page: Page, admin: PageAdmin, now: AuthNowDep) -> Response:
    def parse_reason(form: FormData, state: FormState) -> str | None:
        """The reason for the applicant ("" for none), shown again by its user's row."""
        field = f"reason-{user_id}"
        reason = text_values(form, ("reason",))["reason"]
        state.values = {field: reason}
        if len(reason) > rules.MAX_REASON_LENGTH:
            state.add_error(
                field, N_("Enter at most {max} characters."), max=rules.MAX_REASON_LENGTH
            )
        return reason

    return await _act(
        page,
        parse=parse_reason,
        action=lambda reason: registration.reject_user(
            page.db, user_id=user_id, admin_id=admin.user_id, now=now, reason=reason or None
        ),
        done_url="/admin/registrations?done=rejected",
        list_page=_registrations_page,
    )


# --- users -----------------------------------------------------------------------------


# Users listed on one page of the users list.
USERS_PAGE_SIZE = 50


def _page_number(raw: str | None) -> int:
    """The ?page= of the users list: 1 when absent or not a small positive number."""
    return int(raw) if raw and raw.isdigit() and 0 < len(raw) < 6 and int(raw) > 0 else 1


async def _users_page(page: PageContext, state: FormState) -> Response:
    request = page.request
    search = request.query_params.get("q", "")[: accounts_users.MAX_SEARCH_LENGTH].strip()
    total = await accounts_users.count_users(page.db, search=search)
    last_page = max(1, -(-total // USERS_PAGE_SIZE))
    number = min(_page_number(request.query_params.get("page")), last_page)
    return render(
        request,
        "admin/users.html",
        {
            "users": await accounts_users.list_users(
                page.db,
                search=search,
                offset=(number - 1) * USERS_PAGE_SIZE,
                limit=USERS_PAGE_SIZE,
            ),
            "search": search,
            "page": number,
            "last_page": last_page,
            "total": total,
            "status_labels": STATUS_LABELS,
            "role_labels": ROLE_LABELS,
            "error": state.errors.form,
            "done": done_message(request, page.locale),
        },
        status_code=state.status_code,
    )


@router.get("/admin/users")
async def users(page: Page, _admin: PageAdmin) -> Response:
    return await _users_page(page, FormState(locale=page.locale))


@router.post("/admin/users/{user_id}/disable")
async def disable(user_id: UserIdPath, page: Page, admin: PageAdmin, now: AuthNowDep) -> Response:
    return await _act(
        page,
        parse=no_fields,
        action=lambda _: accounts_users.disable_user(
            page.db, user_id=user_id, admin_id=admin.user_id, now=now
        ),
        done_url="/admin/users?done=disabled",
        list_page=_users_page,
    )


@router.post("/admin/users/{user_id}/enable")
async def enable(user_id: UserIdPath, page: Page, admin: PageAdmin, now: AuthNowDep) -> Response:
    return await _act(
        page,
        parse=no_fields,
        action=lambda _: accounts_users.enable_user(
            page.db, user_id=user_id, admin_id=admin.user_id, now=now
        ),
        done_url="/admin/users?done=enabled",
        list_page=_users_page,
    )


@router.post("/admin/users/{user_id}/end-sessions")
async def end_sessions(
    user_id: UserIdPath, page: Page, admin: PageAdmin, now: AuthNowDep
) -> Response:
    return await _act(
        page,
        parse=no_fields,
        action=lambda _: accounts_users.end_sessions(
            page.db, user_id=user_id, now=now, admin_id=admin.user_id
        ),
        done_url="/admin/users?done=user_sessions_ended",
        list_page=_users_page,
    )


@router.post("/admin/users/{user_id}/password-reset")
async def send_password_reset(
    user_id: UserIdPath, page: Page, admin: PageAdmin, now: AuthNowDep
) -> Response:
    """Mail the user a password reset link (the same mail as "forgot password")."""
    return await _act(
        page,
        parse=no_fields,
        action=lambda _: password_reset.send_reset(
            page.db,
            page.settings,
            user_id=user_id,
            admin_id=admin.user_id,
            base_url=site_base(page.settings, page.request),
            now=now,
        ),
        done_url="/admin/users?done=password_reset_sent",
        list_page=_users_page,
    )


def _parse_role(form: FormData, state: FormState) -> Role | None:
    try:
        return Role(str(form.get("role", "")))
    except ValueError:
        state.add_error("", N_("Choose a role."))
        return None


@router.post("/admin/users/{user_id}/role")
async def change_role(user_id: UserIdPath, page: Page, admin: PageAdmin) -> Response:
    return await _act(
        page,
        parse=_parse_role,
        action=lambda role: accounts_users.change_role(
            page.db, user_id=user_id, role=role, admin_id=admin.user_id, now=page.now
        ),
        done_url="/admin/users?done=role_changed",
        list_page=_users_page,
    )
