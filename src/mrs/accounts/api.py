"""Account routes: login and sessions, self-registration, approval and user administration."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from mrs.accounts import groups, registration, session_cookie, sessions, stats, users
from mrs.accounts import login as logins
from mrs.accounts.dependencies import AdminUser, AuthNowDep, CurrentUser, admin_user
from mrs.accounts.errors import RegistrationClosed
from mrs.accounts.models import User
from mrs.accounts.schemas import (
    AccountStats,
    AdminUserListRead,
    AdminUserRead,
    EndedSessions,
    LoginRequest,
    PasswordChange,
    RegistrationCreate,
    RegistrationRead,
    RejectRequest,
    RoleChange,
    SessionRead,
    TokenRead,
    UserLookupRead,
    UserRead,
)
from mrs.errors import NotFound
from mrs.http.dependencies import DatabaseDep, LocaleDep, SettingsDep
from mrs.i18n import display_name
from mrs.notifications.api import outbox_router
from mrs.settings import Settings

router = APIRouter(prefix="/api", tags=["accounts"])
# The mail outbox's admin routes, guarded here: notifications cannot import accounts.
mail_outbox_router = outbox_router(admin_user)

UserIdPath = Annotated[str, Path(min_length=1, max_length=64, description="User id")]
SessionIdPath = Annotated[str, Path(min_length=1, max_length=64, description="Session id")]


def _client_address(request: Request) -> str:
    return session_cookie.client_address(request)


def _start_session(
    request: Request,
    response: Response,
    settings: Settings,
    opened: sessions.NewSession,
    now: datetime,
) -> TokenRead:
    """Issue the token for a new session and set the session cookie."""
    issued = session_cookie.issue_session_token(settings, opened, now=now)
    session_cookie.set_session_cookie(request, response, issued)
    return TokenRead(access_token=issued.token, expires_in=issued.expires_in)


@router.post("/auth/login", response_model=TokenRead)
async def login(
    body: LoginRequest,
    request: Request,
    response: Response,
    db: DatabaseDep,
    settings: SettingsDep,
    now: AuthNowDep,
) -> TokenRead:
    """Log in with user id and password; returns a bearer token and sets the session cookie."""
    issued = await session_cookie.log_in(
        db, settings, request, user_id=body.user_id, password=body.password, now=now
    )
    session_cookie.set_session_cookie(request, response, issued)
    return TokenRead(access_token=issued.token, expires_in=issued.expires_in)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(user: CurrentUser, response: Response, db: DatabaseDep, now: AuthNowDep) -> None:
    """End this session: its token stops working at once and the cookie is cleared."""
    await session_cookie.log_out(db, response, user=user, now=now)


@router.get("/me", response_model=UserRead)
async def me(user: CurrentUser, db: DatabaseDep) -> User:
    record = await users.get_user(db, user_id=user.user_id)
    if record is None:
        raise NotFound()
    return record


@router.post("/me/password", response_model=TokenRead)
async def change_password(
    body: PasswordChange,
    user: CurrentUser,
    request: Request,
    response: Response,
    db: DatabaseDep,
    settings: SettingsDep,
    now: AuthNowDep,
) -> TokenRead:
    """Change your password. Every session ends; this one continues with the new token."""
    opened = await logins.change_password(
        db,
        settings,
        user_id=user.user_id,
        current_password=body.current_password,
        new_password=body.new_password,
        now=now,
        client_address=_client_address(request),
        user_agent=request.headers.get("user-agent"),
    )
    return _start_session(request, response, settings, opened, now)


@router.get("/users/lookup", response_model=list[UserLookupRead])
async def lookup_users(
    _user: CurrentUser,
    db: DatabaseDep,
    locale: LocaleDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=users.MAX_SEARCH_LENGTH,
            description="The start of a user id, a name or an email (any case)",
        ),
    ],
) -> list[UserLookupRead]:
    """Up to 10 active users for the attendees type-ahead: id and name in the reader's
    language, never the email."""
    found = await users.lookup_users(db, query=q)
    return [
        UserLookupRead(
            user_id=user.user_id,
            display_name=display_name(locale, user.first_name, user.last_name) or user.user_id,
        )
        for user in found
    ]


@router.get("/me/sessions", response_model=list[SessionRead])
async def my_sessions(
    user: CurrentUser, db: DatabaseDep, settings: SettingsDep, now: AuthNowDep
) -> list[SessionRead]:
    """Your open sessions (devices where you are logged in), newest first."""
    open_sessions = await sessions.list_sessions(db, settings, user_id=user.user_id, now=now)
    return [
        SessionRead(
            session_id=info.session_id,
            created_at=info.created_at,
            last_seen_at=info.last_seen_at,
            expires_at=info.expires_at,
            client_address=info.client_address,
            user_agent=info.user_agent,
            current=info.session_id == user.session_id,
        )
        for info in open_sessions
    ]


@router.delete("/me/sessions", response_model=EndedSessions)
async def end_my_other_sessions(
    user: CurrentUser, db: DatabaseDep, now: AuthNowDep
) -> EndedSessions:
    """End all your sessions except this one."""
    ended = await sessions.end_other_sessions(
        db, user_id=user.user_id, keep=user.session_id, now=now
    )
    return EndedSessions(ended=ended)


@router.delete("/me/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def end_my_session(
    session_id: SessionIdPath, user: CurrentUser, db: DatabaseDep, now: AuthNowDep
) -> None:
    """End one of your sessions."""
    await sessions.end_session(db, user_id=user.user_id, session_id=session_id, now=now)


@router.post(
    "/users/register",
    response_model=RegistrationRead,
    status_code=status.HTTP_201_CREATED,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": RegistrationCreate.model_json_schema()}},
        }
    },
)
async def register(
    payload: Annotated[Any, Body(include_in_schema=False)],
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    now: AuthNowDep,
    locale: LocaleDep,
) -> RegistrationRead:
    """Register yourself; an administrator approves the account before you can log in.

    Attempts are limited per client address and per email domain (429 with Retry-After);
    403 when self-registration is turned off.
    """
    if not settings.registration_enabled:
        raise RegistrationClosed()
    # Validated here rather than by FastAPI so refused input is counted in the registration
    # log: the plan's success rate needs the failures too.
    try:
        body = RegistrationCreate.model_validate(payload)
    except ValidationError as exc:
        await registration.record_invalid_registration(
            db,
            settings,
            client_address=_client_address(request),
            email=payload.get("email") if isinstance(payload, dict) else None,
            now=now,
        )
        raise RequestValidationError(exc.errors(include_url=False)) from exc
    user = await registration.register_user(
        db,
        settings,
        user_id=body.user_id,
        first_name=body.first_name,
        last_name=body.last_name,
        email=body.email,
        password=body.password,
        now=now,
        client_address=_client_address(request),
        locale=locale,
    )
    return RegistrationRead(user_id=user.user_id, status=user.status)


@router.get("/admin/users", response_model=list[AdminUserListRead])
async def list_users(_admin: AdminUser, db: DatabaseDep) -> list[AdminUserListRead]:
    """Every user by id, with the names of their groups."""
    found = await users.list_users(db)
    names = await groups.groups_of_users(db, user_ids=[user.user_id for user in found])
    return [
        AdminUserListRead.model_validate(
            {**AdminUserRead.model_validate(user).model_dump(), "groups": names[user.user_id]}
        )
        for user in found
    ]


@router.get("/admin/pending-users", response_model=list[AdminUserRead])
async def pending_users(_admin: AdminUser, db: DatabaseDep) -> list[User]:
    """Registrations waiting for a decision, oldest first."""
    return await registration.list_pending_users(db)


@router.post("/admin/approve-user/{user_id}", response_model=AdminUserRead)
async def approve_user(
    user_id: UserIdPath, admin: AdminUser, db: DatabaseDep, now: AuthNowDep
) -> User:
    """Approve a pending registration (409 when already decided)."""
    return await registration.approve_user(db, user_id=user_id, admin_id=admin.user_id, now=now)


@router.post("/admin/reject-user/{user_id}", response_model=AdminUserRead)
async def reject_user(
    user_id: UserIdPath,
    admin: AdminUser,
    db: DatabaseDep,
    now: AuthNowDep,
    body: RejectRequest | None = None,
) -> User:
    """Reject a pending registration, optionally with a reason (409 when already decided)."""
    return await registration.reject_user(
        db,
        user_id=user_id,
        admin_id=admin.user_id,
        now=now,
        reason=body.reason if body else None,
    )


@router.post("/admin/users/{user_id}/disable", response_model=AdminUserRead)
async def disable_user(
    user_id: UserIdPath, admin: AdminUser, db: DatabaseDep, now: AuthNowDep
) -> User:
    """Disable a user: their sessions end at once and they can no longer log in."""
    return await users.disable_user(db, user_id=user_id, admin_id=admin.user_id, now=now)


@router.put(
    "/admin/users/{user_id}/role",
    response_model=AdminUserRead,
    responses={409: {"description": "The last active administrator cannot be demoted."}},
)
async def change_role(
    user_id: UserIdPath, body: RoleChange, admin: AdminUser, db: DatabaseDep, now: AuthNowDep
) -> User:
    """Make a user an administrator or a plain user (never the last active administrator)."""
    return await users.change_role(
        db, user_id=user_id, role=body.role, admin_id=admin.user_id, now=now
    )


@router.post("/admin/users/{user_id}/enable", response_model=AdminUserRead)
async def enable_user(
    user_id: UserIdPath, admin: AdminUser, db: DatabaseDep, now: AuthNowDep
) -> User:
    """Re-enable a disabled user."""
    return await users.enable_user(db, user_id=user_id, admin_id=admin.user_id, now=now)


@router.post("/admin/users/{user_id}/end-sessions", response_model=EndedSessions)
async def end_user_sessions(
    user_id: UserIdPath, admin: AdminUser, db: DatabaseDep, now: AuthNowDep
) -> EndedSessions:
    """End every session of a user (they must log in again)."""
    ended = await users.end_sessions(db, user_id=user_id, now=now, admin_id=admin.user_id)
    return EndedSessions(ended=ended)


@router.get("/admin/account-stats", response_model=AccountStats)
async def account_stats(
    _admin: AdminUser,
    db: DatabaseDep,
    now: AuthNowDep,
    days: Annotated[int, Query(ge=1, le=3650)] = 30,
) -> AccountStats:
    """Registration and login figures of the last `days` days, from the database."""
    return await stats.account_stats(db, since=now - timedelta(days=days))
