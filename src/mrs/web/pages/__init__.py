"""The HTML pages. Each calls the domain services directly (never the JSON API over HTTP),
answers a POST with a redirect (post/redirect/get), and on a rejected form renders the
form again with what was typed and the message next to the field.

One module per area; later pages (registration, approvals, password, sessions, users)
add their module here and their links in mrs.web.navigation.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from mrs.web.dependencies import mark_page
from mrs.web.pages import (
    account,
    admin_approvals,
    admin_audit,
    admin_closure_days,
    admin_equipment,
    admin_groups,
    admin_mail,
    admin_policies,
    admin_reports,
    admin_rooms,
    admin_users,
    calendar_feed,
    checkin,
    delegates,
    mail_preferences,
    meeting,
    my_account,
    password_reset,
    registration,
    reservations,
    rooms,
    search,
    series,
    timeline,
    week,
)

router = APIRouter(dependencies=[Depends(mark_page)], include_in_schema=False)
for area in (
    account,
    registration,
    password_reset,
    my_account,
    mail_preferences,
    calendar_feed,
    delegates,
    rooms,
    reservations,
    meeting,
    checkin,
    series,
    timeline,
    week,
    search,
    admin_rooms,
    admin_equipment,
    admin_closure_days,
    admin_users,
    admin_groups,
    admin_mail,
    admin_reports,
    admin_audit,
    admin_policies,
    admin_approvals,
):
    router.include_router(area.router)
