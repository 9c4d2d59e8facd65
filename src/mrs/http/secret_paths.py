"""Paths that carry a secret: a calendar feed's URL holds its token (the subscriber's
only credential), so logs write these paths masked, never as requested."""

from __future__ import annotations

SECRET_PATH_PREFIXES = ("/calendar/",)
MASK = "***"


def loggable_path(path: str) -> str:
    """The request path as logs may write it: a secret-bearing path as its prefix only."""
    for prefix in SECRET_PATH_PREFIXES:
        if path.startswith(prefix):
            return prefix + MASK
    return path
