"""Account rules that need no database: user ids, names, emails, the password policy.

Each check raises `PolicyViolation`, a ValueError whose first argument is an English
message id (translated at the edge) and whose `params` fill its `{fields}`; pydantic
turns it into a field-level message, services into a domain error.
"""

from __future__ import annotations

import gzip
import re
import unicodedata
from functools import cache
from importlib import resources
from itertools import pairwise, zip_longest
from typing import Any

from email_validator import EmailNotValidError, validate_email

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
MIN_USER_ID_LENGTH = 3
MAX_USER_ID_LENGTH = 32
MAX_NAME_LENGTH = 100
MAX_EMAIL_LENGTH = 254
MAX_REASON_LENGTH = 500
# A user id inside a password only counts when it is long enough to be a real hint.
_MIN_EMBEDDED_LENGTH = 3
_USER_ID_RE = re.compile(r"^[a-z0-9._-]+$")


class PolicyViolation(ValueError):
    """A rule was broken; `args[0]` is the English msgid, `params` its fields."""

    def __init__(self, msgid: str, **params: Any) -> None:
        super().__init__(msgid)
        self.msgid = msgid
        self.params = params


def normalize_user_id(value: str) -> str:
    """The canonical user id: trimmed and lower-cased (ids are case-insensitive)."""
    return value.strip().lower()


def check_user_id(value: str) -> str:
    """A valid user id, normalised: 3–32 characters of a–z, 0–9, '.', '_' and '-'."""
    user_id = normalize_user_id(value)
    if not user_id:
        raise PolicyViolation("This field is required.")
    if not MIN_USER_ID_LENGTH <= len(user_id) <= MAX_USER_ID_LENGTH:
        raise PolicyViolation(
            "The user ID must be {min} to {max} characters long.",
            min=MIN_USER_ID_LENGTH,
            max=MAX_USER_ID_LENGTH,
        )
    if not _USER_ID_RE.match(user_id):
        raise PolicyViolation(
            "The user ID may contain only lower-case letters a-z, digits and . _ -"
        )
    return user_id


def check_name(value: str) -> str:
    """A first or last name: trimmed, not empty, at most 100 characters, printable."""
    name = " ".join(value.split())
    if not name:
        raise PolicyViolation("This field is required.")
    if len(name) > MAX_NAME_LENGTH:
        raise PolicyViolation("Enter at most {max} characters.", max=MAX_NAME_LENGTH)
    if any(unicodedata.category(char).startswith("C") for char in name):
        raise PolicyViolation("The name contains characters that are not allowed.")
    return name


def check_email(value: str) -> str:
    """A syntactically valid email address (no DNS look-up), normalised to lower case."""
    text = value.strip()
    if not text:
        raise PolicyViolation("This field is required.")
    if len(text) > MAX_EMAIL_LENGTH:
        raise PolicyViolation("Enter at most {max} characters.", max=MAX_EMAIL_LENGTH)
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise PolicyViolation("Enter a valid email address.") from exc
    return checked.normalized.lower()


def email_domain(email: str) -> str | None:
    """The domain of an email address as typed (lower-cased, bounded), or None."""
    domain = email.strip().rpartition("@")[2].strip().lower()
    return domain[:MAX_EMAIL_LENGTH] if "@" in email and domain else None


def allowed_domains(setting: str) -> frozenset[str]:
    """The email domains of a comma-separated setting; empty means any domain."""
    return frozenset(
        part.strip().lower().lstrip("@") for part in setting.split(",") if part.strip()
    )


def domain_allowed(email: str, allowed: frozenset[str]) -> bool:
    """Whether self-registration accepts this (normalised) address: its domain is listed
    exactly (no subdomains, so a look-alike cannot slip through), or no list is set."""
    return not allowed or email_domain(email) in allowed


