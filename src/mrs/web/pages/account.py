"""Start page, language choice, logging in and out."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from mrs.accounts import session_cookie
from mrs.accounts.dependencies import AuthNowDep
from mrs.accounts.schemas import LoginRequest
from mrs.http.dependencies import LOCALE_COOKIE, DatabaseDep, LocaleDep
from mrs.i18n import SUPPORTED_LOCALES
from mrs.web.dependencies import Page, PageUser, Visitor
from mrs.web.forms import FormState, read_form, submit, text_values
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


def _login_page(request: Request, state: FormState, *, next_url: str, done: str | None) -> Response:
    return render(
        request,
        "login.html",
        {"values": state.values, "errors": state.errors, "next_url": next_url, "done": done},
        status_code=state.status_code,
    )


@router.get("/login")
async def login_form(request: Request, visitor: Visitor, locale: LocaleDep) -> Response:
    next_url = safe_next(request.query_params.get("next"))
    if visitor is not None:
        return redirect(next_url)
    state = FormState(locale=locale, values={"user_id": ""})
    return _login_page(request, state, next_url=next_url, done=done_message(request, locale))


def _parse_login(form: FormData, state: FormState) -> tuple[LoginRequest, str] | None:
    """The credentials, and where to go after logging in."""
    state.values = text_values(form, ("user_id", "next"))
    password = form.get("password")
    body = state.validate(
        LoginRequest,
        {
            "user_id": state.values["user_id"],
            "password": password if isinstance(password, str) else "",
        },
    )
    return None if body is None else (body, safe_next(state.values["next"]))


@router.post("/login")
async def login_submit(page: Page, now: AuthNowDep) -> Response:
    """Log in and go back where the visitor was going. Wrong passwords, throttling and
    (only after the right password) a pending, rejected or disabled account are said on
    the form, at the error's status."""
    request = page.request

    async def log_in(parsed: tuple[LoginRequest, str]) -> Response:
        body, next_url = parsed
        issued = await session_cookie.log_in(
            page.db, page.settings, request, user_id=body.user_id, password=body.password, now=now
        )
        response = redirect(next_url)
        session_cookie.set_session_cookie(request, response, issued)
        return response

    async def again(state: FormState) -> Response:
        return _login_page(request, state, next_url=safe_next(state.values["next"]), done=None)

    return await submit(
        request, locale=page.locale, parse=_parse_login, action=log_in, render_again=again
    )


@router.post("/logout")
async def logout(user: PageUser, db: DatabaseDep, now: AuthNowDep) -> Response:
    response = redirect("/login?done=logged_out")
    await session_cookie.log_out(db, response, user=user, now=now)
    return response
