"""Who may see monitoring details: an admin, or a caller with the management token."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.exc import SQLAlchemyError

from mrs.accounts.dependencies import bearer_token, optional_user
from mrs.errors import DomainError, Forbidden, Unauthenticated
from mrs.http.dependencies import DatabaseDep, SettingsDep


async def management_access(request: Request, db: DatabaseDep, settings: SettingsDep) -> str | None:
    """Who is calling: "token", "admin" or "user"; None for anonymous or bad credentials."""
    bearer = bearer_token(request)
    expected = settings.management_token
    if expected and bearer and hmac.compare_digest(bearer.encode(), expected.encode()):
        return "token"
    try:
        user = await optional_user(request, db, settings)
    except (DomainError, SQLAlchemyError, OSError):
        # A bad token or an unreachable database: the caller gets the anonymous view.
        return None
    if user is None:
        return None
    return "admin" if user.is_admin else "user"


ManagementAccess = Annotated[str | None, Depends(management_access)]


def require_management(access: ManagementAccess) -> str:
    """Refuse callers who are neither an admin nor holding the management token."""
    if access is None:
        raise Unauthenticated()
    if access not in ("admin", "token"):
        raise Forbidden("This page is for administrators only.")
    return access


RequiredManagement = Annotated[str, Depends(require_management)]
