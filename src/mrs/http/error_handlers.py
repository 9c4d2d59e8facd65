"""Every error becomes one JSON shape: {"error": {"code", "message", "details"}}.

Browsers asking for a page get the same mapping rendered as an HTML page instead, by the
page renderer the app installs (mrs.web.errors), in the user's language.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from mrs.db.errors import first_line
from mrs.errors import DomainError, TooManyRequests
from mrs.http.dependencies import request_locale
from mrs.http.secret_paths import loggable_path
from mrs.i18n import translate

logger = logging.getLogger(__name__)

# Pydantic error types we explain in our own words (and translate).
_VALIDATION_MESSAGES = {
    "missing": "This field is required.",
    "json_invalid": "The request body is not valid JSON.",
    "string_type": "Enter text.",
    "int_type": "Enter a whole number.",
    "int_parsing": "Enter a whole number.",
    "int_from_float": "Enter a whole number.",
    "bool_type": "Enter true or false.",
    "bool_parsing": "Enter true or false.",
    "list_type": "Enter a list.",
    "string_too_short": "This field is too short.",
    "string_too_long": "This field is too long (at most {max_length} characters).",
    "too_long": "Too many items (at most {max_length}).",
    "greater_than_equal": "Enter a value of at least {ge}.",
    "less_than_equal": "Enter a value of at most {le}.",
    "greater_than": "Enter a value greater than {gt}.",
    "less_than": "Enter a value less than {lt}.",
    "extra_forbidden": "This field is not allowed here.",
    "model_attributes_type": "The request body must be a JSON object.",
    "dict_type": "The request body must be a JSON object.",
    "model_type": "The request body must be a JSON object.",
    "enum": "Choose one of: {expected}.",
    "literal_error": "Choose one of: {expected}.",
    "string_pattern_mismatch": "This value has the wrong format.",
}
_STATUS_MESSAGES = {
    400: ("bad_request", "The request is malformed."),
    401: ("unauthenticated", "Please log in."),
    403: ("forbidden", "You are not allowed to do this."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "This method is not allowed here."),
    408: ("request_timeout", "The request took too long to arrive. Please try again."),
    413: ("payload_too_large", "The request is too large."),
    415: ("unsupported_media_type", "Send the request body as JSON."),
}


# (request, status, translated message, the domain error if any) -> an HTML page.
PageRenderer = Callable[[Request, int, str, DomainError | None], Awaitable[Response]]


def page_renderer_for(request: Request) -> PageRenderer | None:
    """The HTML renderer when this request is for a page rather than the JSON API."""
    renderer: PageRenderer | None = getattr(request.app.state, "page_error_renderer", None)
    if renderer is None or request.url.path.startswith("/api"):
        return None
    if getattr(request.state, "page", False) or "text/html" in request.headers.get("accept", ""):
        return renderer
    return None


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


async def status_response(
    request: Request, status: int, error: DomainError | None = None
) -> Response:
    """The error answer for middleware that refuses a request before any route runs:
    the page for a person's form or page, else the JSON shape (one mapping for both)."""
    locale = request_locale(request)
    if error is not None:
        code, message = error.code, translate(locale, error.msgid, **error.params)
    else:
        code, msgid = _STATUS_MESSAGES.get(status, ("error", "The request failed."))
        message = translate(locale, msgid)
    if (page := page_renderer_for(request)) is not None:
        return await page(request, status, message, error)
    return JSONResponse(error_body(code, message), status_code=status)


