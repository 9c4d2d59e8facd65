"""Tables of the monitoring domain: alert state and history, request-metric samples."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from mrs.db.base import Base
from mrs.db.types import UTCDateTime

_ID = BigInteger().with_variant(Integer(), "sqlite")


class AlertEventKind(enum.StrEnum):
    FIRING = "FIRING"
    RESOLVED = "RESOLVED"
    REMINDER = "REMINDER"


class AlertState(Base):
    """The current state of one rule, shared by every process (one row per rule)."""

    __tablename__ = "alert_state"

    rule: Mapped[str] = mapped_column(String(64), primary_key=True)
    firing: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    since_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    last_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    notified_firing: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    message: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    # Raised by every state change; a change applies only to the version it was computed
    # from, so concurrent evaluators (workers, hosts) make each transition once.
    version: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default=text("0")
    )


class AlertEvent(Base):
    """Alert history: every firing, reminder and resolution, with where it was sent."""

    __tablename__ = "alert_event"

    event_id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    rule: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    severity: Mapped[str] = mapped_column(String(16), nullable=False)
    message: Mapped[str] = mapped_column(String(500), nullable=False)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)
    # Channels it went to ("log,webhook,email"); empty when de-duplicated by the cooldown.
    channels: Mapped[str] = mapped_column(String(200), nullable=False, default="")


class MetricSample(Base):
    """Cumulative request figures over all processes, taken at each alert evaluation.

    Differences between two samples give the rates and percentiles of a window, which
    any process can compute from the database (the dashboard may be served by any worker).
    """

    __tablename__ = "metric_sample"

    sample_id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)
    requests: Mapped[float] = mapped_column(Float, nullable=False)
    errors: Mapped[float] = mapped_column(Float, nullable=False)
    slow: Mapped[float] = mapped_column(Float, nullable=False)
    duration_sum: Mapped[float] = mapped_column(Float, nullable=False)
    # JSON object {upper bound: cumulative count}.
    buckets: Mapped[str] = mapped_column(Text, nullable=False)
