"""Delegates on the pages, over HTTP as a browser drives them (ja and en): the account
page adds a delegate by name and removes one, a delegate books for the principal with
the "Book for" select, and the room's day, the reservation and both people's "my
reservations" say who booked it for whom."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mrs.reservations.models import Reservation, ReservationDelegate
from tests.conftest import PageLogin, RoomFactory, UserFactory, browser_like_client

pytestmark = pytest.mark.both_databases

ORIGIN = "http://testserver"


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_like_client(app, ORIGIN) as http:
        yield http


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def _delegates_of(app: Any, principal: str) -> list[str]:
    async with app.state.db.snapshot() as session:
        return sorted(
            (
                await session.scalars(
                    select(ReservationDelegate.delegate_id).where(
                        ReservationDelegate.principal_id == principal
                    )
                )
            ).all()
        )


async def test_a_principal_adds_a_delegate_by_name_and_removes_them(
    app: Any, client: httpx.AsyncClient, make_user: UserFactory, page_login: PageLogin
) -> None:
    await make_user("manager")
    await make_user("secretary")  # Test Secretary
    await page_login("manager")
    empty = await client.get("/account/delegates", headers={"accept-language": "ja"})
    assert empty.status_code == 200
    assert "代理人はいません。" in _text(empty.text)

    unknown = await client.post(
        "/account/delegates", data={"person": "Nobody Here", "csrf_token": ""}
    )
    assert unknown.status_code == 422
    assert "No active user has the id or name Nobody Here." in _text(unknown.text)
    ambiguous = await client.post("/account/delegates", data={"person": "Test", "csrf_token": ""})
    assert ambiguous.status_code == 422
    assert "Several users match Test" in _text(ambiguous.text)
    myself = await client.post("/account/delegates", data={"person": "manager", "csrf_token": ""})
    assert myself.status_code == 422
    assert await _delegates_of(app, "manager") == []

    added = await client.post(
        "/account/delegates", data={"person": "Test Secretary", "csrf_token": ""}
    )
    assert added.status_code == 303, added.text
    assert await _delegates_of(app, "manager") == ["secretary"]
    page = await client.get(added.headers["location"])
    assert "The delegate was added" in _text(page.text)
    assert "Test Secretary (secretary)" in _text(page.text)

    removed = await client.post(
        "/account/delegates/remove", data={"user_id": "secretary", "csrf_token": ""}
    )
    assert removed.status_code == 303
    assert await _delegates_of(app, "manager") == []


async def test_a_delegate_books_for_the_principal_with_the_book_for_select(
    app: Any,
    client: httpx.AsyncClient,
    make_user: UserFactory,
    page_login: PageLogin,
    make_room: RoomFactory,
    tomorrow: date,
) -> None:
    await make_user("manager")
    await make_user("secretary")
    await make_user("colleague")
    room = await make_room("Board")
    await page_login("manager")
    await client.post("/account/delegates", data={"person": "secretary", "csrf_token": ""})

    await page_login("colleague")
    plain = await client.get(f"/rooms/{room}?date={tomorrow.isoformat()}")
    assert 'name="on_behalf_of"' not in plain.text  # nobody named them

    await page_login("secretary")
    form = await client.get(f"/rooms/{room}?date={tomorrow.isoformat()}")
    assert 'name="on_behalf_of"' in form.text
    assert '<option value="manager"' in form.text
    booked = await client.post(
        f"/rooms/{room}/reservations",
        data={
            "date": tomorrow.isoformat(),
            "start_time": "10:00",
            "end_time": "11:00",
            "on_behalf_of": "manager",
            "csrf_token": "",
        },
    )
    assert booked.status_code == 303, booked.text
    async with app.state.db.snapshot() as session:
        [row] = (await session.scalars(select(Reservation))).all()
        assert (row.user_id, row.booked_by) == ("manager", "secretary")
    day = await client.get(f"/rooms/{room}?date={tomorrow.isoformat()}")
    assert "Booked by Test Secretary for Test Manager" in _text(day.text)
    in_ja = await client.get(
        f"/reservations/{row.reservation_id}", headers={"accept-language": "ja"}
    )
    assert "Secretary Testさんが Manager Testさんの代理で予約" in _text(in_ja.text)
    mine = await client.get("/reservations")
    assert "Booked by Test Secretary for Test Manager" in _text(mine.text)
    assert f"/reservations/{row.reservation_id}/cancel" in mine.text
    # The delegate is offered the edit form and the cancel page of the principal's booking.
    assert (await client.get(f"/reservations/{row.reservation_id}/edit")).status_code == 200
    assert (await client.get(f"/reservations/{row.reservation_id}/cancel")).status_code == 200

    # Someone who is not a delegate cannot book for the manager by sending the field.
    await page_login("colleague")
    refused = await client.post(
        f"/rooms/{room}/reservations",
        data={
            "date": tomorrow.isoformat(),
            "start_time": "13:00",
            "end_time": "14:00",
            "on_behalf_of": "manager",
            "csrf_token": "",
        },
    )
    assert refused.status_code == 403
    assert "they have not named you as a delegate" in _text(refused.text)
    assert (await client.get(f"/reservations/{row.reservation_id}/edit")).status_code == 403

    await page_login("manager")
    theirs = await client.get("/reservations", headers={"accept-language": "ja"})
    assert "Secretary Testさんが Manager Testさんの代理で予約" in _text(theirs.text)
