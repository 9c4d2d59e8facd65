"""The authorization matrix, over every operation of the live API's OpenAPI document.

Anonymous callers get 401 everywhere but the public operations; a USER gets 403 on every
admin operation; an ADMIN passes every check; cancelling is for the owner or an ADMIN.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from mrs.accounts.models import Role
from tests.security.conftest import LiveServer

pytestmark = pytest.mark.slow

# Operations anyone may call (the rest of the API needs a login). Operations that other
# parts of MRS add are public only when listed here.
PUBLIC = {
    ("POST", "/api/auth/login"),
    ("GET", "/api/auth/csrf-token"),
    ("POST", "/api/users/register"),
    # Password reset by mail: ask for a link (same answer for any account), then use it
    # (the mailed token is the credential).
    ("POST", "/api/auth/password-reset"),
    ("POST", "/api/auth/password-reset/confirm"),
    # Health probes for load balancers (details only for admins).
    ("GET", "/health"),
    ("GET", "/health/liveness"),
    ("GET", "/health/readiness"),
    # Calendar feeds: the secret token in the path is the credential (404 without one).
    ("GET", "/calendar/{token}.ics"),
    ("GET", "/calendar/{token}/rooms/{room_id}.ics"),
}
ADMIN_PREFIX = "/api/admin/"
# Operations that must be among the admin-only ones (so a moved route is noticed).
ADMIN_ONLY = {
    ("POST", "/api/admin/users/{user_id}/password-reset"),
    ("GET", "/api/admin/groups"),
    ("POST", "/api/admin/groups"),
    ("GET", "/api/admin/groups/{group_id}"),
    ("PATCH", "/api/admin/groups/{group_id}"),
    ("DELETE", "/api/admin/groups/{group_id}"),
    ("PUT", "/api/admin/groups/{group_id}/members"),
    ("GET", "/api/admin/reports/utilisation"),
    ("GET", "/api/admin/reports/busiest-hours"),
    ("GET", "/api/admin/reports/groups"),
    ("GET", "/api/admin/audit"),
}
# Admin operations a room's managers may also call: a user who manages no room is refused
# with the reason (403 `not_an_approver`), not the plain `forbidden`.
FOR_ROOM_MANAGERS = {
    ("GET", "/api/admin/pending-reservations"),
    ("POST", "/api/admin/pending-reservations/{reservation_id}/approve"),
    ("POST", "/api/admin/pending-reservations/{reservation_id}/reject"),
}


def _operations(server: LiveServer) -> list[tuple[str, str]]:
    with server.client() as http:
        spec = http.get("/api/openapi.json").json()
    return sorted(
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    )


def _concrete(path: str) -> str:
    # Any well-formed id: authorization is decided before the id is looked up.
    return re.sub(r"\{[^}]+\}", "1", path)


def _call(server: LiveServer, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    with server.client() as http:
        body: Any = {} if method in {"POST", "PUT", "PATCH"} else None
        return http.request(method, _concrete(path), json=body, headers=headers)


@pytest.fixture(scope="module")
def operations(live_server: LiveServer) -> list[tuple[str, str]]:
    found = _operations(live_server)
    assert len(found) >= 14
    return found


def test_anonymous_callers_get_401_on_every_non_public_operation(
    live_server: LiveServer, operations: list[tuple[str, str]]
) -> None:
    wrong = {}
    for method, path in operations:
        if (method, path) in PUBLIC:
            continue
        response = _call(live_server, method, path, {})
        if response.status_code != 401:
            wrong[f"{method} {path}"] = response.status_code
    assert wrong == {}


def test_users_get_403_on_every_admin_operation(
    live_server: LiveServer, operations: list[tuple[str, str]]
) -> None:
    headers = live_server.bearer(live_server.make_user())
    admin_operations = [(m, p) for m, p in operations if p.startswith(ADMIN_PREFIX)]
    assert len(admin_operations) >= 6
    assert set(admin_operations) >= ADMIN_ONLY | FOR_ROOM_MANAGERS
    wrong = {}
    for method, path in admin_operations:
        response = _call(live_server, method, path, headers)
        if response.status_code != 403:
            wrong[f"{method} {path}"] = response.status_code
        else:
            expected = "not_an_approver" if (method, path) in FOR_ROOM_MANAGERS else "forbidden"
            assert response.json()["error"]["code"] == expected, f"{method} {path}"
    assert wrong == {}


def test_admins_pass_authorization_on_every_operation(
    live_server: LiveServer, operations: list[tuple[str, str]]
) -> None:
    headers = live_server.bearer(live_server.make_user(Role.ADMIN))
    refused = {}
    for method, path in operations:
        if (method, path) == ("POST", "/api/auth/logout"):
            continue  # would end this admin's session; covered by the JWT tests
        response = _call(live_server, method, path, headers)
        if response.status_code in (401, 403):
            refused[f"{method} {path}"] = response.status_code
    assert refused == {}


def test_admins_can_really_manage_rooms(live_server: LiveServer) -> None:
    headers = live_server.bearer(live_server.make_user(Role.ADMIN))
    today = live_server.tomorrow().isoformat()
    with live_server.client(headers=headers) as http:
        created = http.post("/api/admin/rooms", json={"room_name": live_server.unique("Matrix ")})
        assert created.status_code == 201
        room_id = created.json()["room_id"]
        assert http.patch(f"/api/admin/rooms/{room_id}", json={"capacity": 8}).status_code == 200
        opening = {"from_date": today, "to_date": today}
        assert http.post(f"/api/admin/rooms/{room_id}/open", json=opening).status_code == 200
        assert http.post(f"/api/admin/rooms/{room_id}/close", json=opening).status_code == 200
        assert http.get("/api/admin/rooms").status_code == 200
        assert http.get("/api/admin/users").status_code == 200


def _reserve(server: LiveServer, headers: dict[str, str], room_id: int, start: str) -> int:
    body = {"date": server.tomorrow().isoformat(), "start_time": start, "end_time": "23:30"}
    with server.client() as http:
        response = http.post(f"/api/rooms/{room_id}/reservations", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return int(response.json()["reservation_id"])


def _cancel(server: LiveServer, headers: dict[str, str], reservation_id: int) -> httpx.Response:
    with server.client() as http:
        return http.delete(f"/api/reservations/{reservation_id}", headers=headers)


def test_cancelling_is_for_the_owner_or_an_admin(live_server: LiveServer) -> None:
    owner = live_server.bearer(live_server.make_user())
    other = live_server.bearer(live_server.make_user())
    admin = live_server.bearer(live_server.make_user(Role.ADMIN))
    first = _reserve(live_server, owner, live_server.make_room(), "09:00")
    second = _reserve(live_server, owner, live_server.make_room(), "09:00")

    refused = _cancel(live_server, other, first)
    assert refused.status_code == 403
    assert _cancel(live_server, {}, first).status_code == 401
    assert _cancel(live_server, owner, first).status_code == 204
    assert _cancel(live_server, admin, second).status_code == 204
