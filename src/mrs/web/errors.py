"""Friendly error pages in the user's language, installed as the app's page renderer."""

from __future__ import annotations

import logging
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from mrs.accounts.errors import InvalidToken
from mrs.accounts.session_cookie import clear_session_cookie
from mrs.errors import DomainError
from mrs.web.i18n import N_
from mrs.web.rendering import render

logger = logging.getLogger(__name__)

_TITLES = {
    403: N_("You cannot open this page"),
    404: N_("Page not found"),
    500: N_("Something went wrong"),
}
_HINTS = {
    # One hint for every refusal: the error's own message says what was refused.
    403: N_("If you need this, ask an administrator."),
    404: N_("The address may be mistyped, or the item no longer exists."),
    500: N_("Please try again in a moment. If it keeps happening, tell your administrator."),
}
_DEFAULT_TITLE = N_("The request could not be completed")


def login_redirect(request: Request) -> RedirectResponse:
    """Send an anonymous visitor to the login page, coming back here afterwards (GET only)."""
    target = "/login"
    if request.method == "GET":
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target += f"?next={quote(here, safe='')}"
    return RedirectResponse(target, status_code=303)


async def render_error_page(
    request: Request, status_code: int, message: str, error: DomainError | None
) -> Response:
    """The HTML answer for an error on a page: login for 401, a friendly page otherwise."""
    if status_code == 401:
        response: Response = login_redirect(request)
        if isinstance(error, InvalidToken):
            clear_session_cookie(response)
        return response
    try:
        return render(
            request,
            "error.html",
            {
                "status": status_code,
                "title": _TITLES.get(status_code, _DEFAULT_TITLE),
                "message": message,
                "hint": _HINTS.get(status_code),
            },
            status_code=status_code,
        )
    except Exception:
        # The error page itself failed (e.g. the database is down for the nav): plain text.
        logger.exception("could not render the error page for status %s", status_code)
        return PlainTextResponse(message, status_code=status_code)
