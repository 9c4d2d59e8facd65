"""Opening rules per room, and the site's closure days.

- `meeting_room.open_weekdays` (ISO weekday digits, "12345" = Monday to Friday),
  `open_minute` / `close_minute` (the bookable hours, minutes since local midnight: a
  booking must lie within them), `auto_open` (the daily job keeps the room's dates opened
  ahead) and `closed_on_holidays` (public holidays of MRS_HOLIDAY_COUNTRY stay closed).
- `closure_day`: dates on which every room is closed (company holidays, 年末年始).

Existing rooms keep today's behaviour: every weekday, 00:00–24:00 (the widest hours, so
nothing bookable before the upgrade becomes unbookable), not opened automatically (their
dates stay hand-opened as before) and holidays not closed (nothing opens them by itself
that could be closed). An admin switches a room to a rule when ready. Rooms created after
the upgrade get the site's defaults for new rooms (Monday–Friday 08:00–20:00, opened
automatically, closed on holidays: see `docs/operations/rooms.md`).

The columns are only added (no CHECK constraint): on SQLite a new constraint would make
Alembic rebuild `meeting_room`, and dropping the old table there cascades into
`room_equipment` and trips the foreign keys of `reservable_room`. The service validates
the hours (slot-aligned, start before end, within the day) before writing them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mrs.db.types import UTCDateTime

revision = "0010"
down_revision: str | None = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("meeting_room") as batch:
        batch.add_column(
            sa.Column("open_weekdays", sa.String(7), server_default="1234567", nullable=False)
        )
        batch.add_column(
            sa.Column("open_minute", sa.SmallInteger(), server_default="0", nullable=False)
        )
        batch.add_column(
            sa.Column("close_minute", sa.SmallInteger(), server_default="1440", nullable=False)
        )
        batch.add_column(
            sa.Column("auto_open", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(
            sa.Column("closed_on_holidays", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "closure_day",
        sa.Column("closure_date", sa.Date(), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("created_by", sa.String(32), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["usr.user_id"], name="fk_closure_day_created_by_usr"
        ),
        sa.PrimaryKeyConstraint("closure_date", name="pk_closure_day"),
    )


def downgrade() -> None:
    op.drop_table("closure_day")
    with op.batch_alter_table("meeting_room") as batch:
        batch.drop_column("closed_on_holidays")
        batch.drop_column("auto_open")
        batch.drop_column("close_minute")
        batch.drop_column("open_minute")
        batch.drop_column("open_weekdays")
