"""Meetings and rooms that say what they offer.

- `reservation.title` (NULL: none given; pages and the API then show the owner's name in
  the reader's language), `description`, `visibility` (PUBLIC | PRIVATE), `version` (rises
  with every change: the ETag of a reservation) and `updated_at`.
- `reservation_attendee`: the users invited to a meeting; indexed by user for "mine".
- `meeting_room.description`; `equipment` (the admin-managed list of tags) and
  `room_equipment` (which room offers what).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mrs.db.types import UTCDateTime

revision = "0009"
down_revision: str | None = "0008"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("reservation") as batch:
        batch.add_column(sa.Column("title", sa.String(200), nullable=True))
        batch.add_column(
            sa.Column("description", sa.String(2000), server_default="", nullable=False)
        )
        batch.add_column(
            sa.Column("visibility", sa.String(8), server_default="PUBLIC", nullable=False)
        )
        batch.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
        batch.add_column(sa.Column("updated_at", UTCDateTime(), nullable=True))
        batch.create_check_constraint(
            "ck_reservation_visibility", "visibility IN ('PUBLIC', 'PRIVATE')"
        )
    op.create_table(
        "reservation_attendee",
        sa.Column("reservation_id", _ID, nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservation.reservation_id"],
            name="fk_reservation_attendee_reservation_id_reservation",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["usr.user_id"], name="fk_reservation_attendee_user_id_usr"
        ),
        sa.PrimaryKeyConstraint("reservation_id", "user_id", name="pk_reservation_attendee"),
    )
    op.create_index(
        "ix_reservation_attendee_user_id", "reservation_attendee", ["user_id", "reservation_id"]
    )
    with op.batch_alter_table("meeting_room") as batch:
        batch.add_column(
            sa.Column("description", sa.String(2000), server_default="", nullable=False)
        )
    op.create_table(
        "equipment",
        sa.Column("equipment_code", sa.String(40), nullable=False),
        sa.Column("name_en", sa.String(100), nullable=False),
        sa.Column("name_ja", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("equipment_code", name="pk_equipment"),
    )
    op.create_table(
        "room_equipment",
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("equipment_code", sa.String(40), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["meeting_room.room_id"],
            name="fk_room_equipment_room_id_meeting_room",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["equipment_code"],
            ["equipment.equipment_code"],
            name="fk_room_equipment_equipment_code_equipment",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("room_id", "equipment_code", name="pk_room_equipment"),
    )
    op.create_index("ix_room_equipment_equipment_code", "room_equipment", ["equipment_code"])


def downgrade() -> None:
    op.drop_index("ix_room_equipment_equipment_code", table_name="room_equipment")
    op.drop_table("room_equipment")
    op.drop_table("equipment")
    with op.batch_alter_table("meeting_room") as batch:
        batch.drop_column("description")
    op.drop_index("ix_reservation_attendee_user_id", table_name="reservation_attendee")
    op.drop_table("reservation_attendee")
    with op.batch_alter_table(
        "reservation",
        table_args=(sa.CheckConstraint("true", name="ck_reservation_visibility"),),
    ) as batch:
        batch.drop_constraint("ck_reservation_visibility", type_="check")
        batch.drop_column("updated_at")
        batch.drop_column("version")
        batch.drop_column("visibility")
        batch.drop_column("description")
        batch.drop_column("title")
