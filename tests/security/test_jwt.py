"""JWT tampering: only tokens we signed, unexpired, for us, with a known key, get in."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest

from mrs.accounts.tokens import key_id
from tests.security.conftest import PREVIOUS_KEY, SECRET_KEY, LiveServer

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:The HMAC key is")]

OTHER_KEY = "someone-elses-key-that-we-never-configured-0123456789"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _me(server: LiveServer, token: str) -> httpx.Response:
    with server.client() as http:
        return http.get("/api/me", headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def real_token(live_server: LiveServer) -> str:
    return live_server.token(live_server.make_user())


def _claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def _sign(claims: dict[str, Any], key: str = SECRET_KEY, **header: Any) -> str:
    return jwt.encode(claims, key, algorithm="HS256", headers={"kid": key_id(key), **header})


def test_a_real_token_and_a_faithful_re_signing_are_accepted(
    live_server: LiveServer, real_token: str
) -> None:
    assert _me(live_server, real_token).status_code == 200
    header = jwt.get_unverified_header(real_token)
    assert header["alg"] == "HS256"
    assert header["kid"] == key_id(SECRET_KEY)
    # Control: our own re-signing of the same claims is valid, so the refusals below are
    # caused by the tampering alone.
    assert _me(live_server, _sign(_claims(real_token))).status_code == 200


def _alg_none(token: str) -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(token))}."


def _altered_signature(token: str) -> str:
    head, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return f"{head}.{payload}.{flipped}"


def _altered_payload(token: str) -> str:
    head, _payload, signature = token.split(".")
    return f"{head}.{_b64({**_claims(token), 'sub': 'admin'})}.{signature}"


def _shifted(**changes: Any) -> Callable[[str], str]:
    def make(token: str) -> str:
        claims = _claims(token)
        now = int(time.time())
        for name, value in changes.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = now + value if isinstance(value, int) else value
        return _sign(claims)

    return make


TAMPERED: dict[str, Callable[[str], str]] = {
    "alg none": _alg_none,
    "altered signature": _altered_signature,
    "altered payload": _altered_payload,
    "signed with another key, our kid": lambda t: jwt.encode(
        _claims(t), OTHER_KEY, algorithm="HS256", headers={"kid": key_id(SECRET_KEY)}
    ),
    "signed with another key, its own kid": lambda t: _sign(_claims(t), OTHER_KEY),
    "signed with another key, no kid": lambda t: jwt.encode(_claims(t), OTHER_KEY, "HS256"),
    "unknown kid": lambda t: _sign(_claims(t), kid="0000000000000000"),
    "HS512 with our key": lambda t: jwt.encode(
        _claims(t), SECRET_KEY, algorithm="HS512", headers={"kid": key_id(SECRET_KEY)}
    ),
    "expired": _shifted(exp=-60, iat=-3600, nbf=-3600),
    "not yet valid": _shifted(nbf=+3600),
    "no exp": _shifted(exp=None),
    "no nbf": _shifted(nbf=None),
    "no iat": _shifted(iat=None),
    "wrong audience": _shifted(aud="another-service"),
    "wrong issuer": _shifted(iss="https://evil.example"),
    "no subject": _shifted(sub=None),
    "oversized": lambda t: t + "A" * 5000,
    "not a JWT": lambda _t: "not.a.jwt",
}


@pytest.mark.parametrize("case", sorted(TAMPERED))
def test_tampered_tokens_are_refused_with_401(
    live_server: LiveServer, real_token: str, case: str
) -> None:
    response = _me(live_server, TAMPERED[case](real_token))
    assert response.status_code == 401, case
    assert response.json()["error"]["code"] in ("invalid_token", "unauthenticated")


def test_a_revoked_token_is_refused(live_server: LiveServer, real_token: str) -> None:
    with live_server.client() as http:
        logout = http.post("/api/auth/logout", headers={"Authorization": f"Bearer {real_token}"})
    assert logout.status_code == 204
    assert _me(live_server, real_token).status_code == 401


def test_tokens_signed_with_a_previous_key_are_accepted_until_they_expire(
    live_server: LiveServer, real_token: str
) -> None:
    claims = _claims(real_token)
    assert _me(live_server, _sign(claims, PREVIOUS_KEY)).status_code == 200
    expired = {**claims, "exp": int(time.time()) - 1}
    assert _me(live_server, _sign(expired, PREVIOUS_KEY)).status_code == 401


def test_new_tokens_are_signed_with_the_current_key_only(real_token: str) -> None:
    jwt.decode(real_token, SECRET_KEY, algorithms=["HS256"], audience="mrs")
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(real_token, PREVIOUS_KEY, algorithms=["HS256"], audience="mrs")
