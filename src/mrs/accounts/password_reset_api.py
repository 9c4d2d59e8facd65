"""Password reset routes: ask for a reset mail, use its link, and an admin's reset mail."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field

from mrs.accounts import password_reset, session_cookie
from mrs.accounts.api import UserIdPath
from mrs.accounts.dependencies import AdminUser, AuthNowDep
from mrs.http.dependencies import DatabaseDep, SettingsDep
from mrs.settings import Settings

router = APIRouter(prefix="/api", tags=["accounts"])

# The one answer to every accepted request, whether or not the account exists.
REQUEST_ACCEPTED = (
    "If an active account matches, a mail with a link to reset its password is on its way."
)


class PasswordResetRequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(
        min_length=1, max_length=320, description="The account's email address or user ID."
    )


class PasswordResetConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=1, max_length=1024)


class PasswordResetAccepted(BaseModel):
    message: str


def site_base(settings: Settings, request: Request) -> str:
    """Where the mailed link points: MRS_PUBLIC_URL, else the address the request came to."""
    return settings.public_url or str(request.base_url)


@router.post(
    "/auth/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=PasswordResetAccepted,
)
async def request_password_reset(
    body: PasswordResetRequestBody,
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    now: AuthNowDep,
) -> PasswordResetAccepted:
    """Ask for a reset mail. The same answer (202) whether or not the account exists;
    429 past the limit per client address or per account."""
    await password_reset.request_reset(
        db,
        settings,
        account=body.email,
        client_address=session_cookie.client_address(request),
        base_url=site_base(settings, request),
        now=now,
    )
    return PasswordResetAccepted(message=REQUEST_ACCEPTED)


@router.post("/auth/password-reset/confirm", status_code=status.HTTP_204_NO_CONTENT)
async def confirm_password_reset(
    body: PasswordResetConfirm, db: DatabaseDep, now: AuthNowDep
) -> None:
    """Set a new password with the mailed token: every session of the user ends.
    400 for an unknown token, 410 for one expired, used or replaced by a newer one."""
    await password_reset.reset_password(
        db, token=body.token, new_password=body.new_password, now=now
    )


@router.post("/admin/users/{user_id}/password-reset", status_code=status.HTTP_202_ACCEPTED)
async def admin_password_reset(
    user_id: UserIdPath,
    admin: AdminUser,
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    now: AuthNowDep,
) -> None:
    """Send an active user the password reset mail (409 when the user is not active)."""
    await password_reset.send_reset(
        db,
        settings,
        user_id=user_id,
        admin_id=admin.user_id,
        base_url=site_base(settings, request),
        now=now,
    )
