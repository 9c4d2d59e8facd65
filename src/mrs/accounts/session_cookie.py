"""Starting and ending a browser session, shared by the JSON API and the web pages.

One place decides how a login becomes a session, a token and a cookie, so the API and the
pages cannot drift apart (the security branch changes the cookie here, e.g. `__Host-` on
HTTPS).
"""

from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response

from mrs.accounts import login, sessions
from mrs.accounts.dependencies import SECURE_SESSION_COOKIE, SESSION_COOKIE, session_cookie_name
from mrs.accounts.sessions import AuthenticatedUser
from mrs.accounts.tokens import IssuedToken, issue_token
from mrs.clock import system_clock
from mrs.db.engine import Database
from mrs.settings import Settings

__all__ = [
    "SESSION_COOKIE",
    "clear_session_cookie",
    "client_address",
    "issue_session_token",
    "log_in",
    "log_out",
    "set_session_cookie",
]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def issue_session_token(
    settings: Settings, opened: sessions.NewSession, *, now: datetime
) -> IssuedToken:
    """The signed token of a session just opened (never outliving the session)."""
    lifetime = sessions.session_token_lifetime(settings, expires_at=opened.expires_at, now=now)
    return issue_token(
        user_id=opened.user.user_id,
        secret=settings.effective_secret_key,
        # PyJWT checks exp/nbf against the real time; the session row keeps the app's clock.
        now=system_clock(),
        lifetime=lifetime,
        session_id=opened.session_id,
    )


def set_session_cookie(request: Request, response: Response, issued: IssuedToken) -> None:
    """Give the browser the token in an HttpOnly cookie (Secure when served over HTTPS)."""
    response.set_cookie(
        session_cookie_name(request),
        issued.token,
        max_age=issued.expires_in,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


async def log_in(
    db: Database,
    settings: Settings,
    request: Request,
    *,
    user_id: str,
    password: str,
    now: datetime,
) -> IssuedToken:
    """Check the credentials (throttled), open a session and issue its token."""
    opened = await login.login(
        db,
        settings,
        user_id=user_id,
        password=password,
        client_address=client_address(request),
        user_agent=request.headers.get("user-agent"),
        now=now,
    )
    return issue_session_token(settings, opened, now=now)


async def log_out(
    db: Database, response: Response, *, user: AuthenticatedUser, now: datetime
) -> None:
    """End the caller's session at once and clear the cookie."""
    await sessions.logout(db, user=user, now=now)
    clear_session_cookie(response)


def clear_session_cookie(response: Response) -> None:
    """Clear the session cookie under both names (plain HTTP and `__Host-` on HTTPS).

    A `__Host-` cookie is only replaced by a Set-Cookie with the same attributes, Secure
    included; over plain HTTP a browser ignores that line, which is harmless.
    """
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    response.delete_cookie(
        SECURE_SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="lax"
    )
