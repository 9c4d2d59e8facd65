"""Everyone logged in: changing the password and seeing / ending one's sessions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from starlette.datastructures import FormData
from starlette.responses import Response

from mrs.accounts import login, session_cookie, sessions, users
from mrs.accounts.dependencies import AuthNowDep
from mrs.accounts.schemas import PasswordChange
from mrs.accounts.sessions import AuthenticatedUser
from mrs.web.dependencies import Page, PageContext, PageUser
from mrs.web.forms import FormState, no_fields, submit
from mrs.web.i18n import N_
from mrs.web.pages.common import done_message, redirect
from mrs.web.pages.registration import PASSWORD_RULES, password_value
from mrs.web.rendering import render

router = APIRouter()

# Session ids are URL-safe tokens; anything else cannot be one.
SessionIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


async def _password_page(page: PageContext, state: FormState, *, user_id: str) -> Response:
    record = await users.get_user(page.db, user_id=user_id)
    return render(
        page.request,
        "account/password.html",
        {
            "errors": state.errors,
            "rules": PASSWORD_RULES,
            # The script checks that the new password contains neither (as the server does).
            "own_email": record.email if record else "",
            "done": done_message(page.request, page.locale),
        },
        status_code=state.status_code,
    )


@router.get("/account/password")
async def password_form(page: Page, user: PageUser) -> Response:
    return await _password_page(page, FormState(locale=page.locale), user_id=user.user_id)


def _parse_password_change(form: FormData, state: FormState) -> PasswordChange | None:
    new = password_value(form.get("new_password"))
    body = state.validate(
        PasswordChange,
        {"current_password": password_value(form.get("current_password")), "new_password": new},
    )
    if new and new != password_value(form.get("new_password_confirm")):
        state.add_error("new_password_confirm", N_("The two passwords do not match."))
    return body


@router.post("/account/password")
async def password_submit(page: Page, user: PageUser, now: AuthNowDep) -> Response:
    """Change the password; every other session ends and this device gets a fresh cookie.
    A wrong current password (or too many of them) and a password the policy refuses are
    said next to their field."""

    async def change(body: PasswordChange) -> Response:
        opened = await login.change_password(
            page.db,
            page.settings,
            user_id=user.user_id,
            current_password=body.current_password,
            new_password=body.new_password,
            now=now,
            client_address=session_cookie.client_address(page.request),
            user_agent=page.request.headers.get("user-agent"),
        )
        response = redirect("/account/password?done=password_changed")
        issued = session_cookie.issue_session_token(page.settings, opened, now=now)
        session_cookie.set_session_cookie(page.request, response, issued)
        return response

    async def again(state: FormState) -> Response:
        return await _password_page(page, state, user_id=user.user_id)

    return await submit(
        page.request,
        locale=page.locale,
        parse=_parse_password_change,
        action=change,
        render_again=again,
    )


async def _sessions_page(
    page: PageContext, state: FormState, *, user: AuthenticatedUser, now: datetime
) -> Response:
    open_sessions = await sessions.list_sessions(
        page.db, page.settings, user_id=user.user_id, now=now
    )
    # This device first, then the others newest first (the sort is stable).
    open_sessions.sort(key=lambda info: info.session_id != user.session_id)
    return render(
        page.request,
        "account/sessions.html",
        {
            "sessions": open_sessions,
            "current": user.session_id,
            "error": state.errors.form,
            "done": done_message(page.request, page.locale),
        },
        status_code=state.status_code,
    )


@router.get("/account/sessions")
async def my_sessions(page: Page, user: PageUser, now: AuthNowDep) -> Response:
    """Where the user is logged in, this device marked."""
    return await _sessions_page(page, FormState(locale=page.locale), user=user, now=now)


async def _end_sessions(
    page: PageContext,
    user: AuthenticatedUser,
    now: datetime,
    end: Callable[[], Awaitable[Response]],
) -> Response:
    """Run a button that ends sessions; a refusal is explained on the sessions page."""

    async def again(state: FormState) -> Response:
        return await _sessions_page(page, state, user=user, now=now)

    return await submit(
        page.request,
        locale=page.locale,
        parse=no_fields,
        action=lambda _: end(),
        render_again=again,
    )


@router.post("/account/sessions/end-others")
async def end_other_sessions(page: Page, user: PageUser, now: AuthNowDep) -> Response:
    async def end() -> Response:
        ended = await sessions.end_other_sessions(
            page.db, user_id=user.user_id, keep=user.session_id, now=now
        )
        return redirect(f"/account/sessions?done=sessions_ended&n={ended}")

    return await _end_sessions(page, user, now, end)


@router.post("/account/sessions/{session_id}/end")
async def end_one_session(
    session_id: SessionIdPath, page: Page, user: PageUser, now: AuthNowDep
) -> Response:
    """End one session (already ended, or not the user's: said on the page); ending this
    device's own session is logging out."""

    async def end() -> Response:
        if session_id == user.session_id:
            response = redirect("/login?done=logged_out")
            await session_cookie.log_out(page.db, response, user=user, now=now)
            return response
        await sessions.end_session(page.db, user_id=user.user_id, session_id=session_id, now=now)
        return redirect("/account/sessions?done=session_ended")

    return await _end_sessions(page, user, now, end)
