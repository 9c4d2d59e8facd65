"""Administrators: is mail getting out? SMTP status, the outbox page by page, and the
registration decisions (with their reasons) that the applicants were mailed about."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from mrs.accounts import registration
from mrs.http.dependencies import DatabaseDep, SettingsDep
from mrs.notifications import service as mail_service
from mrs.notifications.sender import smtp_configured
from mrs.web.dependencies import PageAdmin
from mrs.web.rendering import render

router = APIRouter()

PAGE_SIZE = 50
RECENT_DECISIONS = 50


@router.get("/admin/mail")
async def mail(
    request: Request,
    _admin: PageAdmin,
    db: DatabaseDep,
    settings: SettingsDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    # One row more than shown tells whether there is a next page without counting them all.
    rows = await mail_service.list_outbox(db, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    decided = await registration.recent_decisions(db, limit=PAGE_SIZE)
    return render(
        request,
        "admin/mail.html",
        {
            "smtp_configured": smtp_configured(settings),
            "delivery": await mail_service.delivery_status(db),
            "summary": await mail_service.outbox_summary(db),
            "mails": rows[:PAGE_SIZE],
            "page": page,
            "has_next": len(rows) > PAGE_SIZE,
            "decisions": decided[:RECENT_DECISIONS],
        },
    )
