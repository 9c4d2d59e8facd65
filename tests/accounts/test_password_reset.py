"""Password reset by mail (API and service), on SQLite and PostgreSQL: single use, expiry,
a newer link ending the older, no account enumeration, throttling, sessions ended, the
mail in the user's language, and the administrator's reset mail."""

from __future__ import annotations

import asyncio
import re
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mrs.accounts import password_reset, users
from mrs.accounts.errors import ResetTokenExpired, ResetTokenInvalid, ResetTokenUsed
from mrs.accounts.models import PasswordResetRequest, PasswordResetToken, Role, UserStatus
from mrs.audit.models import AuditEntry
from mrs.clock import FixedClock
from mrs.notifications.models import OutboxMail
from tests.accounts.conftest import SmtpServer, deliver
from tests.conftest import DEFAULT_PASSWORD, LoginFactory, UserFactory

pytestmark = pytest.mark.both_databases

NEW_PASSWORD = "copper-meadow-kettle-42"
_LINK = re.compile(r"http://testserver/password/reset\?token=([A-Za-z0-9_-]{43})")


async def _mails(app: Any, address: str) -> list[OutboxMail]:
    async with app.state.db.snapshot() as session:
        rows = await session.scalars(
            select(OutboxMail).where(OutboxMail.recipient == address).order_by(OutboxMail.mail_id)
        )
        return list(rows.all())


async def _mailed_token(app: Any, address: str) -> str:
    """The token of the newest reset link mailed to `address`."""
    mails = await _mails(app, address)
    assert mails, f"no mail to {address}"
    match = _LINK.search(mails[-1].body)
    assert match is not None, mails[-1].body
    return match.group(1)


async def _ask(client: httpx.AsyncClient, account: str) -> httpx.Response:
    return await client.post("/api/auth/password-reset", json={"email": account})


async def _confirm(
    client: httpx.AsyncClient, token: str, password: str = NEW_PASSWORD
) -> httpx.Response:
    return await client.post(
        "/api/auth/password-reset/confirm", json={"token": token, "new_password": password}
    )


async def _audit_actions(app: Any, user_id: str) -> list[tuple[str, str | None, str]]:
    async with app.state.db.snapshot() as session:
        rows = await session.execute(
            select(AuditEntry.action, AuditEntry.actor_id, AuditEntry.after)
            .where(AuditEntry.subject_id == user_id)
            .order_by(AuditEntry.audit_id)
        )
        return [(r.action, r.actor_id, str(r.after)) for r in rows]


# --- the token ---------------------------------------------------------------------------


async def test_a_mailed_link_sets_the_password_once(
    client: httpx.AsyncClient, app: Any, make_user: UserFactory
) -> None:
    await make_user("kenta")
    assert (await _ask(client, "kenta@example.com")).status_code == 202
    token = await _mailed_token(app, "kenta@example.com")
    async with app.state.db.snapshot() as session:
        stored = list((await session.scalars(select(PasswordResetToken.token_hash))).all())
    assert stored == [password_reset.hash_token(token)]  # the hash only, never the secret
    assert token not in stored[0]

    assert (await _confirm(client, token)).status_code == 204
    old = await client.post(
        "/api/auth/login", json={"user_id": "kenta", "password": DEFAULT_PASSWORD}
    )
    assert old.status_code == 401
    new = await client.post("/api/auth/login", json={"user_id": "kenta", "password": NEW_PASSWORD})
    assert new.status_code == 200

    again = await _confirm(client, token, "another-fine-password-9")
    assert again.status_code == 410
    assert again.json()["error"]["code"] == "reset_token_used"
    # The audit names the reset, never the token.
    actions = await _audit_actions(app, "kenta")
    assert ("user.password_reset", "kenta") in [(a, actor) for a, actor, _ in actions]
    assert all(token not in after for _, _, after in actions)


async def test_a_user_id_works_as_well_as_the_email(
    client: httpx.AsyncClient, app: Any, make_user: UserFactory
) -> None:
    await make_user("yui")
    assert (await _ask(client, "YUI")).status_code == 202
    assert (await _confirm(client, await _mailed_token(app, "yui@example.com"))).status_code == 204


async def test_a_blank_account_is_a_clear_422(client: httpx.AsyncClient) -> None:
    response = await _ask(client, "   ")
    assert response.status_code == 422
    assert response.json()["error"]["message"] == "Enter your email address or user ID."


