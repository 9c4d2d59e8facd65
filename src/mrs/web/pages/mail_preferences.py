"""Everyone logged in: which mail they get, and a reminder before their meetings."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.responses import Response

from mrs.calendars import preferences
from mrs.calendars.models import REMINDER_CHOICES
from mrs.web.dependencies import Page, PageContext, PageUser
from mrs.web.forms import FormState, submit
from mrs.web.pages.common import done_message, redirect
from mrs.web.rendering import render

router = APIRouter()

PATH = "/account/mail"


async def _page(
    page: PageContext, state: FormState, chosen: preferences.MailPreferences
) -> Response:
    return render(
        page.request,
        "account/mail.html",
        {
            "chosen": chosen,
            "choices": REMINDER_CHOICES,
            "errors": state.errors,
            "done": done_message(page.request, page.locale),
        },
        status_code=state.status_code,
    )


@router.get(PATH)
async def mail_form(page: Page, user: PageUser) -> Response:
    chosen = await preferences.read_preferences(page.db, user_id=user.user_id)
    return await _page(page, FormState(locale=page.locale), chosen)


def _reminder(raw: object) -> int | None:
    """The reminder radio button's value: "" is off; anything else must be a choice."""
    if raw in (None, ""):
        return None
    text = raw if isinstance(raw, str) else ""
    if not (text.isdigit() and len(text) <= 4):
        raise preferences.InvalidReminder()
    return preferences.check_reminder(int(text))


def _parse(form: FormData, state: FormState) -> preferences.MailPreferences | None:
    # An unchecked checkbox is not sent at all: absent means off.
    own_bookings = form.get("own_bookings") is not None
    invitations = form.get("invitations") is not None
    try:
        reminder = _reminder(form.get("reminder_minutes"))
    except preferences.InvalidReminder as exc:
        state.add_error(exc.field or "", exc.msgid)
        reminder = None
    state.values = {
        "own_bookings": own_bookings,
        "invitations": invitations,
        "reminder_minutes": reminder,
    }
    if state.errors:
        return None
    return preferences.MailPreferences(own_bookings, invitations, reminder)


@router.post(PATH)
async def mail_submit(page: Page, user: PageUser) -> Response:
    """Save the preferences; a reminder that is not one of the choices is said next to it."""

    async def save(chosen: preferences.MailPreferences) -> Response:
        await preferences.save_preferences(
            page.db,
            user_id=user.user_id,
            own_bookings=chosen.own_bookings,
            invitations=chosen.invitations,
            reminder_minutes=chosen.reminder_minutes,
        )
        return redirect(f"{PATH}?done=mail_saved")

    async def again(state: FormState) -> Response:
        # What was sent, shown again (the reminder falls back to off when it was refused).
        return await _page(page, state, preferences.MailPreferences(**state.values))

    return await submit(
        page.request, locale=page.locale, parse=_parse, action=save, render_again=again
    )
