"""Groups (departments) of users, for permissions and reports.

- `user_group`: a named group; `name_key` (the name case-folded, computed by the
  application) is unique, so names are unique regardless of case on every dialect.
- `user_group_member`: who belongs to which group; deleting the group or the user
  deletes the membership.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mrs.db.types import UTCDateTime

revision = "0014"
down_revision: str | None = "0013"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "user_group",
        sa.Column("group_id", _ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("name_key", sa.String(400), nullable=False),
        sa.Column("description", sa.String(500), server_default="", nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("group_id", name="pk_user_group"),
        sa.UniqueConstraint("name_key", name="uq_user_group_name_key"),
    )
    op.create_table(
        "user_group_member",
        sa.Column("group_id", _ID, nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["user_group.group_id"],
            name="fk_user_group_member_group_id_user_group",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["usr.user_id"],
            name="fk_user_group_member_user_id_usr",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "user_id", name="pk_user_group_member"),
    )
    op.create_index("ix_user_group_member_user_id", "user_group_member", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_user_group_member_user_id", table_name="user_group_member")
    op.drop_table("user_group_member")
    op.drop_table("user_group")
