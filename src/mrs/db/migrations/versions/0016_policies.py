"""Booking policies per room and booking quotas per group and user.

- `room_policy`: one row per room that departs from the site-wide defaults (settings
  `MRS_POLICY_*`). A NULL limit means "the site default"; `allowed_roles` NULL means
  every role. `approval_required` and the check-in fields are stored for the approval
  and check-in features.
- `room_policy_group`: when a room names groups, members of those groups may book it
  (as well as the roles in `allowed_roles`); admins always may.
- `group_quota`: a group's limits on future reservations and booked hours per week
  (NULL: the site default); a user in several groups gets the most generous.
- `user_quota_override`: an admin's override for one user, with the reason (required).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mrs.db.types import UTCDateTime

revision = "0016"
down_revision: str | None = "0015"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "room_policy",
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("max_minutes", sa.Integer(), nullable=True),
        sa.Column("max_days_ahead", sa.Integer(), nullable=True),
        sa.Column("min_notice_minutes", sa.Integer(), nullable=True),
        sa.Column("allowed_roles", sa.String(64), nullable=True),
        sa.Column("approval_required", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("checkin_required", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("checkin_grace_minutes", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(32), nullable=True),
        sa.CheckConstraint("max_minutes > 0", name="ck_room_policy_max_minutes"),
        sa.CheckConstraint("max_days_ahead >= 0", name="ck_room_policy_max_days_ahead"),
        sa.CheckConstraint("min_notice_minutes >= 0", name="ck_room_policy_min_notice_minutes"),
        sa.CheckConstraint("checkin_grace_minutes >= 0", name="ck_room_policy_checkin_grace"),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["meeting_room.room_id"],
            name="fk_room_policy_room_id_meeting_room",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("room_id", name="pk_room_policy"),
    )
    op.create_table(
        "room_policy_group",
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("group_id", _ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["room_policy.room_id"],
            name="fk_room_policy_group_room_id_room_policy",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["user_group.group_id"],
            name="fk_room_policy_group_group_id_user_group",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("room_id", "group_id", name="pk_room_policy_group"),
    )
    op.create_table(
        "group_quota",
        sa.Column("group_id", _ID, nullable=False),
        sa.Column("max_future_reservations", sa.Integer(), nullable=True),
        sa.Column("max_hours_per_week", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("max_future_reservations >= 0", name="ck_group_quota_max_future"),
        sa.CheckConstraint("max_hours_per_week >= 0", name="ck_group_quota_max_hours"),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["user_group.group_id"],
            name="fk_group_quota_group_id_user_group",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", name="pk_group_quota"),
    )
    op.create_table(
        "user_quota_override",
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("max_future_reservations", sa.Integer(), nullable=True),
        sa.Column("max_hours_per_week", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("set_by", sa.String(32), nullable=True),
        sa.Column("set_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "max_future_reservations >= 0", name="ck_user_quota_override_max_future"
        ),
        sa.CheckConstraint("max_hours_per_week >= 0", name="ck_user_quota_override_max_hours"),
        sa.CheckConstraint("length(reason) > 0", name="ck_user_quota_override_reason"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["usr.user_id"],
            name="fk_user_quota_override_user_id_usr",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_user_quota_override"),
    )


def downgrade() -> None:
    op.drop_table("user_quota_override")
    op.drop_table("group_quota")
    op.drop_table("room_policy_group")
    op.drop_table("room_policy")
