"""Account routes: login, logout, who am I, the admin user list."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response, status

from mrs.accounts import service
from mrs.accounts.dependencies import AdminUser, CurrentUser, session_cookie_name
from mrs.accounts.models import User
from mrs.accounts.schemas import LoginRequest, TokenRead, UserRead
from mrs.accounts.tokens import issue_token
from mrs.clock import system_clock
from mrs.errors import NotFound
from mrs.http.dependencies import DatabaseDep, SettingsDep

router = APIRouter(prefix="/api", tags=["accounts"])


@router.post("/auth/login", response_model=TokenRead)
async def login(
    body: LoginRequest, request: Request, response: Response, db: DatabaseDep, settings: SettingsDep
) -> TokenRead:
    """Log in with user id and password; returns a bearer token and sets the session cookie."""
    user = await service.authenticate(db, user_id=body.user_id, password=body.password)
    lifetime = timedelta(minutes=settings.access_token_minutes)
    issued = issue_token(
        user_id=user.user_id,
        secret=settings.effective_secret_key,
        now=system_clock(),
        lifetime=lifetime,
    )
    response.set_cookie(
        session_cookie_name(request),
        issued.token,
        max_age=issued.expires_in,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return TokenRead(access_token=issued.token, expires_in=issued.expires_in)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(user: CurrentUser, request: Request, response: Response, db: DatabaseDep) -> None:
    """End the session: the token stops working at once and the cookie is cleared."""
    await service.revoke_tokens(db, user_id=user.user_id, now=system_clock())
    response.delete_cookie(
        session_cookie_name(request),
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )


@router.get("/me", response_model=UserRead)
async def me(user: CurrentUser, db: DatabaseDep) -> User:
    record = await service.get_user(db, user_id=user.user_id)
    if record is None:
        raise NotFound()
    return record


@router.get("/admin/users", response_model=list[UserRead])
async def list_users(_admin: AdminUser, db: DatabaseDep) -> list[User]:
    return await service.list_users(db)