@pytest.mark.parametrize(
    "account", ["' OR '1'='1", "1' AND pg_sleep(5) --", "x" * 300 + "@example.com", "a@"]
)
async def test_what_cannot_be_an_account_is_a_clear_422(
    client: httpx.AsyncClient, app: Any, account: str
) -> None:
    response = await _ask(client, account)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["message"] == "Enter a valid email address or user ID."
    async with app.state.db.snapshot() as session:
        assert await session.scalar(select(func.count()).select_from(PasswordResetRequest)) == 0


async def test_the_link_expires_at_the_edge(
    client: httpx.AsyncClient, app: Any, make_user: UserFactory, auth_clock: FixedClock
) -> None:
    assert app.state.settings.password_reset_minutes == 30
    await make_user("late")
    await _ask(client, "late@example.com")
    token = await _mailed_token(app, "late@example.com")
    issued = auth_clock.now
    auth_clock.now = issued + timedelta(minutes=30)  # the expiry instant: no longer valid
    expired = await _confirm(client, token)
    assert expired.status_code == 410
    assert expired.json()["error"]["code"] == "reset_token_expired"
    auth_clock.now = issued + timedelta(minutes=30) - timedelta(microseconds=1)
    assert (await _confirm(client, token)).status_code == 204


async def test_a_newer_link_ends_the_older(
    client: httpx.AsyncClient, app: Any, make_user: UserFactory
) -> None:
    await make_user("twice")
    await _ask(client, "twice@example.com")
    older = await _mailed_token(app, "twice@example.com")
    await _ask(client, "twice@example.com")
    newer = await _mailed_token(app, "twice@example.com")
    assert older != newer
    refused = await _confirm(client, older)
    assert refused.status_code == 410
    assert refused.json()["error"]["code"] == "reset_token_used"
    assert (await _confirm(client, newer)).status_code == 204


@pytest.mark.parametrize("token", ["", "x" * 43, "not a token", "a" * 200])
async def test_unknown_or_malformed_tokens_are_a_clear_400(
    client: httpx.AsyncClient, token: str
) -> None:
    response = await _confirm(client, token)
    if token == "":
        assert response.status_code == 422  # refused by the schema
        return
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "reset_token_invalid"
    assert "not valid" in error["message"]


async def test_the_new_password_follows_the_rules(
    client: httpx.AsyncClient, app: Any, make_user: UserFactory
) -> None:
    await make_user("rules")
    await _ask(client, "rules@example.com")
    token = await _mailed_token(app, "rules@example.com")
    short = await _confirm(client, token, "short")
    assert short.status_code == 422
    with_id = await _confirm(client, token, "my-name-is-rules-ok")
    assert with_id.status_code == 422
    # A refused password leaves the link usable.
    assert (await _confirm(client, token)).status_code == 204


async def test_two_uses_at_once_only_one_succeeds(
    client: httpx.AsyncClient, app: Any, make_user: UserFactory
) -> None:
    await make_user("racer")
    await _ask(client, "racer@example.com")
    token = await _mailed_token(app, "racer@example.com")
    answers = await asyncio.gather(
        *(_confirm(client, token, f"racing-password-number-{n}") for n in range(4))
    )
    assert sorted(a.status_code for a in answers) == [204, 410, 410, 410]


# --- sessions ----------------------------------------------------------------------------


async def test_a_reset_ends_every_session(
    client: httpx.AsyncClient, app: Any, make_user: UserFactory, login: LoginFactory
) -> None:
    await make_user("busy")
    phone = await login("busy")
    laptop = await login("busy")
    assert (await client.get("/api/me", headers=phone)).status_code == 200
    await _ask(client, "busy@example.com")
    assert (await _confirm(client, await _mailed_token(app, "busy@example.com"))).status_code == 204
    assert (await client.get("/api/me", headers=phone)).status_code == 401
    assert (await client.get("/api/me", headers=laptop)).status_code == 401
    actions = await _audit_actions(app, "busy")
    reset = [after for action, _, after in actions if action == "user.password_reset"]
    assert len(reset) == 1
    assert '"sessions_ended": 2' in reset[0]


# --- no enumeration ----------------------------------------------------------------------


