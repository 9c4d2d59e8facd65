"""The reports' summary of reservations per room and date and per user and date, kept
exact by triggers on both dialects.

- `report_room_day` (room, date): the counted booked minutes, the reservations (any
  status) and the cancelled ones.
- `report_user_day` (owner, date): counted booked minutes, reservations, cancelled (the
  per-group figures join it with the group memberships at report time).
- `report_hour_day` (date, room bucket = room_id % 16): `h00`..`h23`, the minutes of
  ACTIVE reservations in each hour of the day (unclipped: the busiest hours count every
  active meeting). A year is 5,840 rows instead of 365,000; the buckets spread the
  bookings of one date over 16 rows, so they rarely wait for each other's row lock.

"Counted" booked minutes are the reports' rule under the rooms' CURRENT state: ACTIVE,
on a date the room is open (`reservable_room.is_open`) while the room is in use
(`meeting_room.active`), clipped to the room's bookable hours. So the triggers follow
the room state too:

- `reservation`: on PostgreSQL statement-level triggers with transition tables (a bulk
  series insert, a data copy's COPY or the one-statement booking all add one aggregate
  per statement), on SQLite row triggers; a TRUNCATE (PostgreSQL) empties the summary;
- `reservable_room.is_open` and `meeting_room` (`open_minute`, `close_minute`,
  `active`) changes add the difference they make to the affected rows.

A row whose reservations (hours: minutes) drop to 0 is deleted, so the summary equals a rebuild from
scratch (`mrs reports rebuild`, `mrs.reports.summary.rebuild`) row for row. The tables
are derived data: not part of the copied and verified data tables (a copy rebuilds them).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

# The trigger and backfill SQL is assembled from this file's constants only (column names,
# hours, signs): no value from outside reaches it.
# ruff: noqa: S608

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision: str | None = "0016"
branch_labels = None
depends_on = None

HOURS = [f"h{hour:02d}" for hour in range(24)]
FIGURES = ["booked_minutes", "reservations", "cancelled"]
ROOM_FIGURES = [*FIGURES, *HOURS]  # what `_figures` gives, in order
BUCKETS = 16


def _clip(dialect: str, start: str, end: str, low: str, high: str) -> str:
    """The minutes of [start, end) inside [low, high), 0 when none."""
    if dialect == "postgresql":
        return f"GREATEST(LEAST({end}, {high}) - GREATEST({start}, {low}), 0)"
    return f"max(min({end}, {high}) - max({start}, {low}), 0)"


def _figures(dialect: str, row: str, sign: str) -> list[str]:
    """booked_minutes, reservations, cancelled, h00..h23 of one reservation `row` (with
    `m` its meeting_room and `rr` its reservable_room, possibly NULL), times `sign`."""
    active = f"{row}.status = 'ACTIVE'"
    span = (f"{row}.start_minute", f"{row}.end_minute")
    booked = _clip(dialect, *span, "m.open_minute", "m.close_minute")
    return [
        f"{sign} * CASE WHEN {active} AND rr.is_open AND m.active THEN {booked} ELSE 0 END",
        f"{sign}",
        f"{sign} * CASE WHEN {row}.status = 'CANCELLED' THEN 1 ELSE 0 END",
        *(
            f"{sign} * CASE WHEN {active} THEN "
            f"{_clip(dialect, *span, str(60 * hour), str(60 * hour + 60))} ELSE 0 END"
            for hour in range(24)
        ),
    ]


def _room_joins(row: str) -> str:
    return (
        f"JOIN meeting_room AS m ON m.room_id = {row}.room_id "
        f"LEFT JOIN reservable_room AS rr ON rr.room_id = {row}.room_id "
        f"AND rr.reserved_date = {row}.reserved_date"
    )


def _rebuild_sql(dialect: str) -> list[str]:
    """Empty the summary and fill it from every reservation (the migration's backfill;
    `mrs.reports.summary.rebuild` runs the same statements)."""
    figures = _figures(dialect, "r", "1")
    counts = ", ".join(f"sum({figure})" for figure in figures[:3])
    hours = ", ".join(f"sum({figure})" for figure in figures[3:])
    return [
        "DELETE FROM report_room_day",
        "DELETE FROM report_user_day",
        "DELETE FROM report_hour_day",
        f"INSERT INTO report_room_day (room_id, reserved_date, {', '.join(FIGURES)}) "
        f"SELECT r.room_id, r.reserved_date, {counts} FROM reservation AS r "
        f"{_room_joins('r')} GROUP BY r.room_id, r.reserved_date",
        f"INSERT INTO report_user_day (user_id, reserved_date, {', '.join(FIGURES)}) "
        f"SELECT r.user_id, r.reserved_date, {counts} FROM reservation AS r "
        f"{_room_joins('r')} GROUP BY r.user_id, r.reserved_date",
        f"INSERT INTO report_hour_day (room_bucket, reserved_date, {', '.join(HOURS)}) "
        f"SELECT r.room_id % {BUCKETS}, r.reserved_date, {hours} FROM reservation AS r "
        f"{_room_joins('r')} WHERE r.status = 'ACTIVE' "
        f"GROUP BY r.room_id % {BUCKETS}, r.reserved_date",
    ]


# (table, its key column besides the date, the figures it holds, "nothing left")
_TABLES = (
    ("report_room_day", "room_id", FIGURES, "reservations = 0"),
    ("report_user_day", "user_id", FIGURES, "reservations = 0"),
    ("report_hour_day", "room_bucket", HOURS, " + ".join(HOURS) + " = 0"),
)


# PostgreSQL: statement triggers over the transition tables ----------------------------


def _pg_upserts(sources: list[tuple[str, int]]) -> str:
    """Add the figures of the rows of `sources` (transition table, sign) to both tables,
    one aggregate per key, keys in order (concurrent statements lock rows alike)."""
    changed = " UNION ALL ".join(
        f"SELECT room_id, reserved_date, user_id, status, start_minute, end_minute, "
        f"{sign} AS sign FROM {table}"
        for table, sign in sources
    )
    figures = _figures("postgresql", "c", "c.sign")
    columns = ", ".join(
        f"{figure} AS {name}" for figure, name in zip(figures, ROOM_FIGURES, strict=True)
    )
    contributions = (
        f"SELECT c.room_id, c.reserved_date, c.user_id, c.room_id % {BUCKETS} AS room_bucket, "
        f"{columns} FROM ({changed}) AS c {_room_joins('c')}"
    )
    statements = []
    for table, key, names, _ in _TABLES:
        sums = ", ".join(f"sum({name})" for name in names)
        changes = " OR ".join(f"sum({name}) <> 0" for name in names)
        updates = ", ".join(f"{name} = s.{name} + EXCLUDED.{name}" for name in names)
        statements.append(
            f"INSERT INTO {table} AS s ({key}, reserved_date, {', '.join(names)}) "
            f"SELECT {key}, reserved_date, {sums} FROM ({contributions}) AS x "
            f"GROUP BY {key}, reserved_date HAVING {changes} ORDER BY {key}, reserved_date "
            f"ON CONFLICT ({key}, reserved_date) DO UPDATE SET {updates};"
        )
    return "\n".join(statements)


def _pg_prune(table: str) -> str:
    """Delete the rows the old rows' keys left with nothing."""
    keys = {
        "room_id": "room_id",
        "user_id": "user_id",
        "room_bucket": f"room_id % {BUCKETS} AS room_bucket",
    }
    return "\n".join(
        f"DELETE FROM {summary} AS s USING (SELECT DISTINCT {keys[key]}, reserved_date "
        f"FROM {table}) AS o WHERE s.{key} = o.{key} AND s.reserved_date = o.reserved_date "
        f"AND {empty.replace('h', 's.h') if key == 'room_bucket' else 's.' + empty};"
        for summary, key, _, empty in _TABLES
    )


