"""Everyone logged in: their calendar subscription link (make, make anew, turn off) and
how to subscribe in Outlook, Google Calendar and Apple Calendar."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from mrs.accounts.dependencies import AuthNowDep
from mrs.calendars import feed_tokens
from mrs.web.dependencies import Page, PageContext, PageUser
from mrs.web.forms import FormState, no_fields, submit
from mrs.web.pages.common import done_message, redirect
from mrs.web.rendering import render

router = APIRouter()


async def _calendar_page(
    page: PageContext, *, user_id: str, state: FormState, token: str | None = None
) -> Response:
    """The page; with `token` (just made) its URLs, this once: only a hash is kept."""
    found = await feed_tokens.feed_status(page.db, user_id=user_id)
    base = feed_tokens.subscribe_base(page.settings.public_url, str(page.request.base_url))
    return render(
        page.request,
        "account/calendar.html",
        {
            "feed": found,
            "own_url": feed_tokens.feed_url(base, token) if token else None,
            "room_urls": [
                (room, feed_tokens.feed_url(base, token, room.room_id)) for room in found.rooms
            ]
            if token
            else [],
            "error": state.errors.form,
            "done": done_message(page.request, page.locale),
        },
        status_code=state.status_code,
    )


@router.get("/account/calendar")
async def calendar_subscription(page: Page, user: PageUser) -> Response:
    return await _calendar_page(page, user_id=user.user_id, state=FormState(locale=page.locale))


@router.post("/account/calendar")
async def make_calendar_link(page: Page, user: PageUser, now: AuthNowDep) -> Response:
    """Make the link (replacing an earlier one) and show it on the answer itself, not
    after a redirect: a token in a redirect's URL would stay in the browser's history."""

    async def make(_: bool) -> Response:
        token = await feed_tokens.create_token(page.db, user_id=user.user_id, now=now)
        return await _calendar_page(
            page, user_id=user.user_id, state=FormState(locale=page.locale), token=token
        )

    async def again(state: FormState) -> Response:
        return await _calendar_page(page, user_id=user.user_id, state=state)

    return await submit(
        page.request, locale=page.locale, parse=no_fields, action=make, render_again=again
    )


@router.post("/account/calendar/revoke")
async def turn_off_calendar_link(page: Page, user: PageUser) -> Response:
    """Revoke the link: calendars subscribed with it get 404 and stop updating."""

    async def revoke(_: bool) -> Response:
        await feed_tokens.revoke_token(page.db, user_id=user.user_id)
        return redirect("/account/calendar?done=feed_revoked")

    async def again(state: FormState) -> Response:
        return await _calendar_page(page, user_id=user.user_id, state=state)

    return await submit(
        page.request, locale=page.locale, parse=no_fields, action=revoke, render_again=again
    )