async def test_the_same_answer_whether_or_not_the_account_exists(
    client: httpx.AsyncClient, app: Any, make_user: UserFactory
) -> None:
    await make_user("real")
    await make_user("sleeper", status=UserStatus.DISABLED)
    answers = [
        await _ask(client, account)
        for account in ("real@example.com", "ghost@example.com", "sleeper@example.com")
    ]
    assert {a.status_code for a in answers} == {202}
    assert len({a.text for a in answers}) == 1
    assert len({tuple(sorted(a.headers.keys())) for a in answers}) == 1
    # Only the active account gets a mail.
    assert len(await _mails(app, "real@example.com")) == 1
    assert await _mails(app, "ghost@example.com") == []
    assert await _mails(app, "sleeper@example.com") == []


async def test_asking_takes_about_as_long_for_an_unknown_account(
    client: httpx.AsyncClient, app: Any, make_user: UserFactory
) -> None:
    """Medians of a bounded number of requests each way: within a generous factor (the
    existing path writes a token, a mail and an audit row; both hash a token and look up)."""
    app.state.settings.password_reset_max_per_address = 1000
    app.state.settings.password_reset_max_per_account = 1000
    await make_user("timed")
    rounds = 12

    async def timed(account: str) -> float:
        start = time.perf_counter()
        assert (await _ask(client, account)).status_code == 202
        return time.perf_counter() - start

    known: list[float] = []
    unknown: list[float] = []
    for _ in range(rounds):  # interleaved, so drift hits both alike
        known.append(await timed("timed@example.com"))
        unknown.append(await timed("nobody-here@example.com"))
    slow, fast = sorted([statistics.median(known), statistics.median(unknown)], reverse=True)
    assert slow < fast * 4, (known, unknown)


# --- throttling --------------------------------------------------------------------------


async def test_asking_is_throttled_per_account_whether_or_not_it_exists(
    client: httpx.AsyncClient, app: Any, make_user: UserFactory, auth_clock: FixedClock
) -> None:
    limit = app.state.settings.password_reset_max_per_account
    assert limit == 3
    await make_user("popular")
    for account in ("popular@example.com", "unknown@example.com"):
        codes = [(await _ask(client, account)).status_code for _ in range(limit + 1)]
        assert codes == [202] * limit + [429]
    refused = await _ask(client, "popular@example.com")
    assert refused.json()["error"]["code"] == "password_reset_throttled"
    assert 0 < int(refused.headers["Retry-After"]) <= 60 * 60
    assert len(await _mails(app, "popular@example.com")) == limit
    auth_clock.now += timedelta(minutes=61)
    assert (await _ask(client, "popular@example.com")).status_code == 202


