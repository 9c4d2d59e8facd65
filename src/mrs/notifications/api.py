"""Admin view of the mail outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from mrs.accounts.dependencies import AdminUser
from mrs.http.dependencies import DatabaseDep
from mrs.notifications import service
from mrs.notifications.models import MailState

router = APIRouter(prefix="/api/admin", tags=["notifications"])


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


@router.get("/mail-outbox", response_model=OutboxRead)
async def mail_outbox(
    _admin: AdminUser,
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
