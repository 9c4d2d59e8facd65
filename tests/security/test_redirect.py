"""Plain HTTP answers every request with a 308 to the same path and query on HTTPS."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest

from mrs.security.redirect import https_location
from tests.security.conftest import LiveServer

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE", "HEAD"])
@pytest.mark.parametrize(
    "target", ["/", "/api/rooms?date=2030-01-07", "/a%20b/c?x=1&y=%C3%A9", "/api/docs"]
)
def test_http_redirects_with_308_to_the_same_url_on_https(
    live_server: LiveServer, method: str, target: str
) -> None:
    https_port = urlsplit(live_server.https_url).port
    response = httpx.request(method, f"{live_server.http_url}{target}", follow_redirects=False)
    assert response.status_code == 308
    assert response.headers["location"] == f"https://127.0.0.1:{https_port}{target}"


def test_following_the_redirect_reaches_the_app_over_tls(live_server: LiveServer) -> None:
    with httpx.Client(verify=live_server.ssl_context(), follow_redirects=True) as http:
        response = http.get(f"{live_server.http_url}/api/openapi.json")
    assert response.status_code == 200
    assert str(response.url).startswith(live_server.https_url)
    assert response.json()["openapi"].startswith("3.")


def test_the_redirect_carries_security_headers_but_no_hsts_over_http(
    live_server: LiveServer,
) -> None:
    response = httpx.get(f"{live_server.http_url}/x", follow_redirects=False)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "strict-transport-security" not in response.headers  # meaningless over HTTP
    assert "server" not in response.headers


def test_a_malformed_host_header_falls_back_to_the_configured_host() -> None:
    assert (
        https_location("evil.example/path", "/x", "", https_port=8443, fallback_host="mrs.local")
        == "https://mrs.local:8443/x"
    )
    assert https_location("mrs.local:8080", "/", "a=1", https_port=443, fallback_host="x") == (
        "https://mrs.local/?a=1"
    )
    assert https_location("[::1]:8080", "/p", "", https_port=8443, fallback_host="x") == (
        "https://[::1]:8443/p"
    )
