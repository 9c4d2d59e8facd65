"""Admin view of the mail outbox.

The admin check is passed in (`outbox_router(guard)`): notifications never import
accounts, which import notifications to queue their mails.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from mrs.http.dependencies import DatabaseDep
from mrs.notifications import service
from mrs.notifications.models import MailState


class OutboxMailRead(BaseModel):
    mail_id: int
    recipient: str
    subject: str
    state: str
    # Sending attempts so far (retries = attempts - 1); the unclear ones sent DATA but got
    # no final answer, so the recipient may have more than one copy (same Message-ID).
    attempts: int
    unclear_attempts: int
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None


class OutboxRead(BaseModel):
    summary: dict[str, int]
    mails: list[OutboxMailRead]


def outbox_router(admin_guard: Callable[..., Any]) -> APIRouter:
    """The outbox routes, each behind `admin_guard` (a FastAPI dependency)."""
    router = APIRouter(
        prefix="/api/admin", tags=["notifications"], dependencies=[Depends(admin_guard)]
    )
    router.add_api_route("/mail-outbox", mail_outbox, methods=["GET"], response_model=OutboxRead)
    return router


async def mail_outbox(
    db: DatabaseDep,
    state: MailState | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> OutboxRead:
    """Counts by state and the newest messages (bodies are not shown)."""
    entries = await service.list_outbox(db, state=state, limit=limit)
    return OutboxRead(
        summary=await service.outbox_summary(db),
        mails=[OutboxMailRead.model_validate(entry, from_attributes=True) for entry in entries],
    )
