"""CSRF protection: a signed double-submit token bound to the session, plus an origin check.

Which requests are checked: every unsafe request (POST, PUT, PATCH, DELETE, …) that a
browser may have sent, whatever cookies it carries: one with an `Origin`, `Referer` or
`Sec-Fetch-Site` header (browsers send `Origin` on every unsafe request), or with a body
that a cross-site page can send without a CORS preflight (an HTML form's types,
`text/plain`, or no type at all). A request with a valid `Bearer` token (one of our
signed access tokens, or the management token) is exempt: a browser never adds one by
itself, and such a request is authenticated by that token alone, never by the cookie
(`request_token` prefers the bearer). Any other `Authorization` header is no exemption:
a browser does add `Basic` credentials it remembers to cross-site posts, and a bogus
bearer must not open the way for the cookie. A script's JSON request without any browser
header is exempt too, even if its cookie jar holds a session: a cross-site page cannot produce it,
because a JSON body needs a CORS preflight, which MRS never grants. (The session cookie is
also SameSite=Lax, so browsers do not send it on cross-site posts at all.)

A checked request must come from our own origin (`Origin`, else `Referer`; one of them is
required) and carry a token (header `X-CSRF-Token`, or the form field `csrf_token` of an
`application/x-www-form-urlencoded` body) equal to HMAC(key, random salt + SHA-256 of the
binding), where the binding is the session cookie's value when there is a session, else
the random per-browser value of the CSRF cookie (before login). Tokens are salted per
page so that they differ on every render (no BREACH-style compression oracle).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache
from urllib.parse import parse_qsl, urlsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mrs.accounts.dependencies import bearer_token, session_cookie_name
from mrs.accounts.errors import InvalidToken
from mrs.accounts.tokens import decode_token
from mrs.http.error_handlers import status_response
from mrs.security.errors import CsrfFailed
from mrs.settings import Settings

CSRF_FORM_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
CSRF_COOKIE = "mrs_csrf"
SECURE_CSRF_COOKIE = "__Host-mrs_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Body types a cross-site HTML form (or a no-CORS fetch) can send without a preflight.
FORM_CONTENT_TYPES = frozenset(
    {"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}
)
_MAX_TOKEN_LENGTH = 200
_STATE_NEW_COOKIE = "mrs_csrf_new_cookie"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def csrf_cookie_name(request: Request) -> str:
    """`__Host-` prefixed (so no other site or subdomain can plant it) over HTTPS."""
    return SECURE_CSRF_COOKIE if request.url.scheme == "https" else CSRF_COOKIE


@lru_cache(maxsize=16)
def _derived_key(secret: str) -> bytes:
    # A key of its own, so a CSRF token can never be mistaken for any other MAC we make.
    return hmac.new(secret.encode(), b"mrs csrf token v1", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _mac(secret: str, salt: str, binding: str) -> str:
    bound = hashlib.sha256(binding.encode()).digest()
    return _b64(
        hmac.new(_derived_key(secret), salt.encode() + b"|" + bound, hashlib.sha256).digest()
    )


def make_token(secret: str, binding: str) -> str:
    """A fresh token for `binding` (the session cookie value or the CSRF cookie value)."""
    salt = _b64(secrets.token_bytes(12))
    return f"{salt}.{_mac(secret, salt, binding)}"


def token_is_valid(token: str, binding: str, secret_keys: list[str]) -> bool:
    """True when `token` was made for `binding` with one of `secret_keys`."""
    if not token or not binding or len(token) > _MAX_TOKEN_LENGTH:
        return False
    salt, dot, mac = token.partition(".")
    if not dot or not salt or not mac:
        return False
    return any(hmac.compare_digest(_mac(key, salt, binding), mac) for key in secret_keys)


def _binding(request: Request) -> str | None:
    session = request.cookies.get(session_cookie_name(request))
    if session:
        return session
    return request.cookies.get(csrf_cookie_name(request))


def csrf_token(request: Request) -> str:
    """The token to embed in this response's forms (sets the CSRF cookie when missing)."""
    settings: Settings = request.app.state.settings
    binding = _binding(request) or getattr(request.state, _STATE_NEW_COOKIE, None)
    if not binding:
        binding = secrets.token_urlsafe(32)
        # Picked up by CsrfMiddleware, which adds the Set-Cookie to the response.
        setattr(request.state, _STATE_NEW_COOKIE, binding)
    return make_token(settings.effective_secret_key, binding)


