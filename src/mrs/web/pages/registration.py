"""Self-registration: the form, and the "received, waiting for approval" page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from mrs.accounts import registration, rules
from mrs.accounts.dependencies import AuthNowDep
from mrs.accounts.errors import EmailTaken, RegistrationClosed, UserIdTaken
from mrs.accounts.schemas import RegistrationCreate
from mrs.accounts.session_cookie import client_address
from mrs.errors import DomainError, InvalidInput, TooManyRequests
from mrs.http.dependencies import DatabaseDep, LocaleDep, SettingsDep
from mrs.i18n import translate
from mrs.web.dependencies import Visitor
from mrs.web.forms import FormErrors, parse, read_form, text_values
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


def _register_page(
    request: Request, *, values: dict[str, str], errors: FormErrors, status_code: int = 200
) -> Response:
    return render(
        request,
        "register.html",
        {"values": values, "errors": errors, "rules": PASSWORD_RULES},
        status_code=status_code,
    )


@router.get("/register")
async def register_form(request: Request, visitor: Visitor) -> Response:
    if visitor is not None:
        return redirect("/rooms")
    return _register_page(
        request, values=dict.fromkeys(REGISTRATION_FIELDS, ""), errors=FormErrors()
    )


@router.post("/register")
async def register_submit(
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    locale: LocaleDep,
    now: AuthNowDep,
) -> Response:
    form = await read_form(request)
    values = text_values(form, REGISTRATION_FIELDS)
    password = password_value(form.get("password"))
    confirmation = password_value(form.get("password_confirm"))
    errors = FormErrors()
    body = parse(RegistrationCreate, {**values, "password": password}, locale=locale, errors=errors)
    if password and password != confirmation:
        errors.add("password_confirm", translate(locale, "The two passwords do not match."))
    status_code = 422
    if body is not None and not errors:
        try:
            await registration.register_user(
                db,
                settings,
                user_id=body.user_id,
                first_name=body.first_name,
                last_name=body.last_name,
                email=body.email,
                password=body.password,
                now=now,
                client_address=client_address(request),
                locale=locale,
            )
        except UserIdTaken as exc:
            errors.add("user_id", translate(locale, exc.msgid, **exc.params))
            status_code = exc.status
        except EmailTaken as exc:
            errors.add("email", translate(locale, exc.msgid, **exc.params))
            status_code = exc.status
        except InvalidInput as exc:  # the service's own checks (e.g. a common password)
            field = exc.details.get("field") if isinstance(exc.details, dict) else None
            errors.add(str(field or "password"), translate(locale, exc.msgid, **exc.params))
            status_code = exc.status
        except (TooManyRequests, RegistrationClosed) as exc:
            return _refused(request, values, locale, exc)
        else:
            return redirect("/register/received")
    else:
        # Refused forms count in the registration log like refused API calls (the plan's
        # registration success rate needs the failures too), and in its throttle.
        try:
            await registration.record_invalid_registration(
                db, settings, client_address=client_address(request), email=values["email"], now=now
            )
        except TooManyRequests as exc:
            return _refused(request, values, locale, exc)
    return _register_page(request, values=values, errors=errors, status_code=status_code)


def _refused(request: Request, values: dict[str, str], locale: str, exc: DomainError) -> Response:
    """The form again with the reason it was not even looked at (throttled, or closed)."""
    errors = FormErrors()
    errors.add("", translate(locale, exc.msgid, **exc.params))
    response = _register_page(request, values=values, errors=errors, status_code=exc.status)
    if isinstance(exc, TooManyRequests):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


@router.get("/register/received")
async def registration_received(request: Request) -> Response:
    return render(request, "register_received.html")