async def test_asking_is_throttled_per_address(app: Any) -> None:
    app.state.settings.password_reset_max_per_address = 4
    transport = httpx.ASGITransport(app=app, client=("203.0.113.5", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        codes = [(await _ask(http, f"person{n}@example.com")).status_code for n in range(6)]
    assert codes == [202] * 4 + [429, 429]


@asynccontextmanager
async def _client_from(app: Any, address: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_parallel_requests_never_pass_the_limit(
    app: Any, make_user: UserFactory, database_url: str
) -> None:
    """Parallel requests queue on the throttle key's row lock: never more admitted than
    the limit (the point of the test on PostgreSQL, where they really run at once)."""
    await make_user("flooded")
    limit = app.state.settings.password_reset_max_per_account
    async with _client_from(app, "198.51.100.40") as http:
        answers = await asyncio.gather(*(_ask(http, "flooded@example.com") for _ in range(20)))
    codes = [a.status_code for a in answers]
    assert codes.count(202) == limit, codes
    assert codes.count(429) == 20 - limit
    async with app.state.db.snapshot() as session:
        counted = await session.scalar(select(func.count()).select_from(PasswordResetRequest))
    assert counted == limit
    assert len(await _mails(app, "flooded@example.com")) == limit


# --- the mail ----------------------------------------------------------------------------


async def test_the_mail_is_in_the_users_language(
    client: httpx.AsyncClient, app: Any, smtp_server: SmtpServer, auth_clock: FixedClock
) -> None:
    for user_id, locale in (("sakura", "ja"), ("emma", "en")):
        await users.create_user(
            app.state.db,
            user_id=user_id,
            password=DEFAULT_PASSWORD,
            email=f"{user_id}@example.com",
            first_name=user_id.capitalize(),
            last_name="Test",
            now=auth_clock(),
            locale=locale,
        )
        await _ask(client, f"{user_id}@example.com")
    await deliver(app)
    ja = smtp_server.to("sakura@example.com")[0]
    en = smtp_server.to("emma@example.com")[0]
    assert ja["Subject"] == "MRS のパスワード再設定"
    assert "30 分以内" in ja.get_content()
    assert en["Subject"] == "Reset your MRS password"
    assert "within 30 minutes" in en.get_content()
    for message in (ja, en):
        match = _LINK.search(message.get_content())
        assert match is not None
        # The mailed link works.
        assert (await _confirm(client, match.group(1))).status_code == 204


async def test_the_link_uses_the_public_url_when_set(
    client: httpx.AsyncClient, app: Any, make_user: UserFactory
) -> None:
    app.state.settings.public_url = "https://rooms.example.com"
    await make_user("proxied")
    await _ask(client, "proxied@example.com")
    (mail,) = await _mails(app, "proxied@example.com")
    assert "https://rooms.example.com/password/reset?token=" in mail.body


# --- the administrator's reset mail -----------------------------------------------------


async def test_an_admin_sends_the_reset_mail(
    client: httpx.AsyncClient, app: Any, make_user: UserFactory, admin_headers: dict[str, str]
) -> None:
    await make_user("forgetful")
    response = await client.post("/api/admin/users/forgetful/password-reset", headers=admin_headers)
    assert response.status_code == 202
    token = await _mailed_token(app, "forgetful@example.com")
    actions = await _audit_actions(app, "forgetful")
    assert [a for a, _, _ in actions] == ["user.password_reset_sent"]
    assert actions[0][1] is not None
    assert actions[0][1].startswith("user")
    assert (await _confirm(client, token)).status_code == 204


async def test_only_admins_send_reset_mails(
    client: httpx.AsyncClient, app: Any, make_user: UserFactory, user_headers: dict[str, str]
) -> None:
    await make_user("victim")
    refused = await client.post("/api/admin/users/victim/password-reset", headers=user_headers)
    assert refused.status_code == 403
    anonymous = await client.post("/api/admin/users/victim/password-reset")
    assert anonymous.status_code == 401
    assert await _mails(app, "victim@example.com") == []


async def test_an_admin_reset_of_an_unknown_or_inactive_user_is_refused(
    client: httpx.AsyncClient, make_user: UserFactory, admin_headers: dict[str, str]
) -> None:
    await make_user("gone", status=UserStatus.DISABLED)
    missing = await client.post("/api/admin/users/nobody/password-reset", headers=admin_headers)
    assert missing.status_code == 404
    disabled = await client.post("/api/admin/users/gone/password-reset", headers=admin_headers)
    assert disabled.status_code == 409


# --- the service directly ----------------------------------------------------------------


async def test_the_service_refuses_with_the_right_errors(
    app: Any, make_user: UserFactory, auth_clock: FixedClock
) -> None:
    await make_user("direct", role=Role.USER)
    db = app.state.db
    with pytest.raises(ResetTokenInvalid):
        await password_reset.check_token(db, token="?", now=auth_clock())
    await password_reset.send_reset(
        db,
        app.state.settings,
        user_id="direct",
        admin_id="someone",
        base_url="http://testserver",
        now=auth_clock(),
    )
    token = await _mailed_token(app, "direct@example.com")
    await password_reset.check_token(db, token=token, now=auth_clock())
    with pytest.raises(ResetTokenExpired):
        await password_reset.check_token(db, token=token, now=auth_clock() + timedelta(hours=1))
    await password_reset.reset_password(
        db, token=token, new_password=NEW_PASSWORD, now=auth_clock()
    )
    with pytest.raises(ResetTokenUsed):
        await password_reset.check_token(db, token=token, now=auth_clock())


async def test_old_requests_and_links_are_pruned(
    client: httpx.AsyncClient, app: Any, make_user: UserFactory, auth_clock: FixedClock
) -> None:
    await make_user("oldtimer")
    await _ask(client, "oldtimer@example.com")
    db, settings = app.state.db, app.state.settings

    async def counts() -> tuple[int, int]:
        async with db.snapshot() as session:
            requests = await session.scalar(select(func.count()).select_from(PasswordResetRequest))
            tokens = await session.scalar(select(func.count()).select_from(PasswordResetToken))
        return int(requests or 0), int(tokens or 0)

    await password_reset.prune_history(db, settings, now=auth_clock() + timedelta(days=1))
    assert await counts() == (1, 1)
    later = auth_clock() + timedelta(days=settings.login_history_days, hours=1)
    await password_reset.prune_history(db, settings, now=later)
    assert await counts() == (0, 0)
