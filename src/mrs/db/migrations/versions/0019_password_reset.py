"""Password reset by mail.

- `password_reset_token`: the SHA-256 of each reset link's secret (never the secret), its
  user, expiry, and when it was used or superseded by a newer link.
- `password_reset_request`: every "forgot password" request (existing account or not), for
  the throttle per client address and per account key.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mrs.db.types import UTCDateTime

revision = "0019"
down_revision: str | None = "0018"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "password_reset_token",
        sa.Column("token_id", _ID, autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("superseded_at", UTCDateTime(), nullable=True),
        sa.Column("requested_by", sa.String(32), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["usr.user_id"],
            name="fk_password_reset_token_user_id_usr",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_id", name="pk_password_reset_token"),
        sa.UniqueConstraint("token_hash", name="uq_password_reset_token_token_hash"),
    )
    op.create_index(
        "ix_password_reset_token_user_id", "password_reset_token", ["user_id", "used_at"]
    )
    op.create_table(
        "password_reset_request",
        sa.Column("request_id", _ID, autoincrement=True, nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("client_address", sa.String(64), nullable=False),
        sa.Column("account_key", sa.String(320), nullable=False),
        sa.PrimaryKeyConstraint("request_id", name="pk_password_reset_request"),
    )
    op.create_index(
        "ix_password_reset_request_client_address",
        "password_reset_request",
        ["client_address", "requested_at"],
    )
    op.create_index(
        "ix_password_reset_request_account_key",
        "password_reset_request",
        ["account_key", "requested_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_password_reset_request_account_key", table_name="password_reset_request")
    op.drop_index("ix_password_reset_request_client_address", table_name="password_reset_request")
    op.drop_table("password_reset_request")
    op.drop_index("ix_password_reset_token_user_id", table_name="password_reset_token")
    op.drop_table("password_reset_token")
