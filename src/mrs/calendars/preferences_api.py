"""A user's own mail preferences over the API: read them, replace them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StrictBool, WithJsonSchema, field_validator

from mrs.accounts.dependencies import CurrentUser
from mrs.calendars import preferences
from mrs.calendars.models import REMINDER_CHOICES
from mrs.http.dependencies import DatabaseDep

router = APIRouter(prefix="/api", tags=["calendars"])

ReminderMinutes = Annotated[
    int | None,
    WithJsonSchema(
        {"anyOf": [{"type": "integer", "enum": list(REMINDER_CHOICES)}, {"type": "null"}]}
    ),
    Field(description="Minutes before each meeting to send a reminder; null: no reminder"),
]


class MailPreferencesRead(BaseModel):
    """Which mail a user gets (the defaults when they never chose)."""

    own_bookings: bool = Field(description="Mail about meetings I own")
    invitations: bool = Field(description="Mail about meetings I am invited to")
    reminder_minutes: ReminderMinutes

    @classmethod
    def of(cls, chosen: preferences.MailPreferences) -> MailPreferencesRead:
        return cls(
            own_bookings=chosen.own_bookings,
            invitations=chosen.invitations,
            reminder_minutes=chosen.reminder_minutes,
        )


class MailPreferencesUpdate(BaseModel):
    """The whole set of preferences (PUT replaces them; every field is required)."""

    model_config = ConfigDict(extra="forbid")

    # Strict: "yes" or 1 is a mistake worth a 422, not a guess.
    own_bookings: StrictBool
    invitations: StrictBool
    reminder_minutes: ReminderMinutes

    @field_validator("reminder_minutes", mode="before")
    @classmethod
    def _one_of_the_choices(cls, value: object) -> object:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(preferences.InvalidReminder.message)
        try:
            return preferences.check_reminder(value)
        except preferences.InvalidReminder as exc:
            raise ValueError(exc.msgid) from None


@router.get("/me/mail-preferences", response_model=MailPreferencesRead)
async def read_mail_preferences(user: CurrentUser, db: DatabaseDep) -> MailPreferencesRead:
    """Your mail preferences: own bookings, invitations, reminder (defaults if never set)."""
    chosen = await preferences.read_preferences(db, user_id=user.user_id)
    return MailPreferencesRead.of(chosen)


@router.put("/me/mail-preferences", response_model=MailPreferencesRead)
async def save_mail_preferences(
    body: MailPreferencesUpdate, user: CurrentUser, db: DatabaseDep
) -> MailPreferencesRead:
    """Replace your mail preferences; 422 names the field that is not valid."""
    saved = await preferences.save_preferences(
        db,
        user_id=user.user_id,
        own_bookings=body.own_bookings,
        invitations=body.invitations,
        reminder_minutes=body.reminder_minutes,
    )
    return MailPreferencesRead.of(saved)
