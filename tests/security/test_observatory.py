"""The live headers score A+ (at least 100, no penalty) by the HTTP Observatory's rules."""

from __future__ import annotations

import httpx
import pytest

from tests.security.conftest import PASSWORD, LiveServer
from tests.security.observatory import Grade, grade_csp, grade_frame_options, scan

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("path", ["/", "/api/docs", "/api/openapi.json"])
def test_the_site_scores_a_plus_with_no_penalty(live_server: LiveServer, path: str) -> None:
    user_id = live_server.make_user()
    with httpx.Client(verify=live_server.ssl_context(), timeout=30.0) as http:
        login = http.post(
            f"{live_server.https_url}/api/auth/login",
            json={"user_id": user_id, "password": PASSWORD},
        )
        csrf = http.get(f"{live_server.https_url}/api/auth/csrf-token")
        grade = scan(live_server.http_url, path, http, [login, csrf])
    assert grade.penalties == {}
    assert grade.score >= 100, grade.results
    assert grade.letter == "A+"
    assert grade.results["cookies"][0] == "cookies-secure-with-httponly-sessions-and-samesite"
    assert grade.results["redirection"][0] == "redirection-to-https"
    assert grade.results["strict-transport-security"][1] == 0


def test_the_grader_itself_punishes_a_weak_policy() -> None:
    """The grader is not a rubber stamp: a lax policy loses points."""
    weak = httpx.Response(
        200,
        headers={"content-security-policy": "default-src 'self' 'unsafe-inline'"},
        request=httpx.Request("GET", "https://example.test/"),
    )
    grade = Grade()
    grade_csp(grade, weak)
    grade_frame_options(grade, weak)
    assert grade.results["content-security-policy"][1] == -20
    assert grade.results["x-frame-options"][1] == -20
    assert grade.score < 90
