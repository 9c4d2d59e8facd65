"""The account pages, driven over HTTP without a browser: registering, the login messages,
approving and rejecting, users, the mail outbox, changing the password and one's sessions.
(The browser story is tests/e2e/test_registration_story.py.)"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mrs.accounts import users
from mrs.accounts.models import RegistrationAttempt, Role, UserStatus
from mrs.accounts.session_cookie import SESSION_COOKIE
from mrs.clock import system_clock
from mrs.i18n import translate
from mrs.notifications.models import MailState, OutboxMail
from tests.conftest import DEFAULT_PASSWORD, UserFactory, browser_like_client

HTML = {"accept": "text/html"}
JA = {"accept-language": "ja"}
GOOD_PASSWORD = "quiet-river-lantern-42"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _field_error(html: str, field: str) -> str | None:
    found = re.search(rf'<p class="field-error" id="{re.escape(field)}-error">([^<]*)</p>', html)
    return found.group(1) if found else None


def _registration(**changes: str) -> dict[str, str]:
    form = {
        "user_id": "hanako",
        "first_name": "Hanako",
        "last_name": "Yamada",
        "email": "hanako@example.com",
        "password": GOOD_PASSWORD,
        "password_confirm": GOOD_PASSWORD,
        "csrf_token": "",
    }
    form.update(changes)
    return form


Browser = Callable[[], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Pages are driven as a browser drives them: CSRF token and same-origin Origin."""
    async with browser_like_client(app) as http:
        yield http


@pytest.fixture
def another_browser(app: Any) -> Browser:
    """A second, independent cookie jar on the same app (another device)."""
    return lambda: browser_like_client(app)


async def _log_in(
    client: httpx.AsyncClient, user_id: str, password: str = DEFAULT_PASSWORD
) -> None:
    response = await client.post("/login", data={"user_id": user_id, "password": password})
    assert response.status_code == 303, response.text
    assert SESSION_COOKIE in client.cookies


# --- registering ---


async def test_the_login_page_links_to_the_registration_form(client: httpx.AsyncClient) -> None:
    login = await client.get("/login")
    assert 'href="/register"' in login.text
    form = await client.get("/register", headers=JA)
    assert form.status_code == 200
    for field in ("user_id", "first_name", "last_name", "email", "password", "password_confirm"):
        assert f'<label for="{field}">' in form.text
    # The rules the script checks as you type are on the page, in the reader's language.
    assert "data-password-rules" in form.text
    assert 'data-min="12" data-max="128"' in form.text
    assert "12〜128 文字" in form.text
    assert 'aria-describedby="password-rules"' in form.text
    assert 'aria-describedby="user_id-hint"' in form.text


async def test_a_registration_is_received_and_waits_for_approval(
    client: httpx.AsyncClient, app: Any
) -> None:
    response = await client.post("/register", data=_registration(), headers=JA)
    assert response.status_code == 303
    assert response.headers["location"] == "/register/received"
    received = await client.get("/register/received", headers=JA)
    assert "登録は管理者の承認待ちです。" in received.text
    user = await users.get_user(app.state.db, user_id="hanako")
    assert user is not None
    assert user.status == UserStatus.PENDING
    assert user.locale == "ja"
    async with app.state.db.snapshot() as session:
        recipients = set((await session.scalars(select(OutboxMail.recipient))).all())
    assert "hanako@example.com" in recipients
    assert SESSION_COOKIE not in client.cookies  # a pending user never gets a session


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"user_id": "Ha"}, "user_id", "The user ID must be 3 to 32 characters long."),
        ({"user_id": "hana ko"}, "user_id", "The user ID may contain only lower-case letters"),
        ({"first_name": "  "}, "first_name", "This field is required."),
        ({"email": "not-an-address"}, "email", "Enter a valid email address."),
        (
            {"password": "short-one", "password_confirm": "short-one"},
            "password",
            "The password must be at least 12 characters long.",
        ),
        (
            {"password": "hanako-garden-99", "password_confirm": "hanako-garden-99"},
            "password",
            "The password must not contain your user ID.",
        ),
        (
            {"password": "qwerty123456", "password_confirm": "qwerty123456"},
            "password",
            "This password is too common. Choose another one.",
        ),
        ({"password_confirm": "something-else-entirely"}, "password_confirm", "do not match"),
    ],
)
async def test_a_refused_registration_keeps_the_form_with_the_message_at_the_field(
    client: httpx.AsyncClient, changes: dict[str, str], field: str, message: str
) -> None:
    form = _registration(**changes)
    response = await client.post("/register", data=form)
    assert response.status_code == 422
    error = _field_error(response.text, field)
    assert error is not None, response.text
    assert message in error
    described = re.search(rf'<input id="{field}"[^>]*aria-describedby="([^"]*)"', response.text)
    assert described is not None
    assert f"{field}-error" in described.group(1).split()
    for kept in ("first_name", "last_name", "email"):
        if form[kept].strip():
            assert f'value="{form[kept]}"' in response.text
    # What was typed as a password is never sent back.
    assert form["password"] not in response.text


