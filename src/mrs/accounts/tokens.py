"""Access tokens: JWT, HS256 pinned, with every registered claim checked."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from mrs.accounts.errors import InvalidToken

ALGORITHM = "HS256"
AUDIENCE = "mrs"
ISSUER = "mrs"
_REQUIRED_CLAIMS = ["exp", "iat", "nbf", "sub", "aud", "iss"]
# Far above any token we issue; refusing longer input bounds the work per request.
MAX_TOKEN_LENGTH = 4096
# Verified tokens remembered per process. Every API call presents its token again, and
# the same bytes checked against the same keys give the same answer until the token's
# time window closes, which a hit still checks; revocation lives in the session row,
# checked on every request regardless.
_VERIFIED_LIMIT = 4096
_verified: dict[tuple[str, str, tuple[str, ...]], tuple[TokenClaims, float, float]] = {}


def key_id(secret: str) -> str:
    """The `kid` naming a signing key: a short hash, so the key itself is never revealed."""
    return hashlib.sha256(b"mrs jwt kid|" + secret.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_in: int


@dataclass(frozen=True)
class TokenClaims:
    subject: str
    issued_at: datetime
    token_id: str
    session_id: str = ""  # the `sid` claim: the user_session row backing this token


def issue_token(
    *,
    user_id: str,
    secret: str,
    now: datetime,
    lifetime: timedelta,
    session_id: str | None = None,
) -> IssuedToken:
    """A signed access token for `user_id`, valid from now for `lifetime`."""
    payload: dict[str, Any] = {
        "sub": user_id,
        # Fractional seconds: revocation compares issue time with a logout instant.
        "iat": now.timestamp(),
        "nbf": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "aud": AUDIENCE,
        "iss": ISSUER,
        "jti": secrets.token_urlsafe(12),
    }
    if session_id is not None:
        payload["sid"] = session_id
    token = jwt.encode(payload, secret, algorithm=ALGORITHM, headers={"kid": key_id(secret)})
    return IssuedToken(token=token, expires_in=int(lifetime.total_seconds()))


def _verification_key(token: str, secret: str, previous_secrets: Sequence[str]) -> str:
    """The key named by the token's `kid`: the current one or a previous one still accepted."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidToken() from exc
    kid = header.get("kid")
    if kid is None:
        return secret  # tokens issued before key ids existed
    for candidate in (secret, *previous_secrets):
        if isinstance(kid, str) and secrets.compare_digest(kid, key_id(candidate)):
            return candidate
    raise InvalidToken()


def decode_token(token: str, *, secret: str, previous_secrets: Sequence[str] = ()) -> TokenClaims:
    """Check signature, algorithm and claims; raise InvalidToken on any problem.

    `previous_secrets` are keys rotated out but still accepted (by `kid`) until the tokens
    they signed expire.
    """
    if len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken()
    cache_key = (token, secret, tuple(previous_secrets))
    remembered = _verified.get(cache_key)
    if remembered is not None:
        claims, valid_from, valid_until = remembered
        if valid_from <= time.time() < valid_until:
            return claims
        del _verified[cache_key]
    claims, valid_from, valid_until = _verify(token, secret, previous_secrets)
    if len(_verified) >= _VERIFIED_LIMIT:
        del _verified[next(iter(_verified))]  # the oldest entry
    _verified[cache_key] = (claims, valid_from, valid_until)
    return claims


def _verify(
    token: str, secret: str, previous_secrets: Sequence[str]
) -> tuple[TokenClaims, float, float]:
    """The claims of a token, and the time window (epoch seconds) in which it is valid."""
    key = _verification_key(token, secret, previous_secrets)
    try:
        payload = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": _REQUIRED_CLAIMS},
            leeway=0,
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken() from exc
    subject = payload.get("sub")
    if not isinstance(subject, str) or not subject:
        raise InvalidToken()
    issued_at = datetime.fromtimestamp(float(payload["iat"]), tz=UTC)
    session_id = payload.get("sid", "")
    claims = TokenClaims(
        subject=subject,
        issued_at=issued_at,
        token_id=str(payload.get("jti", "")),
        session_id=session_id if isinstance(session_id, str) else "",
    )
    # PyJWT's own rule (leeway 0): valid while iat <= now, nbf <= now and now < exp.
    valid_from = max(float(payload["iat"]), float(payload["nbf"]))
    return claims, valid_from, float(payload["exp"])
