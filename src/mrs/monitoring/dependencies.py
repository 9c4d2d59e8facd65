"""Who may see monitoring details: an admin, or a caller with the management token."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.exc import SQLAlchemyError

from mrs.accounts import service as accounts_service
from mrs.accounts.dependencies import bearer_token, request_token
from mrs.accounts.tokens import decode_token
from mrs.errors import DomainError, Forbidden, Unauthenticated
from mrs.http.dependencies import DatabaseDep, SettingsDep


async def management_access(request: Request, db: DatabaseDep, settings: SettingsDep) -> str | None:
    """ "token" or "admin" when the caller may see details; None for anyone else."""
    bearer = bearer_token(request)
    expected = settings.management_token
    if expected and bearer and hmac.compare_digest(bearer.encode(), expected.encode()):
        return "token"
    token = request_token(request)
    if token is None:
        return None
    try:
        claims = decode_token(token, secret=settings.effective_secret_key)
        user = await accounts_service.user_for_token(db, claims=claims)
    except (DomainError, SQLAlchemyError, OSError):
        # A bad token or an unreachable database: the caller gets the anonymous view.
        return None
    request.state.user = user
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
