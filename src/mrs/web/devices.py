"""A readable device name ("Chrome on Linux") from a browser's User-Agent header: pure,
no database. Only the common browsers and systems are named; anything else is "a browser"
rather than a guess."""

from __future__ import annotations

from typing import NamedTuple


class Device(NamedTuple):
    browser: str | None
    system: str | None


# Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
_BROWSERS = (
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("HeadlessChrome/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
# iPhone and Android before Linux and Mac OS X (their agents mention those too).
_SYSTEMS = (
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
)


def _first(agent: str, table: tuple[tuple[str, str], ...]) -> str | None:
    return next((name for marker, name in table if marker in agent), None)


def parse_device(user_agent: str | None) -> Device:
    """The browser and system a User-Agent names (None for what it does not say)."""
    agent = user_agent or ""
    return Device(browser=_first(agent, _BROWSERS), system=_first(agent, _SYSTEMS))
