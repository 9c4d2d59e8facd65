"""Repeating meetings on the pages: the dates of a series before it is reserved, the
series page (its rule in words and every date), changing it and cancelling it.

The booking form itself (a room's day) lives in `rooms.py`; it reads the repeat options
with `repeat_form` and calls `preview_page_data`/`reserve_series` here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.responses import Response

from mrs.accounts.sessions import AuthenticatedUser
from mrs.errors import DomainError
from mrs.http.types import SeriesIdPath, parse_iso_date
from mrs.i18n import translate
from mrs.reservations import rules
from mrs.reservations import series as series_service
from mrs.reservations.recurrence import RecurrenceRule, describe
from mrs.reservations.schemas import DESCRIPTION_MAX_LENGTH, TITLE_MAX_LENGTH
from mrs.wallclock import MINUTES_PER_DAY, format_minute, parse_minute
from mrs.web.dependencies import Page, PageContext, PageUser
from mrs.web.forms import FormState, submit, text_values
from mrs.web.i18n import N_
from mrs.web.pages.common import done_message, redirect, site_now
from mrs.web.pages.meeting_form import (
    attendee_messages_on_the_field,
    meeting_data,
    meeting_values,
)
from mrs.web.rendering import render
from mrs.web.slots import offered_times

router = APIRouter()

SCOPES = ("all", "following")


def _actor(user: AuthenticatedUser) -> rules.Actor:
    return rules.Actor(user_id=user.user_id, is_admin=user.is_admin)


# --- the dates before reserving ---


@dataclass(frozen=True)
class PreviewRow:
    """One date of the series to be: free, taken ("conflict", by what) or not bookable
    ("unbookable", why)."""

    day: date
    state: str
    reason: str


@dataclass(frozen=True)
class SeriesPreview:
    words: str
    rows: list[PreviewRow]

    @property
    def free_count(self) -> int:
        return sum(1 for row in self.rows if row.state == "free")
