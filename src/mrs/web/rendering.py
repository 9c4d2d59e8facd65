"""Jinja2 templates, the page context every template sees, and locale-aware formatting.

Templates translate with `_("English msgid", name=value)`: the same msgids and `.po`
catalogs as the rest of the service (mrs.i18n), extracted with `pybabel extract -F babel.cfg`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from functools import partial
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from mrs import __version__
from mrs.accounts.sessions import AuthenticatedUser
from mrs.http.dependencies import request_locale
from mrs.i18n import SUPPORTED_LOCALES, display_name, format_day, format_instant, translate
from mrs.security.csrf import CSRF_FORM_FIELD, csrf_token
from mrs.settings import Settings
from mrs.wallclock import format_minute
from mrs.web.devices import parse_device
from mrs.web.navigation import nav_for
from mrs.web.slots import TimeRange

# Names shown on the language switch, each in its own language.
LANGUAGE_NAMES = {"en": "English", "ja": "日本語"}


@pass_context
def _translate(context: Context, msgid: str, **params: Any) -> str:
    return translate(context["locale"], msgid, **params)


@pass_context
def _csrf_token(context: Context) -> str:
    return csrf_token(context["request"])


@pass_context
def _day(context: Context, day: date) -> str:
    """A date in the page's language (mrs.i18n.format_day: one format everywhere)."""
    return format_day(context["locale"], day)


@pass_context
def _instant(context: Context, moment: datetime) -> str:
    """An instant in the site's time zone and the reader's language, 24-hour."""
    settings: Settings = context["settings"]
    return format_instant(context["locale"], moment, settings.tz)


@pass_context
def _person(context: Context, person: Any) -> str:
    """Anything with `first_name` and `last_name`, in the reader's name order."""
    return display_name(context["locale"], person.first_name, person.last_name)


# One letter per state (f free, t taken, p past, c outside the room's hours; h starts an hour): the rooms page draws
# a cell per slot for every room, and with full class names the bars were half of its
# bytes, and of the TLS work to send them.
_CELL_CLASS = {"free": "f", "taken": "t", "past": "p", "closed": "c"}


def _timeline(cells: Sequence[tuple[int, str]]) -> Markup:
    """The cells of a room's day bar (from `timeline_cells`), built in Python: the rooms
    page draws one per room and a template loop over every cell was most of its rendering
    time. Only fixed class names go into this markup, never data."""
    return Markup(  # noqa: S704 - fixed strings only, no user data
        "".join(
            f'<i class="{_CELL_CLASS[state]} h"></i>'
            if start % 60 == 0
            else f'<i class="{_CELL_CLASS[state]}"></i>'
            for start, state in cells
        )
    )


def _scale(cells: Sequence[tuple[int, str]]) -> Markup:
    """The time scale under the day bars: a tick at every hour, a label every three
    hours (more would not fit a phone-width card), cell for cell as `_timeline` so the
    ticks line up with the bars. Every room gets the same one (the grid is shared)."""
    step = 60 if len(cells) and cells[-1][0] - cells[0][0] <= 6 * 60 else 180
    return Markup(  # noqa: S704 - formatted digits and fixed markup only
        "".join(
            (
                f'<i class="h"><span>{format_minute(start)}</span></i>'
                if start % step == 0
                else '<i class="h"></i>'
            )
            if start % 60 == 0
            else "<i></i>"
            for start, _state in cells
        )
    )


@pass_context
def _device(context: Context, user_agent: str | None) -> str:
    """ "Chrome on Linux" for a session's User-Agent, in the page's language."""
    browser, system = parse_device(user_agent)
    locale = context["locale"]
    if browser and system:
        return translate(locale, "{browser} on {system}", browser=browser, system=system)
    if browser:
        return translate(locale, "{name} (unknown system)", name=browser)
    if system:
        return translate(locale, "A browser on {name}", name=system)
    return translate(locale, "Unknown browser")


def _taken_ranges(taken: Sequence[TimeRange]) -> Markup:
    """ "09:00–12:00, 13:00–14:30" for a room's taken times (in order), back-to-back
    reservations shown as one busy stretch, which is what someone looking for a free room
    needs. Built in Python for the same reason as the timeline; the text is only
    formatted digits, never user data."""
    stretches: list[list[int]] = []
    for t in taken:
        if stretches and t.start_time <= stretches[-1][1]:
            stretches[-1][1] = max(stretches[-1][1], t.end_time)
        else:
            stretches.append([t.start_time, t.end_time])
    return Markup(  # noqa: S704 - digits and fixed markup only
        ", ".join(
            f'<span class="taken-range">{format_minute(start)}–{format_minute(end)}</span>'
            for start, end in stretches
        )
    )


def _static_url(path: str) -> str:
    # The version busts caches when a release changes the asset.
    return f"/static/{path}?v={__version__}"


def _build_environment() -> Environment:
    env = Environment(
        loader=PackageLoader("mrs.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates ship with the package; checking their files on every render costs time.
        auto_reload=False,
    )
    env.globals.update(
        _=_translate,
        csrf_token=_csrf_token,
        csrf_field_name=CSRF_FORM_FIELD,
        static_url=_static_url,
        language_names=LANGUAGE_NAMES,
        supported_locales=SUPPORTED_LOCALES,
    )
    env.filters.update(
        hm=format_minute,
        day=_day,
        instant=_instant,
        person=_person,
        timeline=_timeline,
        scale=_scale,
        device=_device,
        taken_ranges=_taken_ranges,
    )
    return env


ENVIRONMENT = _build_environment()


def page_user(request: Request) -> AuthenticatedUser | None:
    """The logged-in user the page dependencies found, if any."""
    user = getattr(request.state, "user", None)
    return user if isinstance(user, AuthenticatedUser) else None


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """Render a page in the request's language with the shared layout context."""
    locale = request_locale(request)
    settings: Settings = request.app.state.settings
    user = page_user(request)
    values: dict[str, Any] = {
        # Bound to the page's language here: as plain functions, not `pass_context` ones,
        # Jinja calls them without building a derived context per call (inside a loop or
        # after a `set`, that was a tenth of the rooms page's time).
        "_": partial(translate, locale),
        "csrf_token": partial(csrf_token, request),
        "request": request,
        "locale": locale,
        "settings": settings,
        "user": user,
        "nav": nav_for(user, approver=getattr(request.state, "approver", False)),
        "current_path": request.url.path,
        "here": _here(request),
        "done": None,
    }
    values.update(context or {})
    html = ENVIRONMENT.get_template(template).render(values)
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Content-Language"] = locale
    # Pages carry personal data and per-language text: never cache them in shared caches.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Cookie, Accept-Language"
    return response


def _here(request: Request) -> str:
    """The current path and query, for "come back here" links (the language switch)."""
    query = request.url.query
    return f"{request.url.path}?{query}" if query else request.url.path
