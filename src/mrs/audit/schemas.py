"""The audit log's JSON shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from mrs.audit.models import AuditEntry
from mrs.audit.rules import parsed


class AuditEntryRead(BaseModel):
    audit_id: int
    at: datetime
    actor_id: str | None
    on_behalf_of: str | None
    action: str
    subject_type: str
    subject_id: str
    before: Any
    after: Any
    request_id: str | None
    client_address: str | None

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryRead:
        return cls(
            audit_id=entry.audit_id,
            at=entry.at,
            actor_id=entry.actor_id,
            on_behalf_of=entry.on_behalf_of,
            action=entry.action,
            subject_type=entry.subject_type,
            subject_id=entry.subject_id,
            before=parsed(entry.before),
            after=parsed(entry.after),
            request_id=entry.request_id,
            client_address=entry.client_address,
        )


class AuditPage(BaseModel):
    """One page of the log, newest first, and how many rows match in all."""

    total: int
    offset: int
    limit: int
    entries: list[AuditEntryRead]
