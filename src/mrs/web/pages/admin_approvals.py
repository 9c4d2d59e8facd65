"""Bookings waiting for approval (`/admin/approvals`): administrators see every room's,
room managers their rooms'; each with approve and reject (a reason for the owner). The
same service as the API (`mrs.reservations.approvals`); rendered like every other page."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.responses import Response

from mrs.http.types import ReservationIdPath
from mrs.i18n import translate
from mrs.reservations import approvals
from mrs.web.dependencies import Page, PageContext, PageUser
from mrs.web.forms import FormState, no_fields, submit, text_values
from mrs.web.i18n import N_
from mrs.web.pages.common import redirect
from mrs.web.rendering import render

router = APIRouter()

# Bookings listed on one page.
PAGE_SIZE = 50
DONE = {
    "approved": N_("The booking is approved; its owner is told."),
    "rejected": N_("The booking is rejected; its owner is told why."),
}


def _page_number(raw: str | None) -> int:
    """The ?page=: 1 when absent or not a small positive number."""
    return int(raw) if raw and raw.isdigit() and 0 < len(raw) < 6 and int(raw) > 0 else 1


async def _approvals_page(page: PageContext, user: PageUser, state: FormState) -> Response:
    """The pending bookings the user decides on; `state` holds a typed reason (by field)
    and the messages of a refused decision."""
    request = page.request
    number = _page_number(request.query_params.get("page"))
    listed = await approvals.pending(
        page.db,
        actor=user,
        limit=PAGE_SIZE,
        offset=(number - 1) * PAGE_SIZE,
        locale=page.locale,
    )
    request.state.approver = True
    msgid = DONE.get(request.query_params.get("done", ""))
    return render(
        request,
        "admin/approvals.html",
        {
            "pending": listed.items,
            "total": listed.total,
            "page_number": number,
            "last_page": max(1, -(-listed.total // PAGE_SIZE)),
            "reasons": state.values,
            "errors": state.errors,
            "error": state.errors.form,
            "done": translate(page.locale, msgid) if msgid else None,
        },
        status_code=state.status_code,
    )


@router.get("/admin/approvals")
async def approvals_page(page: Page, user: PageUser) -> Response:
    return await _approvals_page(page, user, FormState(locale=page.locale))


@router.post("/admin/approvals/{reservation_id}/approve")
async def approve(reservation_id: ReservationIdPath, page: Page, user: PageUser) -> Response:
    async def act(_: bool) -> Response:
        await approvals.decide(
            page.db,
            actor=user,
            reservation_id=reservation_id,
            approve=True,
            reason=None,
            now=page.now,
        )
        return redirect("/admin/approvals?done=approved")

    async def again(state: FormState) -> Response:
        return await _approvals_page(page, user, state)

    return await submit(
        page.request, locale=page.locale, parse=no_fields, action=act, render_again=again
    )


@router.post("/admin/approvals/{reservation_id}/reject")
async def reject(reservation_id: ReservationIdPath, page: Page, user: PageUser) -> Response:
    field = f"reason-{reservation_id}"

    def parse_reason(form: FormData, state: FormState) -> str | None:
        """The reason for the owner, required; shown again by its booking's row."""
        reason = text_values(form, ("reason",))["reason"]
        state.values = {field: reason}
        if not reason.strip():
            state.add_error(field, N_("Give a reason for the rejection: the owner is told it."))
        elif len(reason) > approvals.REASON_MAX:
            state.add_error(field, N_("Enter at most {max} characters."), max=approvals.REASON_MAX)
        return reason

    async def act(reason: str) -> Response:
        await approvals.decide(
            page.db,
            actor=user,
            reservation_id=reservation_id,
            approve=False,
            reason=reason,
            now=page.now,
        )
        return redirect("/admin/approvals?done=rejected")

    async def again(state: FormState) -> Response:
        return await _approvals_page(page, user, state)

    return await submit(
        page.request, locale=page.locale, parse=parse_reason, action=act, render_again=again
    )
