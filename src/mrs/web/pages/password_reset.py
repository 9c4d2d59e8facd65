"""Forgot password: ask for a reset mail, then choose a new password with its link."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from mrs.accounts import password_reset, rules
from mrs.accounts.dependencies import AuthNowDep
from mrs.accounts.errors import ResetTokenExpired, ResetTokenInvalid, ResetTokenUsed
from mrs.accounts.password_reset_api import site_base
from mrs.accounts.session_cookie import client_address
from mrs.errors import DomainError
from mrs.http.dependencies import LocaleDep
from mrs.web.dependencies import Page
from mrs.web.forms import FormState, submit
from mrs.web.i18n import N_
from mrs.web.pages.common import redirect
from mrs.web.pages.registration import password_value
from mrs.web.rendering import render

router = APIRouter()

PASSWORD_RULES = {"min_length": rules.MIN_PASSWORD_LENGTH, "max_length": rules.MAX_PASSWORD_LENGTH}
_TOKEN_ERRORS = (ResetTokenInvalid, ResetTokenExpired, ResetTokenUsed)


def _forgot_page(request: Request, state: FormState) -> Response:
    return render(
        request,
        "password/forgot.html",
        {"values": state.values, "errors": state.errors},
        status_code=state.status_code,
    )


@router.get("/password/forgot")
async def forgot_form(request: Request, locale: LocaleDep) -> Response:
    return _forgot_page(request, FormState(locale=locale, values={"email": ""}))


def _parse_forgot(form: FormData, state: FormState) -> str | None:
    value = form.get("email")
    account = (
        " ".join(value.split())[: password_reset.MAX_ACCOUNT_LENGTH]
        if isinstance(value, str)
        else ""
    )
    state.values = {"email": account}
    if not account:
        state.add_error("email", N_("Enter your email address or user ID."))
        return None
    return account


@router.post("/password/forgot")
async def forgot_submit(page: Page, now: AuthNowDep) -> Response:
    """The same "sent" page whether or not the account exists; 429 past the limit."""
    request = page.request

    async def ask(account: str) -> Response:
        await password_reset.request_reset(
            page.db,
            page.settings,
            account=account,
            client_address=client_address(request),
            base_url=site_base(page.settings, request),
            now=now,
        )
        return redirect("/password/forgot/sent")

    async def again(state: FormState) -> Response:
        return _forgot_page(request, state)

    return await submit(
        request, locale=page.locale, parse=_parse_forgot, action=ask, render_again=again
    )


@router.get("/password/forgot/sent")
async def forgot_sent(request: Request) -> Response:
    return render(request, "password/forgot_sent.html")


def _token_refused(request: Request, error: DomainError) -> Response:
    """An unknown, expired or used link: say which, and offer a new one."""
    return render(
        request,
        "password/reset_refused.html",
        {"message": error.msgid},
        status_code=error.status,
    )


def _reset_page(request: Request, state: FormState, token: str) -> Response:
    return render(
        request,
        "password/reset.html",
        {"errors": state.errors, "token": token, "rules": PASSWORD_RULES},
        status_code=state.status_code,
    )


@router.get("/password/reset")
async def reset_form(page: Page, now: AuthNowDep, token: str = "") -> Response:
    try:
        await password_reset.check_token(page.db, token=token, now=now)
    except _TOKEN_ERRORS as exc:
        return _token_refused(page.request, exc)
    return _reset_page(page.request, FormState(locale=page.locale), token)


@router.post("/password/reset")
async def reset_submit(page: Page, now: AuthNowDep) -> Response:
    """A new password, twice; the link is used up and every session ends."""
    request = page.request
    token = ""

    def parse(form: FormData, state: FormState) -> str | None:
        nonlocal token
        value = form.get("token")
        token = value[:200] if isinstance(value, str) else ""
        password = password_value(form.get("new_password"))
        if not password:
            state.add_error("new_password", N_("Enter a new password."))
        elif password != password_value(form.get("new_password_confirm")):
            state.add_error("new_password_confirm", N_("The two passwords do not match."))
        return password or None

    async def reset(password: str) -> Response:
        await password_reset.reset_password(page.db, token=token, new_password=password, now=now)
        return redirect("/password/reset/done")

    async def again(state: FormState) -> Response:
        if isinstance(state.refusal, _TOKEN_ERRORS):
            return _token_refused(request, state.refusal)
        return _reset_page(request, state, token)

    return await submit(request, locale=page.locale, parse=parse, action=reset, render_again=again)


@router.get("/password/reset/done")
async def reset_done(request: Request) -> Response:
    return render(request, "password/reset_done.html")