def _pg_function(name: str, body: str) -> str:
    return (
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n{body}\nRETURN NULL;\nEND;\n$$"
    )


# Both dialects: the room state's changes (row triggers, same SQL) ----------------------


def _room_date_opened_sql(dialect: str) -> list[str]:
    """`reservable_room.is_open` of NEW changed: add (opened) or take away (closed) the
    counted minutes of its active reservations."""
    clip = _clip(dialect, "r.start_minute", "r.end_minute", "m.open_minute", "m.close_minute")
    minutes = (
        f"SELECT coalesce(sum({clip}), 0) * (CASE WHEN NEW.is_open THEN 1 ELSE -1 END) "
        "FROM reservation AS r JOIN meeting_room AS m ON m.room_id = r.room_id "
        "WHERE r.room_id = NEW.room_id AND r.reserved_date = NEW.reserved_date "
        "AND r.status = 'ACTIVE' AND m.active"
    )
    return [
        f"UPDATE report_room_day SET booked_minutes = booked_minutes + ({minutes}) "
        "WHERE room_id = NEW.room_id AND reserved_date = NEW.reserved_date",
        f"UPDATE report_user_day SET booked_minutes = booked_minutes + ({minutes} "
        "AND r.user_id = report_user_day.user_id) "
        "WHERE reserved_date = NEW.reserved_date AND user_id IN (SELECT user_id "
        "FROM reservation WHERE room_id = NEW.room_id AND reserved_date = NEW.reserved_date)",
    ]


