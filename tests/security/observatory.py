"""An HTTP-Observatory-style grader: Mozilla's scoring rules applied to live responses.

Each test yields one result with a score modifier, as the Observatory does: start from 100,
add the modifiers (bonuses only once the penalties leave at least 90), A+ from 100.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

import httpx

PRIVATE_REFERRER_POLICIES = {
    "no-referrer",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
}
UNSAFE_REFERRER_POLICIES = {
    "origin",
    "origin-when-cross-origin",
    "unsafe-url",
    "no-referrer-when-downgrade",
}
SIX_MONTHS = 15_768_000
SESSION_COOKIE_HINTS = ("session", "sess", "login", "token", "auth", "jwt", "sid")
CSRF_COOKIE_HINTS = ("csrf", "xsrf")


@dataclass
class Grade:
    results: dict[str, tuple[str, int]] = field(default_factory=dict)

    def add(self, test: str, result: str, modifier: int) -> None:
        self.results[test] = (result, modifier)

    @property
    def penalties(self) -> dict[str, tuple[str, int]]:
        return {test: r for test, r in self.results.items() if r[1] < 0}

    @property
    def score(self) -> int:
        base = 100 + sum(m for _, m in self.results.values() if m < 0)
        bonus = sum(m for _, m in self.results.values() if m > 0)
        return max(0, base + (bonus if base >= 90 else 0))

    @property
    def letter(self) -> str:
        steps = [(100, "A+"), (90, "A"), (85, "A-"), (80, "B+"), (70, "B"), (65, "B-")]
        steps += [(60, "C+"), (50, "C"), (45, "C-"), (40, "D+"), (30, "D"), (25, "D-")]
        return next((letter for floor, letter in steps if self.score >= floor), "F")


def _csp_directives(value: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in value.split(";"):
        tokens = part.strip().split()
        if tokens:
            directives.setdefault(tokens[0].lower(), [t.lower() for t in tokens[1:]])
    return directives


def grade_csp(grade: Grade, response: httpx.Response) -> None:
    value = response.headers.get("content-security-policy")
    if not value:
        grade.add("content-security-policy", "csp-not-implemented", -25)
        return
    directives = _csp_directives(value)
    default = directives.get("default-src")
    script = directives.get("script-src", default)
    style = directives.get("style-src", default)
    if script is None:
        grade.add("content-security-policy", "csp-implemented-with-unsafe-inline", -20)
        return
    active = [*script, *directives.get("object-src", default or [])]
    if "'unsafe-inline'" in script or "data:" in script or "*" in script:
        grade.add("content-security-policy", "csp-implemented-with-unsafe-inline", -20)
    elif any(s in ("http:", "ftp:") or s.startswith("http://") for s in active):
        grade.add("content-security-policy", "csp-implemented-with-insecure-scheme", -20)
    elif "'unsafe-eval'" in script:
        grade.add("content-security-policy", "csp-implemented-with-unsafe-eval", -10)
    elif any(s.startswith("http://") or s == "http:" for v in directives.values() for s in v):
        grade.add(
            "content-security-policy",
            "csp-implemented-with-insecure-scheme-in-passive-content-only",
            -10,
        )
    elif style is not None and "'unsafe-inline'" in style:
        grade.add(
            "content-security-policy", "csp-implemented-with-unsafe-inline-in-style-src-only", 0
        )
    elif default == ["'none'"]:
        grade.add("content-security-policy", "csp-implemented-with-no-unsafe-default-src-none", 10)
    else:
        grade.add("content-security-policy", "csp-implemented-with-no-unsafe", 0)


def grade_cookies(grade: Grade, responses: list[httpx.Response], hsts: bool) -> None:
    cookies = []
    for response in responses:
        for header in response.headers.get_list("set-cookie"):
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            cookies.extend(jar.values())
    if not cookies:
        grade.add("cookies", "cookies-not-found", 0)
        return
    worst = ("cookies-secure-with-httponly-sessions-and-samesite", 5)
    for morsel in cookies:
        name = morsel.key.lower()
        session = any(hint in name for hint in SESSION_COOKIE_HINTS)
        anticsrf = any(hint in name for hint in CSRF_COOKIE_HINTS)
        samesite = str(morsel["samesite"]).lower()
        if samesite and samesite not in ("lax", "strict", "none"):
            result = ("cookies-samesite-flag-invalid", -20)
        elif session and not morsel["secure"]:
            result = ("cookies-session-without-secure-flag", -40)
        elif anticsrf and not samesite:
            result = ("cookies-anticsrf-without-samesite-flag", -20)
        elif not morsel["secure"]:
            result = (
                ("cookies-without-secure-flag-but-protected-by-hsts", -5)
                if hsts
                else ("cookies-without-secure-flag", -20)
            )
        elif session and not morsel["httponly"]:
            result = ("cookies-session-without-httponly-flag", -30)
        elif not samesite:
            result = ("cookies-secure-with-httponly-sessions", 0)
        else:
            result = ("cookies-secure-with-httponly-sessions-and-samesite", 5)
        if result[1] < worst[1]:
            worst = result
    grade.add("cookies", *worst)


def grade_cors(grade: Grade, response: httpx.Response) -> None:
    origin = response.headers.get("access-control-allow-origin")
    credentials = response.headers.get("access-control-allow-credentials", "").lower() == "true"
    if origin is None:
        grade.add("cross-origin-resource-sharing", "cors-not-implemented", 0)
    elif origin == "*" and credentials:
        grade.add("cross-origin-resource-sharing", "cors-implemented-with-universal-access", -50)
    else:
        grade.add("cross-origin-resource-sharing", "cors-implemented-with-restricted-access", 0)


def grade_redirection(grade: Grade, history: list[httpx.Response], final: httpx.Response) -> None:
    if not history:
        grade.add("redirection", "redirection-missing", -20)
        return
    first = history[0]
    first_target = urlsplit(str(first.next_request.url if first.next_request else final.url))
    if urlsplit(str(first.url)).hostname != first_target.hostname:
        grade.add("redirection", "redirection-off-host-from-http", -5)
    elif first_target.scheme != "https":
        grade.add("redirection", "redirection-not-to-https-on-initial-redirection", -10)
    elif final.url.scheme != "https":
        grade.add("redirection", "redirection-not-to-https", -20)
    else:
        grade.add("redirection", "redirection-to-https", 0)


def grade_referrer(grade: Grade, response: httpx.Response) -> None:
    value = response.headers.get("referrer-policy")
    if value is None:
        grade.add("referrer-policy", "referrer-policy-not-implemented", 0)
        return
    policies = [p.strip().lower() for p in value.split(",") if p.strip()]
    known = PRIVATE_REFERRER_POLICIES | UNSAFE_REFERRER_POLICIES
    effective = next((p for p in reversed(policies) if p in known), None)
    if effective in PRIVATE_REFERRER_POLICIES:
        grade.add("referrer-policy", "referrer-policy-private", 5)
    elif effective in UNSAFE_REFERRER_POLICIES:
        grade.add("referrer-policy", "referrer-policy-unsafe", -5)
    else:
        grade.add("referrer-policy", "referrer-policy-header-invalid", -5)


def grade_hsts(grade: Grade, response: httpx.Response) -> bool:
    value = response.headers.get("strict-transport-security")
    if response.url.scheme != "https":
        grade.add("strict-transport-security", "hsts-not-implemented-no-https", -20)
        return False
    if value is None:
        grade.add("strict-transport-security", "hsts-not-implemented", -20)
        return False
    match = re.search(r"max-age\s*=\s*\"?(\d+)", value, re.I)
    if not match:
        grade.add("strict-transport-security", "hsts-header-invalid", -20)
        return False
    if int(match.group(1)) < SIX_MONTHS:
        grade.add("strict-transport-security", "hsts-implemented-max-age-less-than-six-months", -10)
    else:
        grade.add("strict-transport-security", "hsts-implemented-max-age-at-least-six-months", 0)
    return True


def grade_sri(grade: Grade, response: httpx.Response) -> None:
    if "text/html" not in response.headers.get("content-type", ""):
        grade.add("subresource-integrity", "sri-not-implemented-response-not-html", 0)
        return
    scripts = re.findall(r"<script\b([^>]*)>", response.text, re.I)
    sources = [re.search(r'src\s*=\s*"([^"]+)"', s, re.I) for s in scripts]
    external = []
    for attributes, src in zip(scripts, sources, strict=True):
        if src is None:
            continue
        target = urlsplit(src.group(1))
        if target.netloc and target.netloc != response.url.netloc.decode():
            external.append(("integrity" in attributes.lower(), target.scheme == "https"))
    if not external:
        result = (
            "sri-not-implemented-but-all-scripts-loaded-from-secure-origin"
            if any(sources)
            else ("sri-not-implemented-but-no-scripts-loaded")
        )
        grade.add("subresource-integrity", result, 0)
    elif all(has and secure for has, secure in external):
        grade.add(
            "subresource-integrity", "sri-implemented-and-external-scripts-loaded-securely", 5
        )
    elif all(secure for _, secure in external):
        grade.add(
            "subresource-integrity", "sri-not-implemented-but-external-scripts-loaded-securely", -5
        )
    else:
        grade.add(
            "subresource-integrity",
            "sri-not-implemented-and-external-scripts-not-loaded-securely",
            -50,
        )


def grade_content_type_options(grade: Grade, response: httpx.Response) -> None:
    value = response.headers.get("x-content-type-options")
    if value is None:
        grade.add("x-content-type-options", "x-content-type-options-not-implemented", -5)
    elif value.strip().lower() == "nosniff":
        grade.add("x-content-type-options", "x-content-type-options-nosniff", 0)
    else:
        grade.add("x-content-type-options", "x-content-type-options-header-invalid", -5)


def grade_frame_options(grade: Grade, response: httpx.Response) -> None:
    csp = _csp_directives(response.headers.get("content-security-policy", ""))
    ancestors = csp.get("frame-ancestors")
    if ancestors is not None and "*" not in ancestors:
        grade.add("x-frame-options", "x-frame-options-implemented-via-csp", 5)
        return
    value = (response.headers.get("x-frame-options") or "").strip().lower()
    if not value:
        grade.add("x-frame-options", "x-frame-options-not-implemented", -20)
    elif value in ("deny", "sameorigin"):
        grade.add("x-frame-options", "x-frame-options-sameorigin-or-deny", 0)
    else:
        grade.add("x-frame-options", "x-frame-options-header-invalid", -20)


def grade_corp(grade: Grade, response: httpx.Response) -> None:
    value = (response.headers.get("cross-origin-resource-policy") or "").strip().lower()
    if not value:
        grade.add("cross-origin-resource-policy", "corp-not-implemented", 0)
    elif value in ("same-origin", "same-site", "cross-origin"):
        grade.add("cross-origin-resource-policy", f"corp-implemented-with-{value}", 0)
    else:
        grade.add("cross-origin-resource-policy", "corp-header-invalid", -5)


def scan(http_url: str, path: str, client: httpx.Client, extra: list[httpx.Response]) -> Grade:
    """Grade `path` as the Observatory would: start at plain HTTP and follow redirects.

    `extra` responses (e.g. a login) are included in the cookie test, so that the session
    cookie is graded too, not only what an anonymous first visit sets.
    """
    final = client.get(f"{http_url}{path}", follow_redirects=True)
    grade = Grade()
    grade_csp(grade, final)
    hsts = grade_hsts(grade, final)
    grade_cookies(grade, [*final.history, final, *extra], hsts)
    grade_cors(grade, final)
    grade_redirection(grade, list(final.history), final)
    grade_referrer(grade, final)
    grade_sri(grade, final)
    grade_content_type_options(grade, final)
    grade_frame_options(grade, final)
    grade_corp(grade, final)
    return grade
