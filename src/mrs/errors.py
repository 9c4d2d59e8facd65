"""Domain errors. Each carries a stable code, an HTTP status and a translatable message.

Domains raise these; the HTTP layer maps them to one error shape in one place
(`mrs.error_handlers`). The message is an English gettext msgid with `{name}` fields.
An error about one input names it in `field` (the API's field name, which the page forms
use too), so a page can show the message next to that field.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """Base of every error a user can be shown."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    message: ClassVar[str] = "The request could not be completed."
    # The input this kind of error is about; None when it is about the request as a whole.
    field: str | None = None

    def __init__(self, message: str | None = None, *, details: Any = None, **params: Any) -> None:
        self.msgid = message or self.message
        self.params = params
        self.details = details
        # An error raised about a particular input says so in its details (the API shows
        # them as they are): `details={"field": "email"}`.
        if isinstance(details, dict) and isinstance(details.get("field"), str):
            self.field = details["field"]
        super().__init__(self.msgid.format(**params) if params else self.msgid)


class NotFound(DomainError):
    code = "not_found"
    status = 404
    message = "Not found."


class Conflict(DomainError):
    code = "conflict"
    status = 409
    message = "The request conflicts with the current state."


class InvalidInput(DomainError):
    code = "validation_error"
    status = 422
    message = "The input is not valid."


class Unauthenticated(DomainError):
    code = "unauthenticated"
    status = 401
    message = "Please log in."


class Forbidden(DomainError):
    code = "forbidden"
    status = 403
    message = "You are not allowed to do this."


class TooManyRequests(DomainError):
    code = "too_many_requests"
    status = 429
    message = "Too many attempts. Try again in {retry_after} seconds."

    def __init__(self, *, retry_after: int, message: str | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message, retry_after=retry_after)
