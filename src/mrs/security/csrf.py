"""CSRF token contract used by the web pages.

PLACEHOLDER: the security branch (issue 4) replaces this module at merge with the real
signed double-submit token and its check. The web templates only rely on this contract:
every POST form carries `<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">`.
"""

from __future__ import annotations

from starlette.requests import Request

CSRF_FORM_FIELD = "csrf_token"


def csrf_token(request: Request) -> str:
    """The token to embed in forms for this request (empty until the security merge)."""
    return ""
