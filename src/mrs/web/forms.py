"""Reading HTML forms at the edge: bounded, validated with the domain's pydantic schemas,
and errors turned into messages shown next to their fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData
from starlette.requests import Request

from mrs.http.error_handlers import validation_details
from mrs.i18n import translate
from mrs.security.csrf import CSRF_FORM_FIELD

Model = TypeVar("Model", bound=BaseModel)

MAX_FIELDS = 40
MAX_VALUE_LENGTH = 2000


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
    return await request.form(max_files=0, max_fields=MAX_FIELDS, max_part_size=MAX_VALUE_LENGTH)


def text_values(form: FormData, names: tuple[str, ...]) -> dict[str, str]:
    """The named text fields as typed (trimmed, bounded), "" when missing."""
    values: dict[str, str] = {}
    for name in names:
        raw = form.get(name)
        values[name] = raw.strip()[:MAX_VALUE_LENGTH] if isinstance(raw, str) else ""
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
