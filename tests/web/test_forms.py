"""Form pages: domain errors name their field, and the one `submit` helper answers every
form (redirect on success, or the same page again with the messages where they belong).
The dashboard shows no English label to a Japanese reader."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from starlette.datastructures import FormData
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from mrs.accounts.errors import EmailTaken, PasswordCheckThrottled, policy_error
from mrs.accounts.rules import PolicyViolation
from mrs.clock import FixedClock
from mrs.errors import Conflict, DomainError, InvalidInput
from mrs.reservations.errors import ReservationConflict, StartInPast, TimeDoesNotExist
from mrs.rooms.errors import RoomNameTaken
from mrs.web.forms import FormState, submit, text_values
from tests.monitoring.evaluator import alert_evaluator

# --- domain errors name their field -------------------------------------------------------


def test_an_error_about_one_input_names_it() -> None:
    assert RoomNameTaken(room_name="A").field == "room_name"
    assert EmailTaken().field == "email"
    assert StartInPast().field == "start_time"
    assert PasswordCheckThrottled(retry_after=5).field == "current_password"


def test_an_error_raised_about_an_input_names_it_through_its_details() -> None:
    error = TimeDoesNotExist(details={"field": "end_time"}, time="02:30", date="2030-03-10")
    assert error.field == "end_time"
    violation = PolicyViolation("This field is required.")
    assert policy_error(violation, "first_name").field == "first_name"


def test_an_error_about_the_whole_request_names_no_field() -> None:
    assert ReservationConflict(start="10:00", end="11:00").field is None
    assert DomainError().field is None


def test_the_api_error_details_are_left_as_they_were() -> None:
    # The field is for the pages; the API's `details` stay what the error was given.
    assert RoomNameTaken(room_name="A").details is None
    assert TimeDoesNotExist(details={"field": "end_time"}, time="x", date="y").details == {
        "field": "end_time"
    }


# --- one helper for every form ------------------------------------------------------------


def _form_app() -> FastAPI:
    """A one-form app: `room_name` is required; the action refuses some names (with the
    domain's own errors: a test's own DomainError would need a translation)."""
    app = FastAPI()

    def parse(form: FormData, state: FormState) -> str | None:
        state.values = text_values(form, ("room_name",))
        if not state.values["room_name"]:
            state.add_error("room_name", "This field is required.")
            return None
        return state.values["room_name"]

    async def action(name: str) -> Response:
        if name == "taken":
            raise RoomNameTaken(room_name=name)
        if name == "closed":
            raise Conflict()
        if name == "invalid":
            raise InvalidInput(details={"field": "room_name"})
        if name == "again":
            raise PasswordCheckThrottled(retry_after=7)
        return RedirectResponse("/done", status_code=303)

    async def again(state: FormState) -> Response:
        shown = {field or "form": message for field, message in state.errors.fields.items()}
        body = f"{state.values.get('room_name', '')}|{sorted(shown.items())}"
        return PlainTextResponse(body, status_code=state.status_code)

    @app.post("/form")
    async def form(request: Request) -> Response:
        language = request.headers.get("accept-language", "en")
        return await submit(
            request, locale=language, parse=parse, action=action, render_again=again
        )

    return app


@pytest.fixture
async def form_client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_form_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_an_accepted_form_answers_with_the_actions_redirect(
    form_client: httpx.AsyncClient,
) -> None:
    answer = await form_client.post("/form", data={"room_name": "free"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/done"


async def test_a_refused_form_is_shown_again_with_422_and_the_field_message(
    form_client: httpx.AsyncClient,
) -> None:
    answer = await form_client.post("/form", data={"room_name": "  "})
    assert answer.status_code == 422
    assert answer.text == "|[('room_name', 'This field is required.')]"


async def test_a_refusal_about_a_field_is_shown_next_to_it_at_its_status(
    form_client: httpx.AsyncClient,
) -> None:
    taken = await form_client.post("/form", data={"room_name": "taken"})
    assert taken.status_code == 409
    assert taken.text == "taken|[('room_name', 'A room named taken already exists.')]"
    invalid = await form_client.post("/form", data={"room_name": "invalid"})
    assert invalid.status_code == 422
    assert invalid.text == "invalid|[('room_name', 'The input is not valid.')]"


async def test_a_refusal_of_the_whole_request_is_shown_on_top_of_the_form(
    form_client: httpx.AsyncClient,
) -> None:
    closed = await form_client.post("/form", data={"room_name": "closed"})
    assert closed.status_code == 409
    assert closed.text == "closed|[('form', 'The request conflicts with the current state.')]"


async def test_a_throttled_attempt_says_when_to_try_again(form_client: httpx.AsyncClient) -> None:
    throttled = await form_client.post("/form", data={"room_name": "again"})
    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == "7"
    assert "Too many wrong passwords. Try again in 7 seconds." in throttled.text


async def test_the_messages_are_in_the_readers_language(form_client: httpx.AsyncClient) -> None:
    answer = await form_client.post(
        "/form", data={"room_name": ""}, headers={"accept-language": "ja"}
    )
    assert answer.status_code == 422
    assert "This field is required." not in answer.text


# --- the dashboard in Japanese ------------------------------------------------------------

# Shown as they are in every language: percentiles, units and numbers.
_SAME_IN_EVERY_LANGUAGE = re.compile(r"^(p\d\d|ms|%|[\d.,:\s%–-]+)$")


def _labels(html: str) -> list[str]:
    """The dashboard's labels: window rows, component headings and states, detail names,
    the overall state, and the alert table's headers."""
    found: list[str] = []
    for pattern in (
        r'<th scope="row">([^<]*)</th>',
        r"<h3>([^<]*?) <span",
        r'<span class="status status-[a-z]+">([^<]*)</span>',
        r"<dt>([^<]*)</dt>",
        r'id="overall">([^<]*)<',
        r"<th>([^<]*)</th>",
    ):
        found.extend(label.strip() for label in re.findall(pattern, html))
    return found


async def test_the_dashboard_shows_no_english_label_in_japanese(
    app: Any, clock: FixedClock, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await alert_evaluator(app).evaluate()
    await client.get("/health/liveness")
    clock.now += timedelta(seconds=60)
    await alert_evaluator(app).evaluate()
    english = await client.get("/admin/monitoring", headers=admin_headers)
    japanese = await client.get(
        "/admin/monitoring", headers={**admin_headers, "accept-language": "ja"}
    )
    assert english.status_code == japanese.status_code == 200
    en_labels, ja_labels = _labels(english.text), _labels(japanese.text)
    assert len(en_labels) == len(ja_labels) > 20
    untranslated = [
        ja
        for en, ja in zip(en_labels, ja_labels, strict=True)
        if ja == en and not _SAME_IN_EVERY_LANGUAGE.match(ja)
    ]
    assert untranslated == []
    for label in ("5分", "15分", "1時間", "データベース", "ディスク容量", "メモリ"):
        assert f">{label}<" in japanese.text or f">{label} <" in japanese.text
    assert "5 min" in english.text
    assert "件/秒" in japanese.text
