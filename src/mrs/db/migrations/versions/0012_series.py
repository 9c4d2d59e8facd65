"""Recurring reservations: a series and its occurrences.

- `reservation_series`: what a recurring meeting is (room, owner, title, description,
  visibility, first date, local start and end minute, and `rule`, an RFC 5545 RRULE subset
  in canonical text) with `version` (its ETag) and `status` (ACTIVE, or CANCELLED once every
  remaining occurrence is cancelled).
- `series_attendee`: who is invited to the whole series (each occurrence copies them into
  `reservation_attendee`, so every read of a reservation sees them).
- `reservation.series_id`, `occurrence_date` (the date the rule gave it, which stays when
  the occurrence is moved) and `is_exception` (moved, retitled or cancelled on its own: a
  series edit leaves it as it is). Occurrences are ordinary reservations, so the exclusion
  constraint and every single-booking path see them. One row per series and rule date.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mrs.db.types import UTCDateTime

revision = "0012"
down_revision: str | None = "0011"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "reservation_series",
        sa.Column("series_id", _ID, autoincrement=True, nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("title", sa.String(200), nullable=True),
        sa.Column("description", sa.String(2000), server_default="", nullable=False),
        sa.Column("visibility", sa.String(8), server_default="PUBLIC", nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("start_minute", sa.SmallInteger(), nullable=False),
        sa.Column("end_minute", sa.SmallInteger(), nullable=False),
        sa.Column("rule", sa.String(500), nullable=False),
        sa.Column("status", sa.String(16), server_default="ACTIVE", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["room_id"], ["meeting_room.room_id"], name="fk_reservation_series_room_id_meeting_room"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["usr.user_id"], name="fk_reservation_series_user_id_usr"
        ),
        sa.CheckConstraint(
            "end_minute > start_minute", name="ck_reservation_series_end_after_start"
        ),
        sa.CheckConstraint(
            "start_minute >= 0 AND end_minute <= 1440", name="ck_reservation_series_within_day"
        ),
        sa.CheckConstraint(
            "status IN ('ACTIVE', 'CANCELLED')", name="ck_reservation_series_status"
        ),
        sa.CheckConstraint(
            "visibility IN ('PUBLIC', 'PRIVATE')", name="ck_reservation_series_visibility"
        ),
        sa.PrimaryKeyConstraint("series_id", name="pk_reservation_series"),
    )
    op.create_index("ix_reservation_series_user_id", "reservation_series", ["user_id"])
    op.create_table(
        "series_attendee",
        sa.Column("series_id", _ID, nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["reservation_series.series_id"],
            name="fk_series_attendee_series_id_reservation_series",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["usr.user_id"], name="fk_series_attendee_user_id_usr"
        ),
        sa.PrimaryKeyConstraint("series_id", "user_id", name="pk_series_attendee"),
    )
    with op.batch_alter_table("reservation") as batch:
        batch.add_column(sa.Column("series_id", _ID, nullable=True))
        batch.add_column(sa.Column("occurrence_date", sa.Date(), nullable=True))
        batch.add_column(
            sa.Column("is_exception", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.create_foreign_key(
            "fk_reservation_series_id_reservation_series",
            "reservation_series",
            ["series_id"],
            ["series_id"],
        )
        batch.create_check_constraint(
            "ck_reservation_occurrence_of_series",
            "(series_id IS NULL) = (occurrence_date IS NULL)",
        )
        batch.create_unique_constraint(
            "uq_reservation_series_id_occurrence_date", ["series_id", "occurrence_date"]
        )


def downgrade() -> None:
    with op.batch_alter_table("reservation") as batch:
        batch.drop_constraint("uq_reservation_series_id_occurrence_date", type_="unique")
        batch.drop_constraint("ck_reservation_occurrence_of_series", type_="check")
        batch.drop_constraint("fk_reservation_series_id_reservation_series", type_="foreignkey")
        batch.drop_column("is_exception")
        batch.drop_column("occurrence_date")
        batch.drop_column("series_id")
    op.drop_table("series_attendee")
    op.drop_index("ix_reservation_series_user_id", table_name="reservation_series")
    op.drop_table("reservation_series")
