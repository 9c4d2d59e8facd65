"""Translations (English source strings, gettext catalogs per language) and negotiation.

Catalogs are `.po` files under `mrs/locale/<lang>/LC_MESSAGES/`, one per domain (every
file there is read and merged), parsed with Babel at first use, so there is no compile
step. Messages use `{name}` fields, filled after translation.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_date
from babel.messages.pofile import read_po

SUPPORTED_LOCALES = ("en", "ja")
DEFAULT_LOCALE = "en"
LOCALE_DIR = Path(__file__).parent / "locale"


@cache
def _catalog(locale: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in sorted((LOCALE_DIR / locale / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        for message in catalog:
            if message.id and message.string and not message.fuzzy:
                merged[str(message.id)] = str(message.string)
    return merged


def translate(locale: str, msgid: str, **params: Any) -> str:
    """Translate `msgid` into `locale` and fill its `{name}` fields."""
    text = _catalog(locale).get(msgid, msgid) if locale != DEFAULT_LOCALE else msgid
    if not params:
        return text
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        # A broken translation must never break the response: fall back to English.
        return msgid.format(**params)


def negotiate_locale(accept_language: str | None, preferred: str | None = None) -> str:
    """Pick a supported locale: an explicit preference first, then Accept-Language."""
    if preferred in SUPPORTED_LOCALES:
        return str(preferred)
    if not accept_language:
        return DEFAULT_LOCALE
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")[:20]):
        piece = part.strip()
        if not piece:
            continue
        tag, _, q_part = piece.partition(";")
        quality = 1.0
        if q_part.strip().startswith("q="):
            try:
                quality = float(q_part.strip()[2:])
            except ValueError:
                quality = 0.0
        language = tag.strip().lower().split("-")[0]
        if language in SUPPORTED_LOCALES and quality > 0:
            choices.append((-quality, index, language))
    return sorted(choices)[0][2] if choices else DEFAULT_LOCALE


# One way to write a day per language, used by every page and mail: "2026年12月1日(火)" and
# "Tue 1 Dec 2026" (a weekday helps people booking rooms; numeric forms like 12/1 read
# differently across countries).
_DAY_PATTERNS = {"ja": "y年M月d日(E)", "en": "EEE d MMM y"}


def format_day(locale: str, day: date) -> str:
    """A date in the reader's language: "2026年12月1日(火)" / "Tue 1 Dec 2026"."""
    pattern = _DAY_PATTERNS.get(locale, _DAY_PATTERNS[DEFAULT_LOCALE])
    return str(format_date(day, format=pattern, locale=locale))


def format_instant(locale: str, moment: datetime, tz: tzinfo) -> str:
    """An instant in the site's time zone: the day as `format_day`, then 24-hour "05:46"."""
    local = moment.astimezone(tz)
    return f"{format_day(locale, local.date())} {local.hour:02d}:{local.minute:02d}"


def supported_locale(locale: str | None) -> str:
    """The language to write to someone in: theirs when MRS speaks it, else the default."""
    return locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE


def display_name(locale: str, first_name: str, last_name: str) -> str:
    """A person's name in the reader's order: family name first in Japanese ("田中 太郎"),
    given name first in English ("Taro Tanaka"). Honorifics ("さん") belong to the
    sentence around it, which the translation owns."""
    parts = (last_name, first_name) if locale == "ja" else (first_name, last_name)
    return " ".join(part.strip() for part in parts if part and part.strip())
