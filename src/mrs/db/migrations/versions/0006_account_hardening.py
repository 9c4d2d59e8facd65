"""Accounts hardening: throttle keys, registration throttle columns, unclear mail outcomes.

- `throttle_key`: one row per throttled key; admitting a login, password check or
  registration locks its rows first, so parallel attempts are counted one after another.
- `registration_attempt.client_address` / `email_domain` (+ indexes): the registration
  throttle counts attempts per address and per email domain.
- `login_attempt.outcome` may be CHECKING: a password check admitted and not yet settled.
- `mail_outbox.unclear_attempts`: attempts that sent DATA but got no final answer;
  index on (recipient, created_at) for the per-recipient mail cap.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mrs.db.types import UTCDateTime

revision = "0006"
down_revision: str | None = "0005"
branch_labels = None
depends_on = None


_OUTCOMES = "'SUCCEEDED', 'FAILED', 'REFUSED', 'THROTTLED'"
_ORIGINAL_NAME = "ck_login_attempt_ck_login_attempt_outcome"


def _login_outcomes(old_name: str, new_name: str, outcomes: str) -> None:
    # On SQLite, batch mode copies the table; the old CHECK constraint is named in the
    # copy's table_args so that it can be dropped by name. (0002 named it before the
    # naming convention applied, hence the doubled prefix of the original.)
    with op.batch_alter_table(
        "login_attempt", table_args=(sa.CheckConstraint("true", name=op.f(old_name)),)
    ) as batch:
        batch.drop_constraint(op.f(old_name), type_="check")
        batch.create_check_constraint(op.f(new_name), f"outcome IN ({outcomes})")


def upgrade() -> None:
    _login_outcomes(_ORIGINAL_NAME, "ck_login_attempt_outcome", _OUTCOMES + ", 'CHECKING'")
    op.create_table(
        "throttle_key",
        sa.Column("throttle_key", sa.String(320), nullable=False),
        sa.Column("touched_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("throttle_key", name="pk_throttle_key"),
    )
    with op.batch_alter_table("registration_attempt") as batch:
        batch.add_column(sa.Column("client_address", sa.String(64), nullable=True))
        batch.add_column(sa.Column("email_domain", sa.String(254), nullable=True))
    op.create_index(
        "ix_registration_attempt_client_address",
        "registration_attempt",
        ["client_address", "attempted_at"],
    )
    op.create_index(
        "ix_registration_attempt_email_domain",
        "registration_attempt",
        ["email_domain", "attempted_at"],
    )
    with op.batch_alter_table("mail_outbox") as batch:
        batch.add_column(
            sa.Column("unclear_attempts", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_index(
        "ix_mail_outbox_recipient_created_at", "mail_outbox", ["recipient", "created_at"]
    )


def downgrade() -> None:
    op.execute("UPDATE login_attempt SET outcome = 'FAILED' WHERE outcome = 'CHECKING'")
    _login_outcomes("ck_login_attempt_outcome", _ORIGINAL_NAME, _OUTCOMES)
    op.drop_index("ix_mail_outbox_recipient_created_at", table_name="mail_outbox")
    with op.batch_alter_table("mail_outbox") as batch:
        batch.drop_column("unclear_attempts")
    op.drop_index("ix_registration_attempt_email_domain", table_name="registration_attempt")
    op.drop_index("ix_registration_attempt_client_address", table_name="registration_attempt")
    with op.batch_alter_table("registration_attempt") as batch:
        batch.drop_column("email_domain")
        batch.drop_column("client_address")
    op.drop_table("throttle_key")
