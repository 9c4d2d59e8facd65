"""Who is looking at a page: like the API's, but a stale cookie means "not logged in"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from mrs.accounts import sessions
from mrs.accounts.dependencies import auth_now, request_token
from mrs.accounts.errors import AdminOnly
from mrs.accounts.sessions import AuthenticatedUser
from mrs.accounts.tokens import decode_token
from mrs.db.engine import Database
from mrs.errors import Unauthenticated
from mrs.http.dependencies import DatabaseDep, LocaleDep, NowDep, SettingsDep
from mrs.reservations import approvals
from mrs.settings import Settings


async def mark_page(request: Request) -> None:
    """Tell the error handlers that this request wants HTML answers."""
    request.state.page = True


async def page_visitor(
    request: Request, db: DatabaseDep, settings: SettingsDep
) -> AuthenticatedUser | None:
    """The logged-in user, or None (an expired or revoked cookie counts as logged out)."""
    token = request_token(request)
    if token is None:
        return None
    try:
        claims = decode_token(token, secret=settings.effective_secret_key)
        user = await sessions.user_for_token(
            db, claims=claims, now=auth_now(request), settings=settings
        )
    except Unauthenticated:  # expired, revoked or for a disabled account
        return None
    request.state.user = user
    if not user.is_admin:  # the navigation shows room managers the approvals page
        request.state.approver = await approvals.manages_any_room(db, user_id=user.user_id)
    return user


async def page_user(
    user: Annotated[AuthenticatedUser | None, Depends(page_visitor)],
) -> AuthenticatedUser:
    if user is None:
        raise Unauthenticated()
    return user


async def page_admin(user: Annotated[AuthenticatedUser, Depends(page_user)]) -> AuthenticatedUser:
    if not user.is_admin:
        raise AdminOnly()
    return user


Visitor = Annotated[AuthenticatedUser | None, Depends(page_visitor)]
PageUser = Annotated[AuthenticatedUser, Depends(page_user)]
PageAdmin = Annotated[AuthenticatedUser, Depends(page_admin)]


@dataclass(frozen=True)
class PageContext:
    """What a page handler and its page renderers share: the request, the database, the
    settings, the reader's language and now (the app's clock, for business rules)."""

    request: Request
    db: Database
    settings: Settings
    locale: str
    now: datetime


async def page_context(
    request: Request, db: DatabaseDep, settings: SettingsDep, locale: LocaleDep, now: NowDep
) -> PageContext:
    return PageContext(request=request, db=db, settings=settings, locale=locale, now=now)


Page = Annotated[PageContext, Depends(page_context)]