def _room_changed_sql(dialect: str) -> list[str]:
    """`meeting_room` NEW's hours or use changed (from OLD's): add the difference it makes
    to the counted minutes of the room's active reservations."""

    def counted(row: str) -> str:
        clip = _clip(
            dialect, "r.start_minute", "r.end_minute", f"{row}.open_minute", f"{row}.close_minute"
        )
        return f"CASE WHEN {row}.active AND rr.is_open THEN {clip} ELSE 0 END"

    minutes = (
        f"SELECT coalesce(sum({counted('NEW')} - {counted('OLD')}), 0) "
        "FROM reservation AS r JOIN reservable_room AS rr ON rr.room_id = r.room_id "
        "AND rr.reserved_date = r.reserved_date "
        "WHERE r.room_id = NEW.room_id AND r.status = 'ACTIVE'"
    )
    return [
        f"UPDATE report_room_day SET booked_minutes = booked_minutes + ({minutes} "
        "AND r.reserved_date = report_room_day.reserved_date) WHERE room_id = NEW.room_id",
        f"UPDATE report_user_day SET booked_minutes = booked_minutes + ({minutes} "
        "AND r.reserved_date = report_user_day.reserved_date "
        "AND r.user_id = report_user_day.user_id) "
        "WHERE (user_id, reserved_date) IN (SELECT user_id, reserved_date FROM reservation "
        "WHERE room_id = NEW.room_id)",
    ]


_ROOM_CHANGED = ("open_minute", "close_minute", "active")


def _upgrade_postgresql() -> None:
    functions = {
        "report_reservation_inserted": _pg_upserts([("new_rows", 1)]),
        "report_reservation_deleted": _pg_upserts([("old_rows", -1)]) + _pg_prune("old_rows"),
        "report_reservation_updated": (
            _pg_upserts([("new_rows", 1), ("old_rows", -1)]) + _pg_prune("old_rows")
        ),
        "report_reservation_truncated": "DELETE FROM report_room_day;\n"
        "DELETE FROM report_user_day;\nDELETE FROM report_hour_day;",
        "report_room_date_opened": ";\n".join(_room_date_opened_sql("postgresql")) + ";",
        "report_room_changed": ";\n".join(_room_changed_sql("postgresql")) + ";",
    }
    for name, body in functions.items():
        op.execute(_pg_function(name, body))
    op.execute(
        "CREATE TRIGGER report_reservation_inserted AFTER INSERT ON reservation "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION report_reservation_inserted()"
    )
    op.execute(
        "CREATE TRIGGER report_reservation_deleted AFTER DELETE ON reservation "
        "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION report_reservation_deleted()"
    )
    op.execute(
        "CREATE TRIGGER report_reservation_updated AFTER UPDATE ON reservation "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION report_reservation_updated()"
    )
    op.execute(
        "CREATE TRIGGER report_reservation_truncated AFTER TRUNCATE ON reservation "
        "FOR EACH STATEMENT EXECUTE FUNCTION report_reservation_truncated()"
    )
    op.execute(
        "CREATE TRIGGER report_room_date_opened AFTER UPDATE OF is_open ON reservable_room "
        "FOR EACH ROW WHEN (OLD.is_open IS DISTINCT FROM NEW.is_open) "
        "EXECUTE FUNCTION report_room_date_opened()"
    )
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in _ROOM_CHANGED)
    op.execute(
        f"CREATE TRIGGER report_room_changed AFTER UPDATE OF {', '.join(_ROOM_CHANGED)} "
        f"ON meeting_room FOR EACH ROW WHEN ({changed}) "
        "EXECUTE FUNCTION report_room_changed()"
    )


