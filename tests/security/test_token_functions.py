"""The token primitives on their own: CSRF tokens and JWT key ids (no server needed)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from mrs.accounts.errors import InvalidToken
from mrs.accounts.tokens import decode_token, issue_token, key_id
from mrs.security.csrf import make_token, token_is_valid

KEY = "k" * 48
OLD = "o" * 48


def test_csrf_tokens_are_salted_and_bound_to_their_binding_and_key() -> None:
    first, second = make_token(KEY, "session-a"), make_token(KEY, "session-a")
    assert first != second  # a fresh salt per page
    assert token_is_valid(first, "session-a", [KEY])
    assert token_is_valid(second, "session-a", [KEY])
    assert not token_is_valid(first, "session-b", [KEY])
    assert not token_is_valid(first, "session-a", [OLD])
    assert token_is_valid(make_token(OLD, "session-a"), "session-a", [KEY, OLD])  # rotation


@pytest.mark.parametrize("token", ["", ".", "abc", "salt.", ".mac", "x" * 500])
def test_malformed_csrf_tokens_are_invalid(token: str) -> None:
    assert not token_is_valid(token, "session-a", [KEY])


def test_jwts_name_their_key_and_previous_keys_verify_by_kid() -> None:
    now = datetime.now(UTC)
    issued = issue_token(user_id="alice", secret=OLD, now=now, lifetime=timedelta(minutes=5))
    assert jwt.get_unverified_header(issued.token)["kid"] == key_id(OLD)
    assert KEY not in key_id(KEY)  # the kid does not reveal the key
    assert decode_token(issued.token, secret=KEY, previous_secrets=[OLD]).subject == "alice"
    with pytest.raises(InvalidToken):
        decode_token(issued.token, secret=KEY)  # rotated out entirely


def test_a_remembered_token_still_expires_on_time() -> None:
    """Verified tokens are remembered per process; the memory never outlives `exp`."""
    now = datetime.now(UTC)
    # exp is whole seconds: this token expires within the next second.
    lifetime = timedelta(seconds=int(now.timestamp()) + 1 - now.timestamp())
    issued = issue_token(user_id="alice", secret=KEY, now=now, lifetime=lifetime)
    assert decode_token(issued.token, secret=KEY).subject == "alice"
    assert decode_token(issued.token, secret=KEY).subject == "alice"  # from memory
    expires = int(now.timestamp()) + 1
    for _ in range(30):  # at most 1.5 s
        if time.time() >= expires + 0.05:
            break
        time.sleep(0.05)
    with pytest.raises(InvalidToken):
        decode_token(issued.token, secret=KEY)


def test_a_remembered_token_is_refused_once_its_key_is_rotated_out() -> None:
    issued = issue_token(
        user_id="alice", secret=OLD, now=datetime.now(UTC), lifetime=timedelta(minutes=5)
    )
    assert decode_token(issued.token, secret=OLD).subject == "alice"
    assert decode_token(issued.token, secret=KEY, previous_secrets=[OLD]).subject == "alice"
    with pytest.raises(InvalidToken):
        decode_token(issued.token, secret=KEY)
