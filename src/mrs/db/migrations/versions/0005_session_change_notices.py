"""Accounts: PostgreSQL tells every server process when a session or a user changes.

Each process remembers sessions it has checked (mrs.accounts.session_cache); these
triggers send `NOTIFY mrs_auth` with the session id ("s:<id>") or the user id
("u:<id>") whenever a session is revoked, shortened or deleted, or a user's status or
role changes, so every process forgets it at once, whatever code or person changed the
row. Only on PostgreSQL: SQLite has no NOTIFY, and there sessions are not cached.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels = None
depends_on = None

CHANNEL = "mrs_auth"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE FUNCTION mrs_notify_session_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', 's:' || OLD.session_id);
            RETURN NULL;
        END $$;
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION mrs_notify_user_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', 'u:' || OLD.user_id);
            RETURN NULL;
        END $$;
        """
    )
    # last_seen_at is written once a minute per active session: no notice for that.
    op.execute(
        """
        CREATE TRIGGER user_session_changed AFTER UPDATE ON user_session FOR EACH ROW
        WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
              OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
              OR OLD.user_id IS DISTINCT FROM NEW.user_id)
        EXECUTE FUNCTION mrs_notify_session_change()
        """
    )
    op.execute(
        """
        CREATE TRIGGER user_session_deleted AFTER DELETE ON user_session FOR EACH ROW
        EXECUTE FUNCTION mrs_notify_session_change()
        """
    )
    op.execute(
        """
        CREATE TRIGGER usr_changed AFTER UPDATE ON usr FOR EACH ROW
        WHEN (OLD.status IS DISTINCT FROM NEW.status
              OR OLD.role_name IS DISTINCT FROM NEW.role_name
              OR OLD.user_id IS DISTINCT FROM NEW.user_id)
        EXECUTE FUNCTION mrs_notify_user_change()
        """
    )
    op.execute(
        """
        CREATE TRIGGER usr_deleted AFTER DELETE ON usr FOR EACH ROW
        EXECUTE FUNCTION mrs_notify_user_change()
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for trigger, table in (
        ("usr_deleted", "usr"),
        ("usr_changed", "usr"),
        ("user_session_deleted", "user_session"),
        ("user_session_changed", "user_session"),
    ):
        op.execute(f"DROP TRIGGER {trigger} ON {table}")
    op.execute("DROP FUNCTION mrs_notify_user_change()")
    op.execute("DROP FUNCTION mrs_notify_session_change()")
