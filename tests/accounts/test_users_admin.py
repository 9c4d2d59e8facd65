"""Users as administrators manage them: one validation for every way a user is made, role
changes (never the last administrator), and the users page (search, pages, roles, rejected
rows), plus the account pages' refusal and password-form wording."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from mrs.accounts import registration, users
from mrs.accounts.errors import LastAdministrator
from mrs.accounts.models import Role, UserStatus
from mrs.errors import InvalidInput
from mrs.settings import Settings
from tests.conftest import DEFAULT_PASSWORD, LoginFactory, UserFactory, browser_like_client

STRONG = "plum-lantern-orbit-7"
JA = {"accept-language": "ja"}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
async def browser(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_like_client(app) as http:
        yield http


async def _log_in(http: httpx.AsyncClient, user_id: str) -> None:
    response = await http.post("/login", data={"user_id": user_id, "password": DEFAULT_PASSWORD})
    assert response.status_code == 303, response.text


# --- one validation, the right field --------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"user_id": "no spaces!"}, "user_id"),
        ({"email": "not-an-email"}, "email"),
        ({"first_name": " "}, "first_name"),
        ({"last_name": "x" * 300}, "last_name"),
        ({"password": "short"}, "password"),
    ],
)
async def test_registration_and_creation_name_the_field_that_broke_a_rule(
    app: Any, settings: Settings, clock: Any, changes: dict[str, str], field: str
) -> None:
    form = {
        "user_id": "kenji",
        "first_name": "Kenji",
        "last_name": "Sato",
        "email": "kenji@example.com",
        "password": STRONG,
        **changes,
    }
    now: datetime = clock()
    with pytest.raises(InvalidInput) as registered:
        await registration.register_user(app.state.db, settings, now=now, **form)
    with pytest.raises(InvalidInput) as created:
        await users.create_user(app.state.db, now=now, **form)
    assert registered.value.details == {"field": field}
    assert created.value.details == {"field": field}
    assert registered.value.msgid == created.value.msgid
    assert await users.get_user(app.state.db, user_id="kenji") is None


# --- role changes ----------------------------------------------------------------------


async def test_the_api_changes_roles_but_never_demotes_the_last_admin(
    app: Any, client: httpx.AsyncClient, make_user: UserFactory, login: LoginFactory
) -> None:
    boss = await make_user("boss", role=Role.ADMIN)
    await make_user("aiko")
    headers = await login(boss)
    promoted = await client.put(
        "/api/admin/users/aiko/role", json={"role": "ADMIN"}, headers=headers
    )
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["role_name"] == "ADMIN"
    # aiko, now an admin, may demote boss; then boss is a plain user and is refused.
    aiko = await login("aiko")
    assert (
        await client.put("/api/admin/users/boss/role", json={"role": "USER"}, headers=aiko)
    ).status_code == 200
    assert (
        await client.put("/api/admin/users/aiko/role", json={"role": "USER"}, headers=headers)
    ).status_code == 403
    last = await client.put(
        "/api/admin/users/aiko/role", json={"role": "USER"}, headers={**aiko, **JA}
    )
    assert last.status_code == 409
    assert last.json()["error"]["code"] == "last_admin"
    assert "管理者" in last.json()["error"]["message"]
    assert (await users.get_user(app.state.db, user_id="aiko")).role_name == "ADMIN"  # type: ignore[union-attr]
    bad = await client.put("/api/admin/users/aiko/role", json={"role": "ROOT"}, headers=aiko)
    assert bad.status_code == 422


async def test_a_disabled_admin_does_not_count_as_another_admin(
    app: Any, make_user: UserFactory, clock: Any
) -> None:
    await make_user("solo", role=Role.ADMIN)
    await make_user("helper", role=Role.ADMIN, status=UserStatus.DISABLED)
    other = await make_user("other", role=Role.ADMIN)
    await users.disable_user(app.state.db, user_id=other, admin_id="solo", now=clock())
    with pytest.raises(LastAdministrator):
        await users.change_role(app.state.db, user_id="solo", role=Role.USER, admin_id="solo")
    with pytest.raises(LastAdministrator):
        await users.disable_user(app.state.db, user_id="solo", admin_id="someone", now=clock())


# --- the users page --------------------------------------------------------------------


async def test_the_users_page_searches_and_pages(
    browser: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await _log_in(browser, await make_user("chief", role=Role.ADMIN))
    for n in range(55):
        await make_user(f"staff{n:02d}")
    await make_user("yamada", email="hanako.y@example.org")
    first = await browser.get("/admin/users")
    assert first.status_code == 200
    assert first.text.count('<tr class="status-') == 50
    assert 'rel="next" href="/admin/users?page=2"' in first.text
    assert 'rel="prev"' not in first.text
    second = await browser.get("/admin/users?page=2")
    assert second.text.count('<tr class="status-') == 7
    assert 'rel="prev" href="/admin/users?page=1"' in second.text
    assert "Page 2 of 2" in _text(second.text)
    # By id, by name (family name as stored) and by email, in any case.
    for term in ("YAMADA", "hanako.y@", "staff07"):
        found = await browser.get("/admin/users", params={"q": term})
        rows = found.text.count('<tr class="status-')
        assert rows == 1, (term, _text(found.text))
    none = await browser.get("/admin/users", params={"q": "%"})
    assert "No user matches." in none.text
    assert (await browser.get("/admin/users?page=abc")).status_code == 200


async def test_the_users_page_changes_roles_and_explains_the_last_admin(
    browser: httpx.AsyncClient, make_user: UserFactory, app: Any, clock: Any
) -> None:
    await make_user("ren")
    await _log_in(browser, await make_user("chief", role=Role.ADMIN))
    changed = await browser.post("/admin/users/ren/role", data={"role": "ADMIN"})
    assert changed.status_code == 303
    assert changed.headers["location"] == "/admin/users?done=role_changed"
    assert (
        "The role of the user was changed." in (await browser.get(changed.headers["location"])).text
    )
    assert (await users.get_user(app.state.db, user_id="ren")).role_name == "ADMIN"  # type: ignore[union-attr]
    page = await browser.get("/admin/users")
    assert 'action="/admin/users/ren/role"' in page.text
    assert "Make user" in page.text
    # ren demotes chief through ren's own session; chief, now a user, sees a 403.
    async with browser_like_client(app) as ren:
        await _log_in(ren, "ren")
        assert (await ren.post("/admin/users/chief/role", data={"role": "USER"})).status_code == 303
        refused = await ren.post("/admin/users/ren/role", data={"role": "USER"}, headers=JA)
        assert refused.status_code == 409
        assert "有効な管理者はこのユーザーだけです" in refused.text
        bad = await ren.post("/admin/users/chief/role", data={"role": "ROOT"})
        assert bad.status_code == 422


async def test_rejected_rows_show_the_decision(
    browser: httpx.AsyncClient, make_user: UserFactory, app: Any, clock: Any
) -> None:
    await make_user("nope", status=UserStatus.PENDING)
    chief = await make_user("chief", role=Role.ADMIN)
    await registration.reject_user(
        app.state.db, user_id="nope", admin_id=chief, now=clock(), reason="Not staff"
    )
    await _log_in(browser, chief)
    row = re.search(
        r'<tr class="status-rejected">(.*?)</tr>', (await browser.get("/admin/users")).text, re.S
    )
    assert row is not None
    cells = _text(row.group(1))
    assert "Rejected" in cells
    assert "Not staff" in cells
    assert re.search(r'<td class="actions">\s*</td>', row.group(1)) is None


# --- one 403 message, the password form's promise ----------------------------------------


async def test_a_refused_admin_page_says_one_consistent_thing(
    browser: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await _log_in(browser, await make_user())
    for path in ("/admin/users", "/admin/registrations"):
        page = await browser.get(path)
        assert page.status_code == 403
        text = _text(page.text)
        assert "This page is for administrators only." in text
        assert "If you need this, ask an administrator." in text
        assert "the person who made the reservation" not in text
    ja = _text((await browser.get("/admin/users", headers=JA)).text)
    assert "このページは管理者専用です。" in ja
    assert "管理者に依頼してください" in ja


async def test_a_refused_password_change_shows_the_errors_and_never_the_passwords(
    browser: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await _log_in(browser, await make_user("mika"))
    response = await browser.post(
        "/account/password",
        data={
            "current_password": "wrong-current-secret",
            "new_password": "tiny",
            "new_password_confirm": "tiny",
        },
    )
    assert response.status_code == 422
    assert 'id="new_password-error"' in response.text
    assert "wrong-current-secret" not in response.text
    assert 'value="tiny"' not in response.text
    assert "passwords you typed are never shown again" in response.text
