"""Access tokens: JWT, HS256 pinned, with every registered claim checked."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from mrs.accounts.errors import InvalidToken

ALGORITHM = "HS256"
AUDIENCE = "mrs"
ISSUER = "mrs"
_REQUIRED_CLAIMS = ["exp", "iat", "nbf", "sub", "aud", "iss"]


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
    token = jwt.encode(payload, secret, algorithm=ALGORITHM)
    return IssuedToken(token=token, expires_in=int(lifetime.total_seconds()))


def decode_token(token: str, *, secret: str) -> TokenClaims:
    """Check signature, algorithm and claims; raise InvalidToken on any problem."""
    try:
        payload = jwt.decode(
            token,
            secret,
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
    return TokenClaims(
        subject=subject,
        issued_at=issued_at,
        token_id=str(payload.get("jti", "")),
        session_id=session_id if isinstance(session_id, str) else "",
    )