def _field_path(location: tuple[Any, ...]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path")]
    return ".".join(parts) or str(location[0] if location else "")


def _validation_message(locale: str, error: dict[str, Any]) -> str:
    ctx = {key: value for key, value in (error.get("ctx") or {}).items()}
    if error["type"] == "value_error" and "error" in ctx:
        # Our own validators raise ValueError with an English msgid (and maybe params).
        exc = ctx["error"]
        params = getattr(exc, "params", {})
        return translate(locale, str(exc.args[0]), **params)
    template = _VALIDATION_MESSAGES.get(error["type"])
    if template is None:
        return translate(locale, "This value is not valid.")
    try:
        return translate(locale, template, **{k: str(v) for k, v in ctx.items()})
    except (KeyError, IndexError):
        return translate(locale, "This value is not valid.")


def validation_details(locale: str, errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Field-level messages for a list of pydantic errors."""
    return [
        {
            "field": _field_path(tuple(error.get("loc", ()))),
            "message": _validation_message(locale, error),
        }
        for error in errors[:50]
    ]


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    locale = request_locale(request)
    message = translate(locale, exc.msgid, **exc.params)
    if (page := page_renderer_for(request)) is not None:
        return await page(request, exc.status, message, exc)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
    return JSONResponse(
        error_body(exc.code, message, exc.details), status_code=exc.status, headers=headers
    )


async def _request_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    locale = request_locale(request)
    if (page := page_renderer_for(request)) is not None:
        return await page(request, 422, translate(locale, "The input is not valid."), None)
    details = validation_details(locale, list(exc.errors()))
    return JSONResponse(
        error_body("validation_error", translate(locale, "The input is not valid."), details),
        status_code=422,
    )


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    locale = request_locale(request)
    code, message = _STATUS_MESSAGES.get(exc.status_code, ("error", "The request failed."))
    if (page := page_renderer_for(request)) is not None:
        return await page(request, exc.status_code, translate(locale, message), None)
    return JSONResponse(
        error_body(code, translate(locale, message)),
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


async def _refused_data(request: Request, exc: Exception) -> Response:
    """The database driver refused a value the edge let through (a NUL byte in text, a
    number out of range): the client's input is at fault, so answer 422, never 500."""
    cause = type(getattr(exc, "orig", exc)).__name__
    logger.warning(
        "database refused input on %s %s: %s",
        request.method,
        loggable_path(request.url.path),
        cause,
    )
    locale = request_locale(request)
    message = translate(locale, "The input is not valid.")
    if (page := page_renderer_for(request)) is not None:
        return await page(request, 422, message, None)
    return JSONResponse(error_body("validation_error", message), status_code=422)


# Seconds a client is asked to wait when the database cannot be reached.
DATABASE_RETRY_AFTER_SECONDS = 5


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    """The database is down, unreachable, or every connection busy: 503 and a retry hint,
    not a 500 — nothing is wrong with the request, and nothing was half-done (each use
    case's transaction rolled back)."""
    # The driver's own words say which (refused, timed out, too many clients); they
    # carry no parameters (hidden in every engine and in mrs.db.direct).
    reason = first_line(exc)[:300]
    logger.error(
        "database unavailable on %s %s: %s: %s",
        request.method,
        loggable_path(request.url.path),
        type(exc).__name__,
        reason,
    )
    return await service_unavailable(request)


async def service_unavailable(request: Request) -> Response:
    """503 with a retry hint: the JSON error shape, or the friendly page for browsers."""
    locale = request_locale(request)
    message = translate(locale, "The service is briefly unavailable. Please try again shortly.")
    headers = {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
    if (page := page_renderer_for(request)) is not None:
        response = await page(request, 503, message, None)
        response.headers.update(headers)
        return response
    return JSONResponse(
        error_body("service_unavailable", message), status_code=503, headers=headers
    )


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled error on %s %s", request.method, loggable_path(request.url.path))
    locale = request_locale(request)
    if (page := page_renderer_for(request)) is not None:
        return await page(
            request, 500, translate(locale, "Something went wrong on our side."), None
        )
    return JSONResponse(
        error_body("internal_error", translate(locale, "Something went wrong on our side.")),
        status_code=500,
    )


def install_error_handlers(app: FastAPI, page_renderer: PageRenderer | None = None) -> None:
    """Map errors to responses; with `page_renderer`, browsers get HTML error pages."""
    app.state.page_error_renderer = page_renderer
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(DataError, _refused_data)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(PoolTimeout, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected_error)