def _sqlite_upserts(row: str, sign: str) -> list[str]:
    figures = _figures("sqlite", row, sign)
    statements = []
    for table, key, names, _ in _TABLES[:2]:
        values = ", ".join(figures[:3])
        updates = ", ".join(f"{name} = {name} + excluded.{name}" for name in names)
        statements.append(
            f"INSERT INTO {table} ({key}, reserved_date, {', '.join(names)}) "
            f"SELECT {row}.{key}, {row}.reserved_date, {values} FROM meeting_room AS m "
            f"LEFT JOIN reservable_room AS rr ON rr.room_id = m.room_id "
            f"AND rr.reserved_date = {row}.reserved_date WHERE m.room_id = {row}.room_id "
            f"ON CONFLICT ({key}, reserved_date) DO UPDATE SET {updates}"
        )
    # Hours: only an active meeting has any (no row for a cancelled one).
    updates = ", ".join(f"{name} = {name} + excluded.{name}" for name in HOURS)
    statements.append(
        f"INSERT INTO report_hour_day (room_bucket, reserved_date, {', '.join(HOURS)}) "
        f"SELECT {row}.room_id % {BUCKETS}, {row}.reserved_date, {', '.join(figures[3:])} "
        f"WHERE {row}.status = 'ACTIVE' "
        f"ON CONFLICT (room_bucket, reserved_date) DO UPDATE SET {updates}"
    )
    return statements


def _sqlite_prune() -> list[str]:
    keys = {
        "room_id": "OLD.room_id",
        "user_id": "OLD.user_id",
        "room_bucket": f"OLD.room_id % {BUCKETS}",
    }
    return [
        f"DELETE FROM {summary} WHERE {key} = {keys[key]} "
        f"AND reserved_date = OLD.reserved_date AND {empty}"
        for summary, key, _, empty in _TABLES
    ]


def _sqlite_trigger(name: str, event: str, statements: list[str]) -> str:
    body = "".join(f"  {statement};\n" for statement in statements)
    return f"CREATE TRIGGER {name} {event}\nBEGIN\n{body}END"


def _upgrade_sqlite() -> None:
    columns = "room_id, reserved_date, start_minute, end_minute, status, user_id"
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _ROOM_CHANGED)
    for name, event, statements in (
        (
            "report_reservation_inserted",
            "AFTER INSERT ON reservation FOR EACH ROW",
            _sqlite_upserts("NEW", "1"),
        ),
        (
            "report_reservation_deleted",
            "AFTER DELETE ON reservation FOR EACH ROW",
            [*_sqlite_upserts("OLD", "-1"), *_sqlite_prune()],
        ),
        (
            "report_reservation_updated",
            f"AFTER UPDATE OF {columns} ON reservation FOR EACH ROW",
            [*_sqlite_upserts("OLD", "-1"), *_sqlite_upserts("NEW", "1"), *_sqlite_prune()],
        ),
        (
            "report_room_date_opened",
            "AFTER UPDATE OF is_open ON reservable_room FOR EACH ROW "
            "WHEN OLD.is_open IS NOT NEW.is_open",
            _room_date_opened_sql("sqlite"),
        ),
        (
            "report_room_changed",
            f"AFTER UPDATE OF {', '.join(_ROOM_CHANGED)} ON meeting_room FOR EACH ROW "
            f"WHEN {changed}",
            _room_changed_sql("sqlite"),
        ),
    ):
        op.execute(_sqlite_trigger(name, event, statements))


def upgrade() -> None:
    figure = [sa.Column(name, sa.Integer(), server_default="0", nullable=False) for name in FIGURES]
    op.create_table(
        "report_room_day",
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("reserved_date", sa.Date(), nullable=False),
        *figure,
        sa.PrimaryKeyConstraint("room_id", "reserved_date", name="pk_report_room_day"),
    )
    op.create_table(
        "report_user_day",
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("reserved_date", sa.Date(), nullable=False),
        *(sa.Column(c.name, c.type, server_default="0", nullable=False) for c in figure),
        sa.PrimaryKeyConstraint("user_id", "reserved_date", name="pk_report_user_day"),
    )
    op.create_table(
        "report_hour_day",
        sa.Column("reserved_date", sa.Date(), nullable=False),
        sa.Column("room_bucket", sa.SmallInteger(), nullable=False),
        *(sa.Column(name, sa.Integer(), server_default="0", nullable=False) for name in HOURS),
        sa.PrimaryKeyConstraint("reserved_date", "room_bucket", name="pk_report_hour_day"),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()
    for statement in _rebuild_sql(dialect):
        op.execute(statement)


_TRIGGERS = {
    "report_reservation_inserted": "reservation",
    "report_reservation_deleted": "reservation",
    "report_reservation_updated": "reservation",
    "report_reservation_truncated": "reservation",
    "report_room_date_opened": "reservable_room",
    "report_room_changed": "meeting_room",
}


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, table in _TRIGGERS.items():
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    else:
        for name in _TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("report_hour_day")
    op.drop_table("report_user_day")
    op.drop_table("report_room_day")
