"""Starting and ending a browser session, shared by the JSON API and the web pages.

One place decides how a login becomes a token and a cookie, so the API and the pages
cannot drift apart (the security branch changes the cookie here, e.g. `__Host-` on HTTPS).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response

from mrs.accounts import service
from mrs.accounts.models import User
from mrs.accounts.tokens import IssuedToken, issue_token
from mrs.db.engine import Database
from mrs.settings import Settings

SESSION_COOKIE = "mrs_session"


async def log_in(
    db: Database, settings: Settings, *, user_id: str, password: str, now: datetime
) -> tuple[User, IssuedToken]:
    """Check the credentials and issue an access token (InvalidCredentials otherwise)."""
    user = await service.authenticate(db, user_id=user_id, password=password)
    issued = issue_token(
        user_id=user.user_id,
        secret=settings.effective_secret_key,
        now=now,
        lifetime=timedelta(minutes=settings.access_token_minutes),
    )
    return user, issued


def set_session_cookie(request: Request, response: Response, issued: IssuedToken) -> None:
    """Give the browser the token in an HttpOnly cookie (Secure when served over HTTPS)."""
    response.set_cookie(
        SESSION_COOKIE,
        issued.token,
        max_age=issued.expires_in,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


async def log_out(db: Database, response: Response, *, user_id: str, now: datetime) -> None:
    """End the session: every token issued so far stops working and the cookie is cleared."""
    await service.revoke_tokens(db, user_id=user_id, now=now)
    clear_session_cookie(response)


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
