"""Account routes: login, logout, who am I, the admin user list."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from mrs.accounts import service, session_cookie
from mrs.accounts.dependencies import AdminUser, CurrentUser
from mrs.accounts.models import User
from mrs.accounts.schemas import LoginRequest, TokenRead, UserRead
from mrs.clock import system_clock
from mrs.errors import NotFound
from mrs.http.dependencies import DatabaseDep, SettingsDep

router = APIRouter(prefix="/api", tags=["accounts"])


@router.post("/auth/login", response_model=TokenRead)
async def login(
    body: LoginRequest, request: Request, response: Response, db: DatabaseDep, settings: SettingsDep
) -> TokenRead:
    """Log in with user id and password; returns a bearer token and sets the session cookie."""
    _user, issued = await session_cookie.log_in(
        db, settings, user_id=body.user_id, password=body.password, now=system_clock()
    )
    session_cookie.set_session_cookie(request, response, issued)
    return TokenRead(access_token=issued.token, expires_in=issued.expires_in)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(user: CurrentUser, response: Response, db: DatabaseDep) -> None:
    """End the session: the token stops working at once and the cookie is cleared."""
    await session_cookie.log_out(db, response, user_id=user.user_id, now=system_clock())


@router.get("/me", response_model=UserRead)
async def me(user: CurrentUser, db: DatabaseDep) -> User:
    record = await service.get_user(db, user_id=user.user_id)
    if record is None:
        raise NotFound()
    return record


@router.get("/admin/users", response_model=list[UserRead])
async def list_users(_admin: AdminUser, db: DatabaseDep) -> list[User]:
    return await service.list_users(db)
