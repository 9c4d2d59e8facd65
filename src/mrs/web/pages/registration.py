"""Self-registration: the form, and the "received, waiting for approval" page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from mrs.accounts import registration, rules
from mrs.accounts.dependencies import AuthNowDep
from mrs.accounts.schemas import RegistrationCreate
from mrs.accounts.session_cookie import client_address
from mrs.errors import TooManyRequests
from mrs.http.dependencies import LocaleDep
from mrs.web.dependencies import Page, Visitor
from mrs.web.forms import FormState, submit, text_values, with_retry_after
from mrs.web.i18n import N_
from mrs.web.pages.common import redirect
from mrs.web.rendering import render

router = APIRouter()

# Shown again after a rejected form; the passwords never are.
REGISTRATION_FIELDS = ("user_id", "first_name", "last_name", "email")
PASSWORD_RULES = {
    "min_length": rules.MIN_PASSWORD_LENGTH,
    "max_length": rules.MAX_PASSWORD_LENGTH,
    "min_user_id": rules.MIN_USER_ID_LENGTH,
    "max_user_id": rules.MAX_USER_ID_LENGTH,
}


def password_value(form_value: object) -> str:
    """A password field as typed: never trimmed (spaces count), bounded by the schema."""
    return form_value if isinstance(form_value, str) else ""


def _register_page(request: Request, state: FormState) -> Response:
    return render(
        request,
        "register.html",
        {"values": state.values, "errors": state.errors, "rules": PASSWORD_RULES},
        status_code=state.status_code,
    )


@router.get("/register")
async def register_form(request: Request, visitor: Visitor, locale: LocaleDep) -> Response:
    if visitor is not None:
        return redirect("/rooms")
    return _register_page(
        request, FormState(locale=locale, values=dict.fromkeys(REGISTRATION_FIELDS, ""))
    )


def _parse_registration(form: FormData, state: FormState) -> RegistrationCreate | None:
    state.values = text_values(form, REGISTRATION_FIELDS)
    password = password_value(form.get("password"))
    body = state.validate(RegistrationCreate, {**state.values, "password": password})
    if password and password != password_value(form.get("password_confirm")):
        state.add_error("password_confirm", N_("The two passwords do not match."))
    return body


@router.post("/register")
async def register_submit(page: Page, now: AuthNowDep) -> Response:
    """A PENDING account, or the form again: each refused field says why; a throttled or
    closed registration says so on top of the form."""
    request = page.request

    async def register(body: RegistrationCreate) -> Response:
        await registration.register_user(
            page.db,
            page.settings,
            user_id=body.user_id,
            first_name=body.first_name,
            last_name=body.last_name,
            email=body.email,
            password=body.password,
            now=now,
            client_address=client_address(request),
            locale=page.locale,
        )
        return redirect("/register/received")

    async def again(state: FormState) -> Response:
        if state.refusal is None:
            # Refused forms count in the registration log like refused API calls (the
            # plan's registration success rate needs the failures too), and in its throttle.
            try:
                await registration.record_invalid_registration(
                    page.db,
                    page.settings,
                    client_address=client_address(request),
                    email=state.values["email"],
                    now=now,
                )
            except TooManyRequests as exc:
                # Throttled: the form was not even looked at, so only that is said.
                refused = FormState(locale=page.locale, values=state.values)
                refused.add_error("", exc.msgid, **exc.params)
                refused.status_code = exc.status
                return with_retry_after(_register_page(request, refused), exc)
        return _register_page(request, state)

    return await submit(
        request,
        locale=page.locale,
        parse=_parse_registration,
        action=register,
        render_again=again,
    )


@router.get("/register/received")
async def registration_received(request: Request) -> Response:
    return render(request, "register_received.html")
