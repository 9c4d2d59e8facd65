"""Administrators: pending registrations (approve / reject), users (disable, enable, end
sessions) and the state of the notification mail outbox."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from mrs.accounts import registration, rules
from mrs.accounts import users as accounts_users
from mrs.accounts.dependencies import AuthNowDep
from mrs.accounts.models import Role
from mrs.db.engine import Database
from mrs.errors import DomainError
from mrs.http.dependencies import DatabaseDep, LocaleDep
from mrs.i18n import translate
from mrs.notifications import service as mail_service
from mrs.notifications.models import MailState
from mrs.web.dependencies import PageAdmin
from mrs.web.forms import FormErrors, read_form, text_values
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


async def _registrations_page(
    request: Request,
    db: Database,
    *,
    locale: str,
    reasons: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "admin/registrations.html",
        {
            "pending": await registration.list_pending_users(db),
            "reasons": reasons or {},
            "errors": errors or FormErrors(),
            "error": error,
            "outbox": await mail_service.outbox_summary(db),
            "failures": await mail_service.list_outbox(
                db, state=MailState.FAILED, limit=RECENT_FAILURES
            ),
            "done": done_message(request, locale),
        },
        status_code=status_code,
    )


@router.get("/admin/registrations")
async def registrations(
    request: Request, _admin: PageAdmin, db: DatabaseDep, locale: LocaleDep
) -> Response:
    return await _registrations_page(request, db, locale=locale)


@router.post("/admin/registrations/{user_id}/approve")
async def approve(
    request: Request,
    user_id: UserIdPath,
    admin: PageAdmin,
    db: DatabaseDep,
    locale: LocaleDep,
    now: AuthNowDep,
) -> Response:
    await read_form(request)  # the CSRF token travels in the form
    try:
        await registration.approve_user(db, user_id=user_id, admin_id=admin.user_id, now=now)
    except DomainError as exc:  # decided meanwhile (409) or gone (404)
        return await _registrations_page(
            request,
            db,
            locale=locale,
            error=translate(locale, exc.msgid, **exc.params),
            status_code=exc.status,
        )
    return redirect("/admin/registrations?done=approved")


@router.post("/admin/registrations/{user_id}/reject")
async def reject(
    request: Request,
    user_id: UserIdPath,
    admin: PageAdmin,
    db: DatabaseDep,
    locale: LocaleDep,
    now: AuthNowDep,
) -> Response:
    reason = text_values(await read_form(request), ("reason",))["reason"]
    field = f"reason-{user_id}"
    errors = FormErrors()
    if len(reason) > rules.MAX_REASON_LENGTH:
        errors.add(
            field, translate(locale, "Enter at most {max} characters.", max=rules.MAX_REASON_LENGTH)
        )
        return await _registrations_page(
            request, db, locale=locale, reasons={field: reason}, errors=errors, status_code=422
        )
    try:
        await registration.reject_user(
            db, user_id=user_id, admin_id=admin.user_id, now=now, reason=reason or None
        )
    except DomainError as exc:
        return await _registrations_page(
            request,
            db,
            locale=locale,
            error=translate(locale, exc.msgid, **exc.params),
            status_code=exc.status,
        )
    return redirect("/admin/registrations?done=rejected")


# --- users -----------------------------------------------------------------------------


# Users listed on one page of the users list.
USERS_PAGE_SIZE = 50


def _page_number(raw: str | None) -> int:
    """The ?page= of the users list: 1 when absent or not a small positive number."""
    return int(raw) if raw and raw.isdigit() and 0 < len(raw) < 6 and int(raw) > 0 else 1


async def _users_page(
    request: Request,
    db: Database,
    *,
    locale: str,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    search = request.query_params.get("q", "")[: accounts_users.MAX_SEARCH_LENGTH].strip()
    total = await accounts_users.count_users(db, search=search)
    last_page = max(1, -(-total // USERS_PAGE_SIZE))
    page = min(_page_number(request.query_params.get("page")), last_page)
    return render(
        request,
        "admin/users.html",
        {
            "users": await accounts_users.list_users(
                db, search=search, offset=(page - 1) * USERS_PAGE_SIZE, limit=USERS_PAGE_SIZE
            ),
            "search": search,
            "page": page,
            "last_page": last_page,
            "total": total,
            "status_labels": STATUS_LABELS,
            "role_labels": ROLE_LABELS,
            "error": error,
            "done": done_message(request, locale),
        },
        status_code=status_code,
    )


@router.get("/admin/users")
async def users(
    request: Request, _admin: PageAdmin, db: DatabaseDep, locale: LocaleDep
) -> Response:
    return await _users_page(request, db, locale=locale)


async def _user_action(
    request: Request,
    db: Database,
    locale: str,
    action: Callable[[], Awaitable[object]],
    done: str,
) -> Response:
    """Run an admin action on a user; refused actions are explained on the users page."""
    await read_form(request)  # the CSRF token travels in the form
    try:
        result = await action()
    except DomainError as exc:  # e.g. disabling oneself, a user in the wrong state, unknown
        return await _users_page(
            request,
            db,
            locale=locale,
            error=translate(locale, exc.msgid, **exc.params),
            status_code=exc.status,
        )
    count = f"&n={result}" if isinstance(result, int) else ""
    return redirect(f"/admin/users?done={done}{count}")


@router.post("/admin/users/{user_id}/disable")
async def disable(
    request: Request,
    user_id: UserIdPath,
    admin: PageAdmin,
    db: DatabaseDep,
    locale: LocaleDep,
    now: AuthNowDep,
) -> Response:
    return await _user_action(
        request,
        db,
        locale,
        lambda: accounts_users.disable_user(db, user_id=user_id, admin_id=admin.user_id, now=now),
        "disabled",
    )


@router.post("/admin/users/{user_id}/enable")
async def enable(
    request: Request,
    user_id: UserIdPath,
    admin: PageAdmin,
    db: DatabaseDep,
    locale: LocaleDep,
    now: AuthNowDep,
) -> Response:
    return await _user_action(
        request,
        db,
        locale,
        lambda: accounts_users.enable_user(db, user_id=user_id, admin_id=admin.user_id, now=now),
        "enabled",
    )


@router.post("/admin/users/{user_id}/end-sessions")
async def end_sessions(
    request: Request,
    user_id: UserIdPath,
    _admin: PageAdmin,
    db: DatabaseDep,
    locale: LocaleDep,
    now: AuthNowDep,
) -> Response:
    return await _user_action(
        request,
        db,
        locale,
        lambda: accounts_users.end_sessions(db, user_id=user_id, now=now),
        "user_sessions_ended",
    )


@router.post("/admin/users/{user_id}/role")
async def change_role(
    request: Request,
    user_id: UserIdPath,
    admin: PageAdmin,
    db: DatabaseDep,
    locale: LocaleDep,
) -> Response:
    form = await read_form(request)
    try:
        role = Role(str(form.get("role", "")))
    except ValueError:
        return await _users_page(
            request,
            db,
            locale=locale,
            error=translate(locale, "Choose a role."),
            status_code=422,
        )
    return await _user_action(
        request,
        db,
        locale,
        lambda: accounts_users.change_role(db, user_id=user_id, role=role, admin_id=admin.user_id),
        "role_changed",
    )