async def test_a_closed_registration_says_so_on_the_form_in_both_languages(
    client: httpx.AsyncClient, app: Any
) -> None:
    app.state.settings.registration_enabled = False
    for headers, words in (
        ({}, "Self-registration is turned off."),
        (
            JA,
            translate(
                "ja", "Self-registration is turned off. Ask an administrator for an account."
            ),
        ),
    ):
        response = await client.post("/register", data=_registration(), headers=headers)
        assert response.status_code == 403
        assert words in response.text
        assert 'value="hanako@example.com"' in response.text  # what was typed is kept
    assert await users.get_user(app.state.db, user_id="hanako") is None


async def test_a_registration_flood_gets_429_with_retry_after_on_the_form(
    client: httpx.AsyncClient, app: Any
) -> None:
    app.state.settings.registration_max_per_address = 1
    first = await client.post("/register", data=_registration())
    assert first.status_code == 303
    second = await client.post(
        "/register", data=_registration(user_id="jiro", email="jiro@example.com")
    )
    assert second.status_code == 429
    assert int(second.headers["retry-after"]) > 0
    assert "Too many registrations from here." in second.text
    assert await users.get_user(app.state.db, user_id="jiro") is None


async def test_refused_registrations_are_counted_like_the_apis(
    client: httpx.AsyncClient, app: Any
) -> None:
    await client.post("/register", data=_registration(email="nope"))
    async with app.state.db.snapshot() as session:
        outcomes = list((await session.scalars(select(RegistrationAttempt.outcome))).all())
    assert outcomes == ["INVALID"]


