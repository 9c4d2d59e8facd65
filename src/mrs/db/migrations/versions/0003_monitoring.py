"""Monitoring: alert state, alert history, request-metric samples.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mrs.db.types import UTCDateTime

revision = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "alert_state",
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("firing", sa.Boolean(), nullable=False),
        sa.Column("since_at", UTCDateTime(), nullable=False),
        sa.Column("last_notified_at", UTCDateTime(), nullable=True),
        sa.Column("notified_firing", sa.Boolean(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("message", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("rule", name="pk_alert_state"),
    )
    op.create_table(
        "alert_event",
        sa.Column("event_id", _ID, autoincrement=True, nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("message", sa.String(500), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("channels", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_alert_event"),
    )
    op.create_index("ix_alert_event_created_at", "alert_event", ["created_at"])
    op.create_table(
        "metric_sample",
        sa.Column("sample_id", _ID, autoincrement=True, nullable=False),
        sa.Column("taken_at", UTCDateTime(), nullable=False),
        sa.Column("requests", sa.Float(), nullable=False),
        sa.Column("errors", sa.Float(), nullable=False),
        sa.Column("slow", sa.Float(), nullable=False),
        sa.Column("duration_sum", sa.Float(), nullable=False),
        sa.Column("buckets", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("sample_id", name="pk_metric_sample"),
    )
    op.create_index("ix_metric_sample_taken_at", "metric_sample", ["taken_at"])


def downgrade() -> None:
    op.drop_table("metric_sample")
    op.drop_table("alert_event")
    op.drop_table("alert_state")
