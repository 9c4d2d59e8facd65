"""Reading HTML forms at the edge: bounded, validated with the domain's pydantic schemas,
and errors turned into messages shown next to their fields.

Every form page goes through `submit`: parse the form, call the service, answer with its
redirect, or render the same page again with the messages next to their fields (and the
form-level one on top) at the status of what went wrong. The domain errors name their
field (`DomainError.field`), so no page maps errors by hand.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from mrs.errors import DomainError, TooManyRequests
from mrs.http.error_handlers import validation_details
from mrs.i18n import translate
from mrs.security.csrf import CSRF_FORM_FIELD

Model = TypeVar("Model", bound=BaseModel)
Parsed = TypeVar("Parsed")
Result = TypeVar("Result")

MAX_FIELDS = 40
MAX_VALUE_LENGTH = 2000
# The parser bounds a field's bytes as sent: a character percent-encoded as UTF-8 takes up
# to 12 (a Japanese one 9), so 2,000 characters of text must pass it.
MAX_VALUE_BYTES = MAX_VALUE_LENGTH * 12


@dataclass
class FormErrors:
    """Messages (already translated) by field name; "" holds the form-level message."""

    fields: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, message)

    def __bool__(self) -> bool:
        return bool(self.fields)

    def get(self, name: str) -> str | None:
        return self.fields.get(name)

    @property
    def form(self) -> str | None:
        return self.fields.get("")


async def read_form(request: Request) -> FormData:
    """The submitted form; no files, a bounded number of fields."""
    return await request.form(max_files=0, max_fields=MAX_FIELDS, max_part_size=MAX_VALUE_BYTES)


def text_values(form: FormData, names: tuple[str, ...]) -> dict[str, str]:
    """The named text fields as typed (trimmed, bounded, without NUL), "" when missing."""
    values: dict[str, str] = {}
    for name in names:
        raw = form.get(name)
        # No text column can hold a NUL byte (PostgreSQL refuses it): drop it at the edge.
        text = raw.replace("\x00", "") if isinstance(raw, str) else ""
        values[name] = text.strip()[:MAX_VALUE_LENGTH]
    return values


def parse(
    model: type[Model], data: dict[str, Any], *, locale: str, errors: FormErrors
) -> Model | None:
    """Validate `data` with `model`; on failure record field messages and return None."""
    payload = {key: value for key, value in data.items() if key != CSRF_FORM_FIELD}
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        for detail in validation_details(locale, [dict(error) for error in exc.errors()]):
            errors.add(detail["field"], detail["message"])
        return None


def form_error(errors: FormErrors, locale: str, msgid: str, **params: Any) -> None:
    """Record a form-level message (shown at the top of the form)."""
    errors.add("", translate(locale, msgid, **params))


@dataclass
class FormState:
    """A form as the page shows it again: what was typed, the messages by field, the
    status of the answer, and the service's refusal when it was the service that said no."""

    locale: str
    values: dict[str, Any] = field(default_factory=dict)
    errors: FormErrors = field(default_factory=FormErrors)
    status_code: int = 200
    refusal: DomainError | None = None

    def validate(self, model: type[Model], data: dict[str, Any]) -> Model | None:
        """`data` checked by a domain schema; field messages recorded when it is refused."""
        return parse(model, data, locale=self.locale, errors=self.errors)

    def add_error(self, name: str, msgid: str, **params: Any) -> None:
        """A message (an English msgid, translated here) for a field, "" for the form."""
        self.errors.add(name, translate(self.locale, msgid, **params))

    def refuse(self, error: DomainError, message: str | None = None) -> None:
        """The service said no: its message next to the field it names (on top of the
        form when none), the answer at its status."""
        text = message or translate(self.locale, error.msgid, **error.params)
        self.errors.add(error.field or "", text)
        self.status_code = error.status
        self.refusal = error


async def attempt(state: FormState, call: Awaitable[Result]) -> Result | None:
    """A service call for a page that shows its refusal in the page (e.g. a search form
    sent with GET): the result, or None with the refusal recorded in `state`."""
    try:
        return await call
    except DomainError as exc:
        state.refuse(exc)
        return None


def with_retry_after(response: Response, error: DomainError | None) -> Response:
    """Tell the client when to try again after a throttled attempt."""
    if isinstance(error, TooManyRequests):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


async def submit(
    request: Request,
    *,
    locale: str,
    parse: Callable[[FormData, FormState], Parsed | None],
    action: Callable[[Parsed], Awaitable[Response]],
    render_again: Callable[[FormState], Awaitable[Response]],
    explain: Callable[[DomainError], Awaitable[str | None]] | None = None,
) -> Response:
    """Parse the form, call the service and answer with its redirect; or render the page
    again with the messages: 422 when the form itself is refused, else the domain error's
    status, its message next to the field it names (on top of the form when none).

    `parse` fills `state.values` (shown again) and records messages; it returns what the
    action needs, or None. `explain` may word a refusal better than its own message (it
    returns None to keep that)."""
    form = await read_form(request)
    state = FormState(locale=locale, status_code=422)
    parsed = parse(form, state)
    if parsed is not None and not state.errors:
        try:
            return await action(parsed)
        except DomainError as exc:
            state.refuse(exc, await explain(exc) if explain is not None else None)
    return with_retry_after(await render_again(state), state.refusal)


def no_fields(form: FormData, state: FormState) -> bool:
    """The `parse` of a form that carries only its CSRF token (a button)."""
    return True
