"""Routes for browser clients: the CSRF token to send with unsafe requests."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from mrs.security.csrf import CSRF_FORM_FIELD, CSRF_HEADER, csrf_token

router = APIRouter(prefix="/api", tags=["security"])


class CsrfTokenRead(BaseModel):
    csrf_token: str
    header_name: str = CSRF_HEADER
    form_field: str = CSRF_FORM_FIELD


@router.get("/auth/csrf-token", response_model=CsrfTokenRead)
async def get_csrf_token(request: Request, response: Response) -> CsrfTokenRead:
    """A CSRF token bound to the caller's session (or, before login, to its CSRF cookie).

    Scripts on our own pages send it back in the `X-CSRF-Token` header; other sites
    cannot read this response (no CORS), so they cannot obtain one.
    """
    response.headers["Cache-Control"] = "no-store"
    return CsrfTokenRead(csrf_token=csrf_token(request))
