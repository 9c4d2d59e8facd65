"""Every string the web pages show has a Japanese translation, and pages stay CSP-clean."""

from __future__ import annotations

import re
import string
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from mrs.i18n import LOCALE_DIR, _catalog

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "src" / "mrs" / "web" / "templates"
# The same keywords as the extraction command in babel.cfg.
KEYWORDS = {"_": None, "N_": None, "translate": (2,)}


def _web_msgids() -> set[str]:
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: set[str] = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_extraction_finds_the_page_strings() -> None:
    msgids = _web_msgids()
    # Strings from templates, from Python marked with N_, and from translate() calls.
    assert {"Reserve this time", "Manage rooms", "Choose at least one weekday."} <= msgids
    assert len(msgids) > 80


def test_every_page_string_has_a_japanese_translation() -> None:
    missing = sorted(_web_msgids() - _catalog("ja").keys())
    assert missing == []


def test_web_translations_keep_their_placeholders() -> None:
    with (LOCALE_DIR / "ja" / "LC_MESSAGES" / "web.po").open("rb") as handle:
        catalog = read_po(handle, locale="ja")
    wrong = [
        message.id
        for message in catalog
        if message.id and _fields(str(message.id)) != _fields(str(message.string))
    ]
    assert wrong == []


def test_templates_have_no_inline_script_style_or_handlers() -> None:
    """The Content-Security-Policy (default-src 'self') would block them."""
    offenders = []
    patterns = [
        re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
        re.compile(r"<style\b", re.IGNORECASE),
        re.compile(r"\sstyle\s*=", re.IGNORECASE),
        re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
        re.compile(r"javascript:", re.IGNORECASE),
    ]
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        offenders += [f"{path.name}: {p.pattern}" for p in patterns if p.search(text)]
    assert offenders == []


def test_every_post_form_carries_the_csrf_field() -> None:
    missing = []
    for path in TEMPLATES.rglob("*.html"):
        for form in re.findall(r"<form\b[^>]*>.*?</form>", path.read_text(), re.DOTALL):
            if 'method="post"' in form and "csrf" not in form:
                missing.append(path.name)
    assert missing == []
