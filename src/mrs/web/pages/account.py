"""Start page, language choice, logging in and out."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from mrs.accounts import session_cookie
from mrs.accounts.dependencies import AuthNowDep
from mrs.accounts.errors import InvalidCredentials
from mrs.accounts.schemas import LoginRequest
from mrs.errors import DomainError
from mrs.http.dependencies import LOCALE_COOKIE, DatabaseDep, LocaleDep, SettingsDep
from mrs.i18n import SUPPORTED_LOCALES
from mrs.web.dependencies import PageUser, Visitor
from mrs.web.forms import FormErrors, form_error, parse, read_form, text_values
from mrs.web.pages.common import (
    done_message,
    redirect,
    safe_next,
)
from mrs.web.rendering import render

router = APIRouter()

LANGUAGE_COOKIE_DAYS = 365


@router.get("/")
async def home(visitor: Visitor) -> Response:
    return redirect("/rooms" if visitor else "/login")


@router.post("/language")
async def choose_language(request: Request) -> Response:
    """Remember the chosen language in a cookie and go back to the page."""
    form = await read_form(request)
    values = text_values(form, ("lang", "next"))
    response = redirect(safe_next(values["next"], "/"))
    if values["lang"] in SUPPORTED_LOCALES:
        response.set_cookie(
            LOCALE_COOKIE,
            values["lang"],
            max_age=LANGUAGE_COOKIE_DAYS * 24 * 3600,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/",
        )
    return response


@router.get("/login")
async def login_form(request: Request, visitor: Visitor, locale: LocaleDep) -> Response:
    next_url = safe_next(request.query_params.get("next"))
    if visitor is not None:
        return redirect(next_url)
    return render(
        request,
        "login.html",
        {
            "values": {"user_id": ""},
            "errors": FormErrors(),
            "next_url": next_url,
            "done": done_message(request, locale),
        },
    )


@router.post("/login")
async def login_submit(
    request: Request, db: DatabaseDep, settings: SettingsDep, locale: LocaleDep, now: AuthNowDep
) -> Response:
    form = await read_form(request)
    values = text_values(form, ("user_id", "next"))
    password = form.get("password")
    next_url = safe_next(values["next"])
    errors = FormErrors()
    body = parse(
        LoginRequest,
        {"user_id": values["user_id"], "password": password if isinstance(password, str) else ""},
        locale=locale,
        errors=errors,
    )
    status_code = 422
    if body is not None:
        try:
            issued = await session_cookie.log_in(
                db, settings, request, user_id=body.user_id, password=body.password, now=now
            )
        except InvalidCredentials as exc:
            form_error(errors, locale, exc.msgid)
            status_code = exc.status
        except DomainError as exc:  # e.g. throttling: show it on the form
            form_error(errors, locale, exc.msgid, **exc.params)
            status_code = exc.status
        else:
            response = redirect(next_url)
            session_cookie.set_session_cookie(request, response, issued)
            return response
    return render(
        request,
        "login.html",
        {"values": values, "errors": errors, "next_url": next_url, "done": None},
        status_code=status_code,
    )


@router.post("/logout")
async def logout(user: PageUser, db: DatabaseDep, now: AuthNowDep) -> Response:
    response = redirect("/login?done=logged_out")
    await session_cookie.log_out(db, response, user=user, now=now)
    return response
