"""Monitoring: a version on each alert state row, so a transition is made once.

Every worker and host evaluates the alert rules; each moves a rule's state with
`UPDATE alert_state … WHERE rule = :rule AND version = :seen`, and only the one whose
update matched delivers the notice. Two workers delivered every FIRING and RESOLVED
twice before.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision: str | None = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: SQLite rebuilds the table, PostgreSQL alters it in place.
    with op.batch_alter_table("alert_state") as batch:
        batch.add_column(
            sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )


def downgrade() -> None:
    with op.batch_alter_table("alert_state") as batch:
        batch.drop_column("version")
