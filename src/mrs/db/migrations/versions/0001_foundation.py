"""Foundation: users, rooms, reservable dates, reservations.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mrs.db.types import UTCDateTime

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usr",
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role_name", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(32), nullable=True),
        sa.Column("tokens_valid_after", UTCDateTime(), nullable=True),
        sa.CheckConstraint("role_name IN ('USER', 'ADMIN')", name="ck_usr_role_name"),
        sa.CheckConstraint(
            "status IN ('PENDING', 'ACTIVE', 'REJECTED', 'DISABLED')", name="ck_usr_status"
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_usr"),
        sa.UniqueConstraint("email", name="uq_usr_email"),
    )
    op.create_table(
        "meeting_room",
        sa.Column("room_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("room_name", sa.String(100), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("location", sa.String(200), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.CheckConstraint(
            "capacity IS NULL OR (capacity >= 1 AND capacity <= 10000)",
            name="ck_meeting_room_capacity",
        ),
        sa.PrimaryKeyConstraint("room_id", name="pk_meeting_room"),
        sa.UniqueConstraint("room_name", name="uq_meeting_room_room_name"),
    )
    op.create_table(
        "reservable_room",
        sa.Column("reserved_date", sa.Date(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("is_open", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"], ["meeting_room.room_id"], name="fk_reservable_room_room_id_meeting_room"
        ),
        sa.PrimaryKeyConstraint("reserved_date", "room_id", name="pk_reservable_room"),
    )
    op.create_index("ix_reservable_room_room_id", "reservable_room", ["room_id"])
    op.create_table(
        "reservation",
        sa.Column(
            "reservation_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("reserved_date", sa.Date(), nullable=False),
        sa.Column("start_minute", sa.SmallInteger(), nullable=False),
        sa.Column("end_minute", sa.SmallInteger(), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), server_default=sa.text("'ACTIVE'"), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("cancelled_at", UTCDateTime(), nullable=True),
        sa.Column("cancelled_by", sa.String(32), nullable=True),
        sa.CheckConstraint("end_minute > start_minute", name="ck_reservation_end_after_start"),
        sa.CheckConstraint(
            "start_minute >= 0 AND end_minute <= 1440", name="ck_reservation_within_day"
        ),
        sa.CheckConstraint("status IN ('ACTIVE', 'CANCELLED')", name="ck_reservation_status"),
        sa.ForeignKeyConstraint(
            ["reserved_date", "room_id"],
            ["reservable_room.reserved_date", "reservable_room.room_id"],
            name="fk_reservation_reservable_room",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["usr.user_id"], name="fk_reservation_user_id_usr"),
        sa.ForeignKeyConstraint(
            ["cancelled_by"], ["usr.user_id"], name="fk_reservation_cancelled_by_usr"
        ),
        sa.PrimaryKeyConstraint("reservation_id", name="pk_reservation"),
    )
    op.create_index(
        "ix_reservation_room_day", "reservation", ["room_id", "reserved_date", "start_minute"]
    )
    op.create_index(
        "ix_reservation_user_day", "reservation", ["user_id", "reserved_date", "start_minute"]
    )
    if op.get_bind().dialect.name == "postgresql":
        # The database itself forbids double booking of active reservations.
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE reservation ADD CONSTRAINT ex_reservation_no_overlap "
            "EXCLUDE USING gist (room_id WITH =, reserved_date WITH =, "
            "int4range(start_minute, end_minute) WITH &&) WHERE (status = 'ACTIVE')"
        )


def downgrade() -> None:
    op.drop_table("reservation")
    op.drop_table("reservable_room")
    op.drop_table("meeting_room")
    op.drop_table("usr")