# A password made of one short unit repeated ("abcabcabcabc") is as weak as the unit.
_MAX_REPEATED_UNIT = 4
_KEYBOARD_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
# Runs people type on a QWERTY keyboard: along the rows (and on into the next row), down
# the columns (with and without the digit row), and two rows interleaved.
_KEYBOARD_COLUMNS = ["".join(column) for column in zip_longest(*_KEYBOARD_ROWS, fillvalue="")]
_KEYBOARD_WALKS = (
    "".join(_KEYBOARD_ROWS),
    "".join(_KEYBOARD_COLUMNS),
    "".join(column[1:] for column in _KEYBOARD_COLUMNS),
    "".join(column[::-1] for column in _KEYBOARD_COLUMNS),
    "".join(a + b for a, b in zip(_KEYBOARD_ROWS[0], _KEYBOARD_ROWS[1], strict=True)),
    "".join(b + a for a, b in zip(_KEYBOARD_ROWS[0], _KEYBOARD_ROWS[1], strict=True)),
)


def _repeats_a_short_unit(text: str) -> bool:
    for size in range(1, _MAX_REPEATED_UNIT + 1):
        unit = text[:size]
        if len(text) > size and (unit * (len(text) // size + 1))[: len(text)] == text:
            return True
    return False


def _step(previous: str, current: str) -> int | None:
    """+1 or -1 when `current` follows or precedes `previous` (digits wrap 9→0)."""
    if previous.isdigit() and current.isdigit():
        delta = (int(current) - int(previous)) % 10
        return {1: 1, 9: -1}.get(delta)
    if previous.isascii() and current.isascii() and previous.isalpha() and current.isalpha():
        return {1: 1, -1: -1}.get(ord(current) - ord(previous))
    return None


def _is_sequence(text: str) -> bool:
    steps = {_step(a, b) for a, b in pairwise(text)}
    return steps in ({1}, {-1})


def _is_keyboard_walk(text: str) -> bool:
    return any(text in walk or text in walk[::-1] for walk in _KEYBOARD_WALKS)


def check_password_pattern(password: str) -> None:
    """Refuse passwords that are one simple pattern: a repeated character or short unit,
    a sequence (123456789012, abcdefghijkl) or a keyboard run (qwertyuiopas, 1qaz2wsx3edc)."""
    lowered = password.lower()
    if _repeats_a_short_unit(lowered):
        raise PolicyViolation("The password repeats the same few characters. Choose another one.")
    if _is_sequence(lowered):
        raise PolicyViolation(
            "The password is a simple sequence such as 123456 or abcdef. Choose another one."
        )
    if _is_keyboard_walk(lowered):
        raise PolicyViolation(
            "The password is a run of neighbouring keys on the keyboard. Choose another one."
        )


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list of common passwords (lower-case), loaded once."""
    data = resources.files("mrs.accounts").joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode("utf-8").split())


def check_password(password: str, *, user_id: str | None = None, email: str | None = None) -> str:
    """The password, if the policy allows it (length, not common, no user id or email).

    No composition rules (NIST SP 800-63B): length and a deny-list do the work. The
    password is never trimmed or truncated.
    """
    if not password:
        raise PolicyViolation("This field is required.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PolicyViolation(
            "The password must be at least {min_length} characters long.",
            min_length=MIN_PASSWORD_LENGTH,
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PolicyViolation(
            "The password must be at most {max_length} characters long.",
            max_length=MAX_PASSWORD_LENGTH,
        )
    lowered = password.lower()
    if lowered in common_passwords():
        raise PolicyViolation("This password is too common. Choose another one.")
    check_password_pattern(password)
    if user_id and len(user_id) >= _MIN_EMBEDDED_LENGTH and user_id.lower() in lowered:
        raise PolicyViolation("The password must not contain your user ID.")
    if email:
        local_part = email.lower().split("@", 1)[0]
        if email.lower() in lowered or (
            len(local_part) >= _MIN_EMBEDDED_LENGTH and local_part in lowered
        ):
            raise PolicyViolation("The password must not contain your email address.")
    return password
