"""Approval rooms, delegates, and check-in with auto-release.

- `reservation.status` gains PENDING (waiting for a room manager; it holds its slot),
  REJECTED (a manager said no) and RELEASED (nobody checked in by start + grace; the slot
  is free again). The exclusion constraint and the day index now cover the statuses that
  hold a slot: ACTIVE and PENDING (`models.SLOT_HOLDING_SQL`, the one spelling of it).
- `reservation.booked_by`: who made the booking when it was not the owner (a delegate or an
  admin); NULL when the owner booked it.
- `reservation.decided_at/decided_by/decision_reason`: a manager's approval or rejection;
  `approval_reminded_at`: when managers were last reminded of a booking still pending.
- `reservation.checked_in_at/checked_in_by`, `released_at`.
- `reservation_delegate`: a principal names users who may book, edit and cancel for them.
- `room_manager`: users who approve bookings of a room (admins always may).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mrs.db.types import UTCDateTime

revision = "0018"
down_revision: str | None = "0017"
branch_labels = None
depends_on = None

_STATUSES = "status IN ('ACTIVE', 'PENDING', 'CANCELLED', 'REJECTED', 'RELEASED')"
_OLD_STATUSES = "status IN ('ACTIVE', 'CANCELLED')"
_HOLDS = "status IN ('ACTIVE', 'PENDING')"
_DAY_INDEX = ("reserved_date", "room_id", "start_minute")


def _drop_sqlite_triggers() -> list[str]:
    """Drop every trigger and return their CREATE statements.

    Batch mode rebuilds `reservation` under a temporary name; SQLite then refuses the
    rename while a trigger (on it or on another table) names `reservation`, and drops the
    table's own triggers with the old table. So all are dropped first and created again.
    """
    rows = op.get_bind().execute(
        sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
    )
    triggers = [(row.name, row.sql) for row in rows]
    for name, _ in triggers:
        op.execute(f'DROP TRIGGER "{name}"')
    return [sql for _, sql in triggers]


def _alter_reservation(new_check: str, add: bool) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    triggers = _drop_sqlite_triggers() if sqlite else []
    with op.batch_alter_table("reservation", recreate="always" if sqlite else "auto") as batch:
        batch.drop_constraint("ck_reservation_status", type_="check")
        batch.create_check_constraint("ck_reservation_status", new_check)
        if add:
            for name in ("booked_by", "decided_by", "checked_in_by"):
                batch.add_column(sa.Column(name, sa.String(32), nullable=True))
                batch.create_foreign_key(f"fk_reservation_{name}_usr", "usr", [name], ["user_id"])
            batch.add_column(sa.Column("decided_at", UTCDateTime(), nullable=True))
            batch.add_column(sa.Column("decision_reason", sa.String(500), nullable=True))
            batch.add_column(sa.Column("approval_reminded_at", UTCDateTime(), nullable=True))
            batch.add_column(sa.Column("checked_in_at", UTCDateTime(), nullable=True))
            batch.add_column(sa.Column("released_at", UTCDateTime(), nullable=True))
        else:
            for name in ("booked_by", "decided_by", "checked_in_by"):
                batch.drop_constraint(f"fk_reservation_{name}_usr", type_="foreignkey")
                batch.drop_column(name)
            for name in (
                "decided_at",
                "decision_reason",
                "approval_reminded_at",
                "checked_in_at",
                "released_at",
            ):
                batch.drop_column(name)
    for statement in triggers:
        op.execute(statement)


def _day_index(predicate: str) -> None:
    op.drop_index("ix_reservation_active_day", table_name="reservation", if_exists=True)
    op.create_index(
        "ix_reservation_active_day",
        "reservation",
        list(_DAY_INDEX),
        postgresql_where=sa.text(predicate),
        sqlite_where=sa.text(predicate),
    )


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute("ALTER TABLE reservation DROP CONSTRAINT ex_reservation_no_overlap")
    _alter_reservation(_STATUSES, add=True)
    if postgresql:
        op.execute(
            "ALTER TABLE reservation ADD CONSTRAINT ex_reservation_no_overlap "
            "EXCLUDE USING gist (room_id WITH =, reserved_date WITH =, "
            f"int4range(start_minute, end_minute) WITH &&) WHERE ({_HOLDS})"
        )
    _day_index(_HOLDS)
    # The managers' list of bookings waiting for a decision, oldest first.
    op.create_index(
        "ix_reservation_pending",
        "reservation",
        ["room_id", "reserved_date", "start_minute"],
        postgresql_where=sa.text("status = 'PENDING'"),
        sqlite_where=sa.text("status = 'PENDING'"),
    )
    op.create_table(
        "reservation_delegate",
        sa.Column("principal_id", sa.String(32), nullable=False),
        sa.Column("delegate_id", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("principal_id <> delegate_id", name="ck_reservation_delegate_other"),
        sa.ForeignKeyConstraint(
            ["principal_id"],
            ["usr.user_id"],
            name="fk_reservation_delegate_principal_id_usr",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["delegate_id"],
            ["usr.user_id"],
            name="fk_reservation_delegate_delegate_id_usr",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("principal_id", "delegate_id", name="pk_reservation_delegate"),
    )
    op.create_index("ix_reservation_delegate_delegate_id", "reservation_delegate", ["delegate_id"])
    op.create_table(
        "room_manager",
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["meeting_room.room_id"],
            name="fk_room_manager_room_id_meeting_room",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["usr.user_id"], name="fk_room_manager_user_id_usr", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("room_id", "user_id", name="pk_room_manager"),
    )
    op.create_index("ix_room_manager_user_id", "room_manager", ["user_id"])


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.drop_index("ix_room_manager_user_id", table_name="room_manager")
    op.drop_table("room_manager")
    op.drop_index("ix_reservation_delegate_delegate_id", table_name="reservation_delegate")
    op.drop_table("reservation_delegate")
    op.drop_index("ix_reservation_pending", table_name="reservation")
    # Bookings in the new statuses cannot be kept under the old rule: a pending one is
    # cancelled (it never became a booking), rejected and released ones too.
    op.execute(
        "UPDATE reservation SET status = 'CANCELLED' "
        "WHERE status IN ('PENDING', 'REJECTED', 'RELEASED')"
    )
    if postgresql:
        op.execute("ALTER TABLE reservation DROP CONSTRAINT ex_reservation_no_overlap")
    _alter_reservation(_OLD_STATUSES, add=False)
    if postgresql:
        op.execute(
            "ALTER TABLE reservation ADD CONSTRAINT ex_reservation_no_overlap "
            "EXCLUDE USING gist (room_id WITH =, reserved_date WITH =, "
            "int4range(start_minute, end_minute) WITH &&) WHERE (status = 'ACTIVE')"
        )
    _day_index("status = 'ACTIVE'")