def _origin_key(url: str) -> str | None:
    """`scheme://host:port` with the default port filled in, or None if not a web origin."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return f"{scheme}://{parts.hostname.lower()}:{port or _DEFAULT_PORTS[scheme]}"


def _needs_check(request: Request) -> bool:
    """True for unsafe requests that a browser may have sent (see the module docstring)."""
    if request.method in SAFE_METHODS:
        return False
    headers = request.headers
    # Browsers send Origin with every unsafe request (and Referer / Sec-Fetch-Site).
    if "origin" in headers or "referer" in headers or "sec-fetch-site" in headers:
        return True
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in FORM_CONTENT_TYPES:
        return True  # what an old browser's cross-site form can send without Origin
    # A body without a type is also a "simple" request (FastAPI would read it as JSON).
    has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
    return not content_type and has_body


class CsrfMiddleware:
    """Refuse cross-site unsafe requests; set the CSRF cookie when a page asked for one."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.trusted_origins = {
            key for key in (_origin_key(o) for o in settings.trusted_origin_list) if key
        }

    def _secret_keys(self) -> list[str]:
        return [self.settings.effective_secret_key, *self.settings.previous_secret_key_list]

    def _has_valid_bearer(self, request: Request) -> bool:
        """True when the request carries one of our access tokens or the management token.

        Only the signature and time claims are checked here (no database): the route's
        own authentication still checks the session, with this same token.
        """
        token = bearer_token(request)
        if token is None:
            return False
        management = self.settings.management_token
        if management and hmac.compare_digest(token.encode(), management.encode()):
            return True
        try:
            decode_token(
                token,
                secret=self.settings.effective_secret_key,
                previous_secrets=self.settings.previous_secret_key_list,
            )
        except InvalidToken:
            return False
        return True

    def _same_origin(self, request: Request) -> bool:
        own = _origin_key(f"{request.url.scheme}://{request.headers.get('host', '')}")
        allowed = self.trusted_origins | ({own} if own else set())
        origin = request.headers.get("origin")
        if origin is not None:
            return _origin_key(origin) in allowed
        referer = request.headers.get("referer")
        if referer is not None:
            return _origin_key(referer) in allowed
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                value = scope.get("state", {}).get(_STATE_NEW_COOKIE)
                if value:
                    name = SECURE_CSRF_COOKIE if https else CSRF_COOKIE
                    cookie = f"{name}={value}; Path=/; HttpOnly; SameSite=Lax"
                    if https:
                        cookie += "; Secure"
                    message["headers"] = [
                        *message.get("headers", ()),
                        (b"set-cookie", cookie.encode()),
                    ]
            await send(message)

        if scope["method"] in SAFE_METHODS:  # the hot path: no parsing at all
            await self.app(scope, receive, send_with_cookie)
            return
        request = Request(scope)
        if not _needs_check(request) or self._has_valid_bearer(request):
            await self.app(scope, receive, send_with_cookie)
            return
        token = request.headers.get(CSRF_HEADER)
        replay = receive
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if token is None and content_type == "application/x-www-form-urlencoded":
            # Forms are small: a body over the site's limit is refused before it is whole.
            body = await _read_body(receive, self.settings.max_body_bytes)
            if body is None:
                await _refuse(request, scope, receive, send_with_cookie, status=413)
                return
            token = _form_field(body, CSRF_FORM_FIELD)
            replay = _replaying(body, receive)
        binding = _binding(request)
        if not (
            self._same_origin(request)
            and binding
            and token_is_valid(token or "", binding, self._secret_keys())
        ):
            await _refuse(request, scope, receive, send_with_cookie, status=403)
            return
        await self.app(scope, replay, send_with_cookie)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None when it is larger than `limit`."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the buffered body to the app once, then the real channel."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _form_field(body: bytes, name: str) -> str | None:
    try:
        fields = parse_qsl(body.decode("utf-8", "replace"), max_num_fields=1000)
    except ValueError:
        return None
    for key, value in fields:
        if key == name:
            return value
    return None


async def _refuse(
    request: Request, scope: Scope, receive: Receive, send: Send, *, status: int
) -> None:
    # A person who posted a page's form (an old tab, an expired session) gets a page that
    # says what to do, like every other error on a page; API clients get the JSON shape.
    response = await status_response(request, status, None if status == 413 else CsrfFailed())
    await response(scope, receive, send)
