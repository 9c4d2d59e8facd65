"""Everyone logged in: changing the password and seeing / ending one's sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from mrs.accounts import login, session_cookie, sessions, users
from mrs.accounts.dependencies import AuthNowDep
from mrs.accounts.schemas import PasswordChange
from mrs.accounts.sessions import AuthenticatedUser
from mrs.db.engine import Database
from mrs.errors import DomainError, InvalidInput, TooManyRequests
from mrs.http.dependencies import DatabaseDep, LocaleDep, SettingsDep
from mrs.i18n import translate
from mrs.settings import Settings
from mrs.web.dependencies import PageUser
from mrs.web.forms import FormErrors, parse, read_form
from mrs.web.pages.common import done_message, redirect
from mrs.web.pages.registration import PASSWORD_RULES, password_value
from mrs.web.rendering import render

router = APIRouter()

# Session ids are URL-safe tokens; anything else cannot be one.
SessionIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


async def _password_page(
    request: Request,
    db: Database,
    *,
    user_id: str,
    errors: FormErrors,
    locale: str,
    status_code: int = 200,
) -> Response:
    record = await users.get_user(db, user_id=user_id)
    return render(
        request,
        "account/password.html",
        {
            "errors": errors,
            "rules": PASSWORD_RULES,
            # The script checks that the new password contains neither (as the server does).
            "own_email": record.email if record else "",
            "done": done_message(request, locale),
        },
        status_code=status_code,
    )


@router.get("/account/password")
async def password_form(
    request: Request, user: PageUser, db: DatabaseDep, locale: LocaleDep
) -> Response:
    return await _password_page(
        request, db, user_id=user.user_id, errors=FormErrors(), locale=locale
    )


@router.post("/account/password")
async def password_submit(
    request: Request,
    user: PageUser,
    db: DatabaseDep,
    settings: SettingsDep,
    locale: LocaleDep,
    now: AuthNowDep,
) -> Response:
    """Change the password; every other session ends and this device gets a fresh cookie."""
    form = await read_form(request)
    current = password_value(form.get("current_password"))
    new = password_value(form.get("new_password"))
    confirmation = password_value(form.get("new_password_confirm"))
    errors = FormErrors()
    body = parse(
        PasswordChange,
        {"current_password": current, "new_password": new},
        locale=locale,
        errors=errors,
    )
    if new and new != confirmation:
        errors.add("new_password_confirm", translate(locale, "The two passwords do not match."))
    status_code = 422
    if body is not None and not errors:
        try:
            opened = await login.change_password(
                db,
                settings,
                user_id=user.user_id,
                current_password=body.current_password,
                new_password=body.new_password,
                now=now,
                client_address=session_cookie.client_address(request),
                user_agent=request.headers.get("user-agent"),
            )
        except InvalidInput as exc:  # wrong current password, or a password the policy refuses
            field = exc.details.get("field") if isinstance(exc.details, dict) else None
            errors.add(str(field or "new_password"), translate(locale, exc.msgid, **exc.params))
            status_code = exc.status
        except TooManyRequests as exc:  # too many wrong current passwords
            errors.add("current_password", translate(locale, exc.msgid, **exc.params))
            response = await _password_page(
                request, db, user_id=user.user_id, errors=errors, locale=locale, status_code=429
            )
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        else:
            response = redirect("/account/password?done=password_changed")
            issued = session_cookie.issue_session_token(settings, opened, now=now)
            session_cookie.set_session_cookie(request, response, issued)
            return response
    return await _password_page(
        request, db, user_id=user.user_id, errors=errors, locale=locale, status_code=status_code
    )


async def _sessions_page(
    request: Request,
    db: Database,
    settings: Settings,
    *,
    user: AuthenticatedUser,
    now: datetime,
    locale: str,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    open_sessions = await sessions.list_sessions(db, settings, user_id=user.user_id, now=now)
    # This device first, then the others newest first (the sort is stable).
    open_sessions.sort(key=lambda info: info.session_id != user.session_id)
    return render(
        request,
        "account/sessions.html",
        {
            "sessions": open_sessions,
            "current": user.session_id,
            "error": error,
            "done": done_message(request, locale),
        },
        status_code=status_code,
    )


@router.get("/account/sessions")
async def my_sessions(
    request: Request,
    user: PageUser,
    db: DatabaseDep,
    settings: SettingsDep,
    locale: LocaleDep,
    now: AuthNowDep,
) -> Response:
    """Where the user is logged in, this device marked."""
    return await _sessions_page(request, db, settings, user=user, now=now, locale=locale)


@router.post("/account/sessions/end-others")
async def end_other_sessions(
    request: Request, user: PageUser, db: DatabaseDep, now: AuthNowDep
) -> Response:
    await read_form(request)  # the CSRF token travels in the form
    ended = await sessions.end_other_sessions(
        db, user_id=user.user_id, keep=user.session_id, now=now
    )
    return redirect(f"/account/sessions?done=sessions_ended&n={ended}")


@router.post("/account/sessions/{session_id}/end")
async def end_one_session(
    request: Request,
    session_id: SessionIdPath,
    user: PageUser,
    db: DatabaseDep,
    settings: SettingsDep,
    locale: LocaleDep,
    now: AuthNowDep,
) -> Response:
    """End one session; ending this device's own session is logging out."""
    await read_form(request)
    if session_id == user.session_id:
        response = redirect("/login?done=logged_out")
        await session_cookie.log_out(db, response, user=user, now=now)
        return response
    try:
        await sessions.end_session(db, user_id=user.user_id, session_id=session_id, now=now)
    except DomainError as exc:  # already ended, or not one of this user's sessions
        return await _sessions_page(
            request,
            db,
            settings,
            user=user,
            now=now,
            locale=locale,
            error=translate(locale, exc.msgid, **exc.params),
            status_code=exc.status,
        )
    return redirect("/account/sessions?done=session_ended")
