"""A user's mail preferences: which kinds of mail they want and their reminder.

No row means the defaults (all mail, no reminder), so a user who never opened the page
gets what everyone gets; saving writes the whole row at once (an upsert).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from mrs.audit import service as audit
from mrs.calendars.models import REMINDER_CHOICES, MailPreference
from mrs.db.engine import Database
from mrs.errors import InvalidInput


class InvalidReminder(InvalidInput):
    message = "Choose a reminder of 10, 15, 30 or 60 minutes, or none."
    field = "reminder_minutes"


@dataclass(frozen=True)
class MailPreferences:
    """What a user wants mailed: about their own bookings, invitations, and a reminder
    this many minutes before each meeting (None: no reminder)."""

    own_bookings: bool = True
    invitations: bool = True
    reminder_minutes: int | None = None


DEFAULTS = MailPreferences()


def check_reminder(minutes: int | None) -> int | None:
    """The reminder time if it is one of the choices (or None, off); else InvalidReminder."""
    if minutes is None:
        return None
    # bool is an int in Python: True must not pass as 1 minute.
    if isinstance(minutes, bool) or minutes not in REMINDER_CHOICES:
        raise InvalidReminder()
    return minutes


def _of(row: MailPreference) -> MailPreferences:
    return MailPreferences(
        own_bookings=row.own_bookings,
        invitations=row.invitations,
        reminder_minutes=row.reminder_minutes,
    )


async def preferences_of(
    session: AsyncSession, user_ids: Collection[str]
) -> dict[str, MailPreferences]:
    """The preferences of each of `user_ids` (the defaults for those without a row)."""
    found = {user_id: DEFAULTS for user_id in user_ids}
    if not found:
        return found
    rows = await session.scalars(
        select(MailPreference).where(MailPreference.user_id.in_(sorted(found)))
    )
    for row in rows:
        found[row.user_id] = _of(row)
    return found


async def read_preferences(db: Database, *, user_id: str) -> MailPreferences:
    """One user's preferences (the defaults when they never saved any)."""
    async with db.snapshot() as session:
        return (await preferences_of(session, [user_id]))[user_id]


async def save_preferences(
    db: Database,
    *,
    user_id: str,
    own_bookings: bool,
    invitations: bool,
    reminder_minutes: int | None,
) -> MailPreferences:
    """Replace a user's preferences (one statement: insert, or update the existing row)."""
    saved = MailPreferences(
        own_bookings=bool(own_bookings),
        invitations=bool(invitations),
        reminder_minutes=check_reminder(reminder_minutes),
    )
    values = {
        "user_id": user_id,
        "own_bookings": saved.own_bookings,
        "invitations": saved.invitations,
        "reminder_minutes": saved.reminder_minutes,
    }
    async with db.transaction() as session:
        was = (await preferences_of(session, [user_id]))[user_id]
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        statement = insert(MailPreference).values(values)
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[MailPreference.user_id],
                set_={
                    "own_bookings": statement.excluded.own_bookings,
                    "invitations": statement.excluded.invitations,
                    "reminder_minutes": statement.excluded.reminder_minutes,
                },
            )
        )
        before, after = audit.changed(asdict(was), asdict(saved))
        if after:
            await audit.record(
                session,
                action="user.mail_preferences",
                subject_type="user",
                subject_id=user_id,
                before=before,
                after=after,
                actor_id=user_id,
            )
    return saved
