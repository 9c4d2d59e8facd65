"""Marking page strings for translation where they are translated later."""

from __future__ import annotations


def N_(msgid: str) -> str:  # noqa: N802 - the gettext convention for "no-op"
    """Mark a msgid for extraction without translating it yet (gettext_noop)."""
    return msgid
