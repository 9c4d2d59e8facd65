"""Every message a user can be shown has a Japanese translation."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from babel.messages.pofile import read_po

import mrs
from mrs.errors import DomainError
from mrs.http.error_handlers import _STATUS_MESSAGES, _VALIDATION_MESSAGES
from mrs.i18n import _catalog


def _all_subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _all_subclasses(sub)
    return found


def test_every_domain_error_message_is_translated() -> None:
    for module in pkgutil.walk_packages(mrs.__path__, "mrs."):
        if module.name.endswith((".errors", ".rules")):
            importlib.import_module(module.name)
    catalog = _catalog("ja")
    missing = sorted(
        {cls.message for cls in _all_subclasses(DomainError) | {DomainError}} - catalog.keys()
    )
    assert missing == []


def test_every_validation_and_status_message_is_translated() -> None:
    catalog = _catalog("ja")
    expected = set(_VALIDATION_MESSAGES.values()) | {m for _, m in _STATUS_MESSAGES.values()}
    assert sorted(expected - catalog.keys()) == []


def test_one_english_message_has_one_japanese_translation_across_catalogues() -> None:
    catalogues = Path(mrs.__file__).parent / "locale" / "ja" / "LC_MESSAGES"
    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for path in sorted(catalogues.glob("*.po")):
        with path.open("rb") as po:
            for message in read_po(po):
                msgid = message.id if isinstance(message.id, str) else message.id[0]
                if not msgid:
                    continue
                first = seen.setdefault(msgid, (path.name, str(message.string)))
                if first[1] != message.string:
                    clashes.append(f"{msgid!r}: {first} vs {(path.name, message.string)}")
    assert clashes == []