async def test_taken_ids_and_emails_are_said_at_their_fields(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await make_user("hanako", email="other@example.com")
    await make_user("someone", email="hanako@example.com")
    taken_id = await client.post("/register", data=_registration(email="new@example.com"))
    assert taken_id.status_code == 409
    assert _field_error(taken_id.text, "user_id") == "The user ID hanako is already taken."
    taken_email = await client.post(
        "/register", data=_registration(user_id="hanako2", email="HANAKO@example.com"), headers=JA
    )
    assert taken_email.status_code == 409
    assert _field_error(taken_email.text, "email") == (
        "このメールアドレスのアカウントは既に存在します。"
    )


async def test_a_logged_in_visitor_is_sent_past_the_registration_form(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await _log_in(client, await make_user())
    response = await client.get("/register")
    assert response.status_code == 303
    assert response.headers["location"] == "/rooms"


# --- logging in: why an account cannot ---


@pytest.mark.parametrize(
    ("status", "message", "japanese"),
    [
        (
            UserStatus.PENDING,
            "Your registration is waiting for an administrator's approval.",
            "管理者の承認",
        ),
        (
            UserStatus.REJECTED,
            "Your registration was not approved. Contact an administrator.",
            "承認されませんでした",
        ),
        (
            UserStatus.DISABLED,
            "Your account has been disabled. Contact an administrator.",
            "無効",
        ),
    ],
)
async def test_the_login_page_says_why_only_after_the_right_password(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    status: UserStatus,
    message: str,
    japanese: str,
) -> None:
    user_id = await make_user(status=status)
    wrong = await client.post("/login", data={"user_id": user_id, "password": "not-the-password"})
    assert wrong.status_code == 401
    assert "The user ID or password is incorrect." in wrong.text
    assert message not in wrong.text
    right = await client.post("/login", data={"user_id": user_id, "password": DEFAULT_PASSWORD})
    assert right.status_code == 403
    assert message in _text(right.text).replace("&#39;", "'")
    assert 'role="alert"' in right.text
    assert SESSION_COOKIE not in client.cookies
    in_japanese = await client.post(
        "/login", data={"user_id": user_id, "password": DEFAULT_PASSWORD}, headers=JA
    )
    assert japanese in in_japanese.text


async def test_too_many_failed_logins_are_refused_with_the_retry_time(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    user_id = await make_user()
    for _ in range(5):
        failed = await client.post("/login", data={"user_id": user_id, "password": "wrong-guess-1"})
        assert failed.status_code == 401
    throttled = await client.post("/login", data={"user_id": user_id, "password": DEFAULT_PASSWORD})
    assert throttled.status_code == 429
    retry_after = int(throttled.headers["retry-after"])
    assert 0 < retry_after <= 15 * 60
    assert f"Too many failed logins. Try again in {retry_after} seconds." in throttled.text
    assert f'value="{user_id}"' in throttled.text
    assert SESSION_COOKIE not in client.cookies


# --- administrators: registrations ---


async def test_registration_pages_are_for_administrators_only(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await _log_in(client, await make_user())
    for path in ("/admin/registrations", "/admin/users"):
        assert (await client.get(path)).status_code == 403
    refused = await client.post("/admin/registrations/someone/approve", data={"csrf_token": ""})
    assert refused.status_code == 403
    nav = (await client.get("/rooms")).text
    assert 'href="/admin/registrations"' not in nav
    assert 'href="/account/sessions"' in nav
    assert 'href="/account/password"' in nav


async def test_an_admin_approves_a_registration_and_the_user_can_log_in(
    client: httpx.AsyncClient, make_user: UserFactory, another_browser: Browser
) -> None:
    async with another_browser() as applicant:
        assert (await applicant.post("/register", data=_registration())).status_code == 303
        await _log_in(client, await make_user("chief", role=Role.ADMIN))
        page = await client.get("/admin/registrations")
        text = _text(page.text)
        assert "Hanako Yamada" in text
        assert "hanako · hanako@example.com" in text
        for link in ("/admin/registrations", "/admin/users", "/admin/monitoring"):
            assert f'href="{link}"' in page.text
        approved = await client.post("/admin/registrations/hanako/approve", data={"csrf_token": ""})
        assert approved.status_code == 303
        assert approved.headers["location"] == "/admin/registrations?done=approved"
        after = await client.get(approved.headers["location"], headers=JA)
        assert "登録を承認しました。" in after.text
        assert "承認待ちの登録はありません。" in after.text
        twice = await client.post("/admin/registrations/hanako/approve", data={"csrf_token": ""})
        assert twice.status_code == 409
        assert "The registration of hanako has already been decided (ACTIVE)." in twice.text
        await _log_in(applicant, "hanako", GOOD_PASSWORD)


async def test_an_admin_rejects_with_a_reason_and_the_login_is_refused(
    client: httpx.AsyncClient, make_user: UserFactory, another_browser: Browser, app: Any
) -> None:
    async with another_browser() as applicant:
        await applicant.post("/register", data=_registration(user_id="taro", email="t@example.com"))
        await _log_in(client, await make_user("chief", role=Role.ADMIN))
        too_long = await client.post(
            "/admin/registrations/taro/reject", data={"reason": "x" * 501, "csrf_token": ""}
        )
        assert too_long.status_code == 422
        assert _field_error(too_long.text, "reason-taro") == "Enter at most 500 characters."
        assert 'value="' + "x" * 501 + '"' in too_long.text
        rejected = await client.post(
            "/admin/registrations/taro/reject",
            data={"reason": "Not an employee", "csrf_token": ""},
        )
        assert rejected.status_code == 303
        assert rejected.headers["location"] == "/admin/registrations?done=rejected"
        user = await users.get_user(app.state.db, user_id="taro")
        assert user is not None
        assert (user.status, user.decided_by, user.decision_reason) == (
            UserStatus.REJECTED,
            "chief",
            "Not an employee",
        )
        refused = await applicant.post(
            "/login", data={"user_id": "taro", "password": GOOD_PASSWORD}
        )
        assert refused.status_code == 403
        assert "Your registration was not approved." in refused.text
    unknown = await client.post("/admin/registrations/nobody/reject", data={"csrf_token": ""})
    assert unknown.status_code == 404
    assert "User nobody does not exist." in unknown.text


async def test_the_registrations_page_shows_the_mail_outbox(
    client: httpx.AsyncClient, make_user: UserFactory, app: Any, another_browser: Browser
) -> None:
    admin = await make_user("chief", role=Role.ADMIN)
    async with another_browser() as applicant:
        await applicant.post("/register", data=_registration())
    async with app.state.db.transaction() as session:
        row = OutboxMail(
            recipient="gone@example.com",
            subject="Your account has been approved",
            body="-",
            state=MailState.FAILED.value,
            attempts=8,
            created_at=system_clock(),
            next_attempt_at=system_clock(),
            last_error="550 mailbox unavailable",
        )
        session.add(row)
    await _log_in(client, admin)
    text = _text((await client.get("/admin/registrations")).text)
    # hanako's receipt and the notice to the one admin address, unsent (no SMTP here).
    assert "Waiting to be sent 2" in text
    assert "Failed 1" in text
    assert "gone@example.com Your account has been approved 8 550 mailbox unavailable" in text


# --- administrators: users ---


async def test_the_users_page_lists_status_and_role_and_disables_and_enables(
    client: httpx.AsyncClient, make_user: UserFactory, another_browser: Browser
) -> None:
    await make_user("waiting1", status=UserStatus.PENDING)
    async with another_browser() as worker_browser:
        worker = await make_user("worker1")
        await _log_in(worker_browser, worker)
        await _log_in(client, await make_user("chief", role=Role.ADMIN))
        page = await client.get("/admin/users", headers=JA)
        text = _text(page.text)
        assert "worker1 Worker1 Test worker1@example.com 一般ユーザー 有効" in text
        assert "chief Chief Test chief@example.com 管理者 有効" in text
        assert "waiting1 Waiting1 Test waiting1@example.com 一般ユーザー 承認待ち" in text
        assert 'action="/admin/users/chief/disable"' not in page.text  # not oneself

        disabled = await client.post("/admin/users/worker1/disable", data={"csrf_token": ""})
        assert disabled.status_code == 303
        assert disabled.headers["location"] == "/admin/users?done=disabled"
        # The worker's session ended at once.
        assert (await worker_browser.get("/rooms")).status_code == 303
        after = await client.get(disabled.headers["location"])
        assert "The user was disabled and logged out everywhere." in after.text
        assert 'action="/admin/users/worker1/enable"' in after.text
        again = await client.post("/admin/users/worker1/disable", data={"csrf_token": ""})
        assert again.status_code == 409
        assert "User worker1 is DISABLED; this action is not possible." in again.text

        enabled = await client.post("/admin/users/worker1/enable", data={"csrf_token": ""})
        assert enabled.headers["location"] == "/admin/users?done=enabled"
        await _log_in(worker_browser, worker)
        ended = await client.post("/admin/users/worker1/end-sessions", data={"csrf_token": ""})
        assert ended.headers["location"] == "/admin/users?done=user_sessions_ended&n=1"
        assert (
            "1 session(s) of the user ended." in (await client.get(ended.headers["location"])).text
        )
        assert (await worker_browser.get("/rooms")).status_code == 303

    self_disable = await client.post("/admin/users/chief/disable", data={"csrf_token": ""})
    assert self_disable.status_code == 409
    assert "You cannot do this to your own account." in self_disable.text
    unknown = await client.post("/admin/users/nobody/enable", data={"csrf_token": ""})
    assert unknown.status_code == 404


# --- everyone: password and sessions ---


async def test_changing_the_password_keeps_this_device_logged_in(
    client: httpx.AsyncClient, make_user: UserFactory, another_browser: Browser
) -> None:
    user_id = await make_user("mika")
    async with another_browser() as laptop:
        await _log_in(laptop, user_id)
        await _log_in(client, user_id)
        old_cookie = client.cookies[SESSION_COOKIE]
        form = await client.get("/account/password")
        assert 'data-user-id="mika"' in form.text
        assert 'data-email="mika@example.com"' in form.text
        response = await client.post(
            "/account/password",
            data={
                "current_password": DEFAULT_PASSWORD,
                "new_password": GOOD_PASSWORD,
                "new_password_confirm": GOOD_PASSWORD,
                "csrf_token": "",
            },
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/account/password?done=password_changed"
        assert client.cookies[SESSION_COOKIE] != old_cookie
        page = await client.get(response.headers["location"])
        assert page.status_code == 200
        assert "Your password was changed." in page.text
        # The other device and a copy of the old cookie are both logged out.
        assert (await laptop.get("/rooms")).status_code == 303
        async with another_browser() as thief:
            thief.cookies.set(SESSION_COOKIE, old_cookie)
            assert (await thief.get("/rooms")).status_code == 303
        client.cookies.clear()
        await _log_in(client, user_id, GOOD_PASSWORD)


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        (
            {"current_password": "not-my-password", "new_password": GOOD_PASSWORD},
            "current_password",
            "The current password is incorrect.",
        ),
        (
            {"current_password": DEFAULT_PASSWORD, "new_password": "tiny"},
            "new_password",
            "at least 12 characters",
        ),
        (
            {"current_password": DEFAULT_PASSWORD, "new_password": "my-name-is-mika-ok"},
            "new_password",
            "must not contain your user ID",
        ),
        (
            {"current_password": DEFAULT_PASSWORD, "new_password": "1qaz2wsx3edc"},
            "new_password",
            "too common",
        ),
        (
            {"current_password": "", "new_password": GOOD_PASSWORD},
            "current_password",
            "This field is too short.",
        ),
    ],
)
async def test_a_refused_password_change_says_why_at_the_field(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    form: dict[str, str],
    field: str,
    message: str,
) -> None:
    await _log_in(client, await make_user("mika"))
    cookie = client.cookies[SESSION_COOKIE]
    response = await client.post(
        "/account/password", data={**form, "new_password_confirm": form["new_password"]}
    )
    assert response.status_code == 422
    error = _field_error(response.text, field)
    assert error is not None, response.text
    assert message in error
    assert client.cookies[SESSION_COOKIE] == cookie
    assert (await client.get("/rooms")).status_code == 200  # still logged in


async def test_a_mistyped_confirmation_changes_nothing(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    user_id = await make_user()
    await _log_in(client, user_id)
    response = await client.post(
        "/account/password",
        data={
            "current_password": DEFAULT_PASSWORD,
            "new_password": GOOD_PASSWORD,
            "new_password_confirm": GOOD_PASSWORD + "x",
        },
    )
    assert response.status_code == 422
    assert _field_error(response.text, "new_password_confirm") == (
        "The two passwords do not match."
    )
    client.cookies.clear()
    await _log_in(client, user_id, DEFAULT_PASSWORD)


async def test_my_sessions_marks_this_device_and_ends_the_others(
    client: httpx.AsyncClient, make_user: UserFactory, another_browser: Browser
) -> None:
    user_id = await make_user()
    async with another_browser() as phone, another_browser() as tablet:
        await _log_in(phone, user_id)
        await _log_in(tablet, user_id)
        await _log_in(client, user_id)
        page = await client.get("/account/sessions")
        assert page.status_code == 200
        assert page.text.count('class="session current"') == 1
        assert page.text.count('class="session"') == 2
        assert "This device" in page.text
        ids = re.findall(r'action="/account/sessions/([^/"]+)/end"', page.text)
        assert len(ids) == 3
        current, other = ids[0], ids[1]  # this device is listed first

        ended = await client.post(f"/account/sessions/{other}/end", data={"csrf_token": ""})
        assert ended.status_code == 303
        assert ended.headers["location"] == "/account/sessions?done=session_ended"
        still_open = [(await c.get("/rooms")).status_code for c in (phone, tablet)]
        assert sorted(still_open) == [200, 303]
        gone = await client.post(f"/account/sessions/{other}/end", data={"csrf_token": ""})
        assert gone.status_code == 404
        assert "This session does not exist." in gone.text

        rest = await client.post("/account/sessions/end-others", data={"csrf_token": ""})
        assert rest.headers["location"] == "/account/sessions?done=sessions_ended&n=1"
        assert "1 other session(s) ended." in (await client.get(rest.headers["location"])).text
        assert [(await c.get("/rooms")).status_code for c in (phone, tablet)] == [303, 303]

        out = await client.post(f"/account/sessions/{current}/end", data={"csrf_token": ""})
        assert out.headers["location"] == "/login?done=logged_out"
        assert (await client.get("/rooms")).status_code == 303


async def test_account_pages_need_a_login(client: httpx.AsyncClient) -> None:
    for path in ("/account/password", "/account/sessions"):
        response = await client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")


# --- garbage never makes a server error ---

GARBAGE_FORMS: list[dict[str, Any]] = [
    {},
    {"user_id": "x" * 5000, "email": "😀" * 300, "password": "p" * 3000},
    {"user_id": "\x00\x01", "first_name": "\u202e", "last_name": "a\nb", "email": "@"},
    {"password": "", "password_confirm": "x", "current_password": "\x00", "new_password": ""},
    {"new_password": "n" * 1500, "new_password_confirm": "n" * 1500, "reason": "r" * 3000},
    {"reason": ["a", "b"], "user_id": ["a", "b"], "csrf_token": "<script>"},
    # PostgreSQL text cannot hold NUL: it must never reach a query as a value.
    {"user_id": "\x00abc", "reason": "why\x00not", "password": "pass\x00word-long-enough"},
]


@pytest.mark.parametrize("form", GARBAGE_FORMS)
async def test_no_account_form_input_makes_a_server_error(
    client: httpx.AsyncClient, make_user: UserFactory, form: dict[str, Any]
) -> None:
    registered = await client.post("/register", data=form, headers=HTML)
    assert registered.status_code < 500, registered.text[:500]
    await make_user("target1", status=UserStatus.PENDING)
    await _log_in(client, await make_user(role=Role.ADMIN))
    for path in [
        "/account/password",
        "/account/sessions/end-others",
        "/account/sessions/nope/end",
        "/account/sessions/" + "s" * 65 + "/end",
        "/admin/registrations/target1/reject",
        "/admin/registrations/%00/approve",
        "/admin/registrations/" + "u" * 65 + "/approve",
        "/admin/users/target1/disable",
        "/admin/users/target1/enable",
        "/admin/users/..%2F..%2Fetc/end-sessions",
    ]:
        response = await client.post(path, data=form, headers=HTML)
        assert response.status_code < 500, (path, response.text[:500])
    client.cookies.clear()
    login = await client.post("/login", data=form, headers=HTML)
    assert login.status_code < 500, login.text[:500]


async def test_sessions_name_the_device_not_the_raw_user_agent(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    agent = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36"
    )
    client.headers["user-agent"] = agent
    await _log_in(client, await make_user())
    page = await client.get("/account/sessions")
    assert "Chrome on Linux" in page.text
    assert "AppleWebKit" not in page.text
    japanese = await client.get("/account/sessions", headers={"accept-language": "ja"})
    assert "Chrome（Linux）" in japanese.text


async def test_pages_say_mail_is_queued_and_room_status_is_available_or_suspended(
    client: httpx.AsyncClient, make_user: UserFactory
) -> None:
    await _log_in(client, await make_user(role=Role.ADMIN))
    approved = await client.get("/admin/registrations?done=approved")
    assert "is queued" in approved.text
    assert "has been told by mail" not in approved.text
    created = await client.post("/admin/rooms", data={"room_name": "Tsubaki"})
    assert created.status_code == 303
    ja = {"accept-language": "ja"}
    rooms = await client.get("/admin/rooms", headers=ja)
    assert "利用可能" in rooms.text
    assert "使用中" not in rooms.text
    room = await client.get(created.headers["location"].split("?")[0], headers=ja)
    assert "使用中" not in room.text
