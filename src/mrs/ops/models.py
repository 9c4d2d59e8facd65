"""The backup history: one row per backup, verify, prune, restore or drill attempt."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mrs.db.base import Base
from mrs.db.types import UTCDateTime


class RunKind(enum.StrEnum):
    BACKUP = "BACKUP"
    VERIFY = "VERIFY"
    PRUNE = "PRUNE"
    RESTORE = "RESTORE"
    DRILL = "DRILL"


class RunStatus(enum.StrEnum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class BackupRun(Base):
    """What one operation did: shown on the dashboard, read by the backup health check."""

    __tablename__ = "backup_run"
    __table_args__ = (
        CheckConstraint("kind IN ('BACKUP', 'VERIFY', 'PRUNE', 'RESTORE', 'DRILL')", name="kind"),
        CheckConstraint("status IN ('RUNNING', 'SUCCEEDED', 'FAILED')", name="status"),
        Index("ix_backup_run_kind_started_at", "kind", "started_at"),
    )

    run_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    # Why it ran: "schedule", "manual", "pre-restore", ...
    trigger: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    path: Mapped[str | None] = mapped_column(String(1024))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    # A short human summary (rows restored, RTO/RPO, files pruned, ...).
    detail: Mapped[str | None] = mapped_column(Text)
