"""Accounts: sessions, login attempts, the registration log, the mail outbox.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mrs.db.types import UTCDateTime

revision = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None


def _bigint() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("usr") as batch:
        batch.add_column(sa.Column("decision_reason", sa.String(500), nullable=True))
        batch.add_column(sa.Column("locale", sa.String(8), nullable=True))
    op.create_table(
        "user_session",
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_reason", sa.String(32), nullable=True),
        sa.Column("client_address", sa.String(64), nullable=True),
        sa.Column("user_agent", sa.String(200), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["usr.user_id"], name="fk_user_session_user_id_usr", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("session_id", name="pk_user_session"),
    )
    op.create_index("ix_user_session_user_id", "user_session", ["user_id", "revoked_at"])
    op.create_table(
        "login_attempt",
        sa.Column("attempt_id", _bigint(), autoincrement=True, nullable=False),
        sa.Column("attempted_at", UTCDateTime(), nullable=False),
        sa.Column("account_key", sa.String(64), nullable=False),
        sa.Column("client_address", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('SUCCEEDED', 'FAILED', 'REFUSED', 'THROTTLED')",
            name="ck_login_attempt_outcome",
        ),
        sa.PrimaryKeyConstraint("attempt_id", name="pk_login_attempt"),
    )
    op.create_index(
        "ix_login_attempt_account_key", "login_attempt", ["account_key", "attempted_at"]
    )
    op.create_index(
        "ix_login_attempt_client_address", "login_attempt", ["client_address", "attempted_at"]
    )
    op.create_index("ix_login_attempt_attempted_at", "login_attempt", ["attempted_at"])
    op.create_table(
        "registration_attempt",
        sa.Column("attempt_id", _bigint(), autoincrement=True, nullable=False),
        sa.Column("attempted_at", UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('SUBMITTED', 'INVALID', 'DUPLICATE')",
            name="ck_registration_attempt_outcome",
        ),
        sa.PrimaryKeyConstraint("attempt_id", name="pk_registration_attempt"),
    )
    op.create_index(
        "ix_registration_attempt_attempted_at", "registration_attempt", ["attempted_at"]
    )
    op.create_table(
        "mail_outbox",
        sa.Column("mail_id", _bigint(), autoincrement=True, nullable=False),
        sa.Column("recipient", sa.String(254), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.CheckConstraint(
            "state IN ('PENDING', 'SENDING', 'SENT', 'FAILED')", name="ck_mail_outbox_state"
        ),
        sa.PrimaryKeyConstraint("mail_id", name="pk_mail_outbox"),
    )
    op.create_index(
        "ix_mail_outbox_state_next_attempt_at", "mail_outbox", ["state", "next_attempt_at"]
    )


def downgrade() -> None:
    op.drop_table("mail_outbox")
    op.drop_table("registration_attempt")
    op.drop_table("login_attempt")
    op.drop_table("user_session")
    with op.batch_alter_table("usr") as batch:
        batch.drop_column("locale")
        batch.drop_column("decision_reason")
