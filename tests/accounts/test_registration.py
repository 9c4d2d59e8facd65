"""Self-registration: every field rule, duplicates, approval and rejection by admins."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mrs.accounts.models import Role, User, UserSession, UserStatus
from mrs.notifications.models import OutboxMail
from tests.accounts.conftest import STRONG_PASSWORD, Register, SmtpServer, deliver
from tests.conftest import LoginFactory, UserFactory


def _field_errors(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {d["field"]: d["message"] for d in response.json()["error"]["details"]}


async def test_a_registration_creates_a_pending_user(register: Register, app: Any) -> None:
    response = await register("hanako")
    assert response.status_code == 201
    assert response.json() == {"user_id": "hanako", "status": "PENDING"}
    async with app.state.db.snapshot() as session:
        user = await session.get(User, "hanako")
    assert user is not None
    assert user.status == UserStatus.PENDING
    assert user.role_name == Role.USER
    assert user.password_hash.startswith("$argon2id$")
    assert STRONG_PASSWORD not in user.password_hash


async def test_argon2id_parameters_meet_owasp_minimum(register: Register, app: Any) -> None:
    await register("params")
    async with app.state.db.snapshot() as session:
        user = await session.get(User, "params")
    assert user is not None
    params = dict(part.split("=") for part in user.password_hash.split("$")[3].split(","))
    assert int(params["m"]) >= 19 * 1024
    assert int(params["t"]) >= 2


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("user_id", "ab", "The user ID must be 3 to 32 characters long."),
        ("user_id", "a" * 33, "The user ID must be 3 to 32 characters long."),
        (
            "user_id",
            "hana ko",
            "The user ID may contain only lower-case letters a-z, digits and . _ -",
        ),
        (
            "user_id",
            "hanako!",
            "The user ID may contain only lower-case letters a-z, digits and . _ -",
        ),
        ("user_id", "   ", "This field is required."),
        ("first_name", "   ", "This field is required."),
        ("last_name", "x" * 101, "Enter at most 100 characters."),
        ("first_name", "Ha\x00nako", "The name contains characters that are not allowed."),
        ("email", "not-an-email", "Enter a valid email address."),
        ("email", "hanako@", "Enter a valid email address."),
        ("password", "short-pass1", "The password must be at least 12 characters long."),
        ("password", "p" * 129, "The password must be at most 128 characters long."),
        ("password", "password1234", "This password is too common. Choose another one."),
        ("password", "QWERTYUIOP123", "This password is too common. Choose another one."),
        ("password", "my-hanako-secret", "The password must not contain your user ID."),
    ],
)
async def test_each_field_rule_has_a_field_level_message(
    register: Register, field: str, value: str, message: str
) -> None:
    fields = {"email": "hanako@example.com", field: value}
    user_id = fields.pop("user_id", "hanako")
    errors = _field_errors(await register(user_id, **fields))
    assert errors == {field: message}


async def test_password_containing_the_email_is_refused(register: Register) -> None:
    errors = _field_errors(
        await register("tanaka", email="sunflower@example.com", password="my sunflower is blue")
    )
    assert errors == {"password": "The password must not contain your email address."}


async def test_missing_fields_are_each_reported(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/users/register", json={})
    assert set(_field_errors(response)) == {
        "user_id",
        "first_name",
        "last_name",
        "email",
        "password",
    }
    assert set(_field_errors(response).values()) == {"This field is required."}


async def test_messages_are_translated_to_japanese(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/users/register",
        json={
            "user_id": "ab",
            "first_name": "A",
            "last_name": "B",
            "email": "x",
            "password": "short",
        },
        headers={"Accept-Language": "ja"},
    )
    errors = _field_errors(response)
    assert errors["user_id"] == "ユーザー ID は 3〜32 文字にしてください。"
    assert errors["email"] == "正しいメールアドレスを入力してください。"
    assert errors["password"] == "パスワードは 12 文字以上にしてください。"


async def test_long_passwords_are_accepted_and_never_truncated(
    register: Register, client: httpx.AsyncClient, app: Any, admin_headers: dict[str, str]
) -> None:
    password = "x" * 100 + "-tail-of-128-chars-ok-" + "y" * 6
    assert len(password) == 128
    assert (await register("longpw", password=password)).status_code == 201
    await client.post("/api/admin/approve-user/longpw", headers=admin_headers)
    truncated = await client.post(
        "/api/auth/login", json={"user_id": "longpw", "password": password[:72]}
    )
    assert truncated.status_code == 401
    full = await client.post("/api/auth/login", json={"user_id": "longpw", "password": password})
    assert full.status_code == 200


async def test_names_are_trimmed_and_ids_and_emails_lower_cased(
    register: Register, app: Any
) -> None:
    response = await register(
        "Hanako.Y", first_name="  Hanako ", last_name=" Yamada  ", email="Hanako.Y@Example.COM"
    )
    assert response.status_code == 201
    assert response.json()["user_id"] == "hanako.y"
    async with app.state.db.snapshot() as session:
        user = await session.get(User, "hanako.y")
    assert user is not None
    assert (user.first_name, user.last_name, user.email) == (
        "Hanako",
        "Yamada",
        "hanako.y@example.com",
    )


async def test_duplicate_user_ids_are_refused_even_in_another_case(register: Register) -> None:
    assert (await register("suzuki")).status_code == 201
    again = await register("SUZUKI", email="other@example.com")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "user_id_taken"


async def test_duplicate_emails_are_refused_even_in_another_case(register: Register) -> None:
    assert (await register("sato", email="sato@example.com")).status_code == 201
    again = await register("sato2", email="SATO@Example.com")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "email_taken"


async def test_extra_fields_are_refused(register: Register) -> None:
    response = await register("extra", role_name="ADMIN")
    assert _field_errors(response) == {"role_name": "This field is not allowed here."}


async def test_a_pending_user_cannot_log_in_and_gets_no_token(
    register: Register, client: httpx.AsyncClient, app: Any
) -> None:
    await register("waiting")
    wrong = await client.post(
        "/api/auth/login", json={"user_id": "waiting", "password": "wrong-password-123"}
    )
    assert wrong.status_code == 401  # not told it is pending without the right password
    right = await client.post(
        "/api/auth/login", json={"user_id": "waiting", "password": STRONG_PASSWORD}
    )
    assert right.status_code == 403
    assert right.json()["error"]["code"] == "account_pending"
    assert "access_token" not in right.text
    assert "set-cookie" not in right.headers
    async with app.state.db.snapshot() as session:
        sessions = await session.scalar(
            select(func.count()).where(UserSession.user_id == "waiting")
        )
    assert sessions == 0


async def test_admins_see_pending_users_and_approve_them(
    register: Register,
    client: httpx.AsyncClient,
    make_user: UserFactory,
    login: LoginFactory,
    smtp_server: SmtpServer,
    app: Any,
) -> None:
    admin = await make_user("boss", role=Role.ADMIN)
    admin_headers = await login(admin)
    await register("newbie")
    pending = await client.get("/api/admin/pending-users", headers=admin_headers)
    assert pending.status_code == 200
    assert [user["user_id"] for user in pending.json()] == ["newbie"]
    approved = await client.post("/api/admin/approve-user/newbie", headers=admin_headers)
    assert approved.status_code == 200
    body = approved.json()
    assert body["status"] == "ACTIVE"
    assert body["decided_by"] == "boss"
    assert body["decided_at"] is not None
    assert (await client.get("/api/admin/pending-users", headers=admin_headers)).json() == []
    login_response = await client.post(
        "/api/auth/login", json={"user_id": "newbie", "password": STRONG_PASSWORD}
    )
    assert login_response.status_code == 200
    await deliver(app)
    assert [m["Subject"] for m in smtp_server.to("newbie@example.com")] == [
        "We received your registration",
        "Your account has been approved",
    ]
    assert smtp_server.to("boss@example.com")[0]["Subject"].endswith(
        "New registration waiting for approval: newbie"
    )


async def test_rejection_with_a_reason_refuses_login_and_tells_the_user(
    register: Register,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    smtp_server: SmtpServer,
    app: Any,
) -> None:
    await register("outsider")
    rejected = await client.post(
        "/api/admin/reject-user/outsider",
        json={"reason": "Not an employee"},
        headers=admin_headers,
    )
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "REJECTED"
    assert rejected.json()["decision_reason"] == "Not an employee"
    refused = await client.post(
        "/api/auth/login", json={"user_id": "outsider", "password": STRONG_PASSWORD}
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "account_rejected"
    await deliver(app)
    last = smtp_server.to("outsider@example.com")[-1]
    assert last["Subject"] == "Your registration was not approved"
    assert "Not an employee" in last.get_content()


async def test_reject_without_a_body_works(
    register: Register, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await register("nobody1")
    response = await client.post("/api/admin/reject-user/nobody1", headers=admin_headers)
    assert response.status_code == 200
    assert response.json()["decision_reason"] is None


async def test_deciding_twice_is_a_conflict_and_unknown_users_are_not_found(
    register: Register, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await register("twice")
    assert (
        await client.post("/api/admin/approve-user/twice", headers=admin_headers)
    ).status_code == 200
    for path in ("/api/admin/approve-user/twice", "/api/admin/reject-user/twice"):
        again = await client.post(path, headers=admin_headers)
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "already_decided"
    for path in ("/api/admin/approve-user/ghost", "/api/admin/reject-user/ghost"):
        missing = await client.post(path, headers=admin_headers)
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "user_not_found"


async def test_only_admins_may_decide(
    register: Register, client: httpx.AsyncClient, user_headers: dict[str, str]
) -> None:
    await register("hopeful")
    for method, path in [
        ("GET", "/api/admin/pending-users"),
        ("POST", "/api/admin/approve-user/hopeful"),
        ("POST", "/api/admin/reject-user/hopeful"),
    ]:
        assert (await client.request(method, path, headers=user_headers)).status_code == 403
        assert (await client.request(method, path)).status_code == 401


async def test_registration_is_logged_and_the_success_rate_is_readable(
    register: Register, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await register("good1")
    await register("good2")
    await register("good3")
    await register("x")  # invalid
    await register("good1")  # duplicate
    await client.post("/api/admin/approve-user/good1", headers=admin_headers)
    await client.post("/api/admin/reject-user/good2", headers=admin_headers)
    stats = (await client.get("/api/admin/account-stats", headers=admin_headers)).json()
    assert stats["registrations_submitted"] == 3
    assert stats["registrations_invalid"] == 1
    assert stats["registrations_duplicate"] == 1
    assert stats["registration_success_rate"] == 0.6
    assert stats["registrations_approved"] == 1
    assert stats["registrations_rejected"] == 1
    assert stats["registrations_pending"] == 1


async def test_a_registration_queues_mail_in_its_own_transaction(
    register: Register, app: Any, make_user: UserFactory
) -> None:
    await make_user("chief", role=Role.ADMIN)
    await register("queued")
    async with app.state.db.snapshot() as session:
        recipients = sorted((await session.scalars(select(OutboxMail.recipient))).all())
    assert recipients == ["chief@example.com", "queued@example.com"]
