"""Administrators: the audit log — who changed what and when, newest first, filtered by
who, action and period, a page at a time, with the same rows as a CSV download."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.responses import Response

from mrs.audit import rules, service
from mrs.audit.models import AuditEntry
from mrs.errors import DomainError
from mrs.http.types import parse_iso_date
from mrs.web.dependencies import Page, PageAdmin
from mrs.web.forms import MAX_VALUE_LENGTH, FormState
from mrs.web.i18n import N_
from mrs.web.rendering import render

router = APIRouter()

PAGE_SIZE = 50
# What each action is called on the page (the code is shown too; an action without a
# name here, such as one added later, shows its code only).
ACTION_LABELS: dict[str, str] = {
    "audit.prune": N_("Old audit rows removed"),
    "calendar_feed.create": N_("Calendar feed made"),
    "calendar_feed.regenerate": N_("Calendar feed URL replaced"),
    "calendar_feed.revoke": N_("Calendar feed revoked"),
    "closure_day.create": N_("Closure day added"),
    "closure_day.delete": N_("Closure day removed"),
    "equipment.create": N_("Equipment added"),
    "equipment.delete": N_("Equipment removed"),
    "equipment.update": N_("Equipment renamed"),
    "group.create": N_("Group created"),
    "group.delete": N_("Group deleted"),
    "group.members": N_("Group members changed"),
    "group.rename": N_("Group renamed"),
    "group.update": N_("Group changed"),
    "occurrence.cancel": N_("Occurrence cancelled"),
    "occurrence.update": N_("Occurrence changed"),
    "reservation.approved": N_("Reservation approved"),
    "reservation.cancel": N_("Reservation cancelled"),
    "reservation.create": N_("Reservation made"),
    "reservation.rejected": N_("Reservation rejected"),
    "reservation.update": N_("Reservation changed"),
    "room.close_dates": N_("Room closed on dates"),
    "room.create": N_("Room created"),
    "room.managers.update": N_("Room managers changed"),
    "room.open_dates": N_("Room opened on dates"),
    "room.update": N_("Room changed"),
    "series.cancel": N_("Series cancelled"),
    "series.create": N_("Series made"),
    "series.update": N_("Series changed"),
    "user.approve": N_("Registration approved"),
    "user.delegates": N_("Delegates changed"),
    "user.disable": N_("User disabled"),
    "user.enable": N_("User enabled"),
    "user.end_sessions": N_("User's sessions ended"),
    "user.mail_preferences": N_("Mail preferences changed"),
    "user.password": N_("Password changed"),
    "user.password_reset": N_("Password reset with a mailed link"),
    "user.password_reset_request": N_("Password reset mail requested"),
    "user.password_reset_sent": N_("Password reset mail sent by an administrator"),
    "user.password_set": N_("Password set from the command line"),
    "user.register": N_("Registration submitted"),
    "user.reject": N_("Registration rejected"),
    "user.role": N_("Role changed"),
}
_FIELDS = ("actor", "action", "from", "to")
# The ?page= values the pager makes (a bigger one is shown as the first page).
_MAX_PAGE = 100_000


def _page_number(raw: str | None) -> int:
    """The ?page=: 1 when absent or not a small positive number."""
    return int(raw) if raw and raw.isdigit() and 0 < len(raw) < 7 and int(raw) > 0 else 1


def _date(values: dict[str, str], name: str, state: FormState) -> date | None:
    if not values[name]:
        return None
    try:
        return parse_iso_date(values[name])
    except ValueError as exc:
        state.add_error(name, str(exc))
        return None


def _read(values: dict[str, str], page: Page, state: FormState) -> service.AuditFilter | None:
    """The filter the form asks for; None (with messages) when it asks for nonsense."""
    if values["actor"] and not rules.valid_actor(values["actor"]):
        state.add_error("actor", N_("Enter a user id (letters, digits and . _ @ -)."))
    if values["action"] and not rules.valid_action(values["action"]):
        state.add_error(
            "action", N_("Enter the start of an action, such as group. (a-z, dots, _).")
        )
    first, last = _date(values, "from", state), _date(values, "to", state)
    if state.errors:
        return None
    try:
        since, until = rules.period_bounds(first, last, page.settings.tz)
    except DomainError as exc:  # backwards or too long: said next to "to"
        state.add_error("to", exc.msgid, **exc.params)
        return None
    return service.AuditFilter(
        actor_id=values["actor"] or None,
        action_prefix=values["action"] or None,
        since=since,
        until=until,
    )


def _row(entry: AuditEntry) -> dict[str, Any]:
    return {
        "at": entry.at,
        "actor_id": entry.actor_id,
        "on_behalf_of": entry.on_behalf_of,
        "action": entry.action,
        "label": ACTION_LABELS.get(entry.action),
        "subject": f"{entry.subject_type} {entry.subject_id}",
        "before": rules.readable(entry.before),
        "after": rules.readable(entry.after),
        "request_id": entry.request_id or "",
        "client_address": entry.client_address or "",
    }


@router.get("/admin/audit")
async def audit_log(page: Page, _admin: PageAdmin) -> Response:
    """The filter form, one page of matching rows and the CSV link for all of them."""
    params = page.request.query_params
    values = {
        name: params.get(name, "").replace("\x00", "").strip()[:MAX_VALUE_LENGTH]
        for name in _FIELDS
    }
    state = FormState(locale=page.locale, values=values)
    where = _read(values, page, state)
    context: dict[str, Any] = {"values": values, "errors": state.errors, "rows": None}
    if where is not None:
        number = min(_page_number(params.get("page")), _MAX_PAGE)
        entries, total = await service.list_entries(
            page.db, where=where, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
        query = {key: value for key, value in values.items() if value}
        api_query = {{"actor": "actor_id"}.get(key, key): value for key, value in query.items()}
        context |= {
            "rows": [_row(entry) for entry in entries],
            "total": total,
            "page": number,
            "last_page": max(1, -(-total // PAGE_SIZE)),
            "query": ("&" + urlencode(query)) if query else "",
            "csv_url": "/api/admin/audit?" + urlencode({**api_query, "format": "csv"}),
        }
    status = 422 if state.errors else 200
    return render(page.request, "admin/audit.html", context, status_code=status)
