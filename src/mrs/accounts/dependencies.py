"""Who is calling: the token from the Authorization header or the session cookie."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from mrs.accounts import sessions
from mrs.accounts.errors import AdminOnly
from mrs.accounts.sessions import AuthenticatedUser
from mrs.accounts.tokens import decode_token
from mrs.errors import Unauthenticated
from mrs.http.dependencies import DatabaseDep, SettingsDep

SESSION_COOKIE = "mrs_session"
# Over HTTPS the cookie is Secure with the `__Host-` prefix: no subdomain or plain-HTTP
# page can set or overwrite it.
SECURE_SESSION_COOKIE = "__Host-mrs_session"


def session_cookie_name(request: Request) -> str:
    """The session cookie's name for this request's scheme (the one place that decides)."""
    return SECURE_SESSION_COOKIE if request.url.scheme == "https" else SESSION_COOKIE


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return None


def request_token(request: Request) -> str | None:
    """The access token of a request: a Bearer header wins over the cookie."""
    return bearer_token(request) or request.cookies.get(session_cookie_name(request))


def auth_now(request: Request) -> datetime:
    """Now, for sessions and throttling (real time, like the token's expiry)."""
    now: datetime = request.app.state.auth_clock()
    return now


async def _auth_now_dependency(request: Request) -> datetime:
    # An async dependency runs inline; a plain `def` one costs a thread-pool hop per request.
    return auth_now(request)


AuthNowDep = Annotated[datetime, Depends(_auth_now_dependency)]


async def optional_user(
    request: Request, db: DatabaseDep, settings: SettingsDep
) -> AuthenticatedUser | None:
    token = request_token(request)
    if token is None:
        return None
    claims = decode_token(
        token,
        secret=settings.effective_secret_key,
        previous_secrets=settings.previous_secret_key_list,
    )
    user = await sessions.user_for_token(
        db, claims=claims, now=auth_now(request), settings=settings
    )
    request.state.user = user
    return user


async def current_user(
    user: Annotated[AuthenticatedUser | None, Depends(optional_user)],
) -> AuthenticatedUser:
    if user is None:
        raise Unauthenticated()
    return user


async def admin_user(
    user: Annotated[AuthenticatedUser, Depends(current_user)],
) -> AuthenticatedUser:
    if not user.is_admin:
        raise AdminOnly()
    return user


CurrentUser = Annotated[AuthenticatedUser, Depends(current_user)]
AdminUser = Annotated[AuthenticatedUser, Depends(admin_user)]
OptionalUser = Annotated[AuthenticatedUser | None, Depends(optional_user)]
