"""Calendars: stable iCalendar UIDs, recorded reservation changes, mail parts, feeds, reminders.

- `reservation.ical_uid`, `reservation_series.ical_uid`: a random UID per meeting and per
  series, so a calendar recognises the same event in every invitation and feed. Not the
  integer id: ids come back after a restore, and two databases hand out the same ones.
  Filled by the database (existing rows included), so every insert path gets one.
- `reservation_change`: what happened to a reservation or series and who did it, written
  in the transaction of the change; the invitation job turns each into mail once
  (`notified_at`), after the commit and never in the request.
- `mail_outbox.html_body`, `calendar`, `calendar_method`: the HTML alternative and the
  iCalendar part of a message.
- `mail_preference`: which kinds of mail a user wants, and their reminder.
- `calendar_feed`: a user's secret feed token (only its SHA-256 is stored).
- `meeting_room.has_feed`: the rooms an administrator publishes a feed for.
- `reminder_sent`: one row per meeting, person and start time reminded, so a reminder goes
  once however many processes run the job.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mrs.db.types import UTCDateTime

revision = "0013"
down_revision: str | None = "0012"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _random_uid() -> sa.TextClause:
    """A per-row random 32-hex-digit default, in the dialect's own words."""
    if op.get_bind().dialect.name == "postgresql":
        return sa.text("replace(gen_random_uuid()::text, '-', '')")
    return sa.text("(lower(hex(randomblob(16))))")


def upgrade() -> None:
    # SQLite cannot ADD COLUMN with a non-constant default: it rebuilds those tables.
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in ("reservation", "reservation_series"):
        with op.batch_alter_table(table, recreate="always" if sqlite else "auto") as batch:
            batch.add_column(
                sa.Column("ical_uid", sa.String(64), server_default=_random_uid(), nullable=False)
            )
    with op.batch_alter_table("meeting_room") as batch:
        batch.add_column(
            sa.Column("has_feed", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("mail_outbox") as batch:
        batch.add_column(sa.Column("html_body", sa.Text(), nullable=True))
        batch.add_column(sa.Column("calendar", sa.Text(), nullable=True))
        batch.add_column(sa.Column("calendar_method", sa.String(16), nullable=True))

    op.create_table(
        "reservation_change",
        sa.Column("change_id", _ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reservation_id", _ID, nullable=True),
        sa.Column("series_id", _ID, nullable=True),
        sa.Column("actor_id", sa.String(32), nullable=True),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("details", sa.Text(), server_default="{}", nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("notified_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservation.reservation_id"],
            name="fk_reservation_change_reservation_id_reservation",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["reservation_series.series_id"],
            name="fk_reservation_change_series_id_reservation_series",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "kind IN ('created', 'changed', 'cancelled')", name="ck_reservation_change_kind"
        ),
        sa.CheckConstraint(
            "reservation_id IS NOT NULL OR series_id IS NOT NULL",
            name="ck_reservation_change_subject",
        ),
        sa.PrimaryKeyConstraint("change_id", name="pk_reservation_change"),
    )
    op.create_index(
        "ix_reservation_change_pending",
        "reservation_change",
        ["change_id"],
        postgresql_where=sa.text("notified_at IS NULL"),
        sqlite_where=sa.text("notified_at IS NULL"),
    )
    op.create_table(
        "mail_preference",
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("own_bookings", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("invitations", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("reminder_minutes", sa.SmallInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["usr.user_id"], name="fk_mail_preference_user_id_usr", ondelete="CASCADE"
        ),
        sa.CheckConstraint(
            "reminder_minutes IS NULL OR reminder_minutes IN (10, 15, 30, 60)",
            name="ck_mail_preference_reminder_minutes",
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_mail_preference"),
    )
    op.create_index(
        "ix_mail_preference_reminder",
        "mail_preference",
        ["reminder_minutes"],
        postgresql_where=sa.text("reminder_minutes IS NOT NULL"),
        sqlite_where=sa.text("reminder_minutes IS NOT NULL"),
    )
    op.create_table(
        "calendar_feed",
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["usr.user_id"], name="fk_calendar_feed_user_id_usr", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_calendar_feed"),
        sa.UniqueConstraint("token_hash", name="uq_calendar_feed_token_hash"),
    )
    op.create_table(
        "reminder_sent",
        sa.Column("reservation_id", _ID, nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservation.reservation_id"],
            name="fk_reminder_sent_reservation_id_reservation",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["usr.user_id"], name="fk_reminder_sent_user_id_usr", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("reservation_id", "user_id", "starts_at", name="pk_reminder_sent"),
    )
    op.create_index("ix_reminder_sent_sent_at", "reminder_sent", ["sent_at"])


def downgrade() -> None:
    op.drop_index("ix_reminder_sent_sent_at", table_name="reminder_sent")
    op.drop_table("reminder_sent")
    op.drop_table("calendar_feed")
    op.drop_index("ix_mail_preference_reminder", table_name="mail_preference")
    op.drop_table("mail_preference")
    op.drop_index("ix_reservation_change_pending", table_name="reservation_change")
    op.drop_table("reservation_change")
    with op.batch_alter_table("mail_outbox") as batch:
        batch.drop_column("calendar_method")
        batch.drop_column("calendar")
        batch.drop_column("html_body")
    with op.batch_alter_table("meeting_room") as batch:
        batch.drop_column("has_feed")
    for table in ("reservation_series", "reservation"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("ical_uid")
