"""Account rules without a database: user ids, names, emails, the password policy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mrs.accounts import passwords, rules
from mrs.i18n import _catalog


def test_the_common_password_list_is_bundled_and_large() -> None:
    common = rules.common_passwords()
    assert len(common) >= 10_000
    assert {"password", "123456", "qwertyuiop123"} <= common
    assert all(word == word.lower() for word in list(common)[:1000])


def test_the_list_covers_passwords_that_fit_the_length_policy() -> None:
    long_ones = [word for word in rules.common_passwords() if len(word) >= 12]
    assert len(long_ones) >= 3_000
    assert {"iloveyou1234", "123qweasdzxc", "1qaz2wsx3edc"} <= set(long_ones)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("123456789012", "too common|sequence"),
        ("aaaaaaaaaaaa", "too common|repeats"),
        ("qwertyuiopas", "keyboard"),
        ("iloveyou1234", "too common"),
        (" " * 12, "repeats"),
    ],
)
def test_the_weak_twelve_character_passwords_found_in_testing_are_refused(
    password: str, reason: str
) -> None:
    with pytest.raises(rules.PolicyViolation, match=reason):
        rules.check_password(password)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("zzzzzzzzzzzzzz", "repeats"),
        ("abcabcabcabcabc", "repeats"),
        ("xyxyxyxyxyxyxy", "repeats"),
        ("2345678901234", "sequence"),
        ("abcdefghijklm", "sequence"),
        ("zyxwvutsrqpo", "sequence"),
        ("9876543210987", "sequence"),
        ("asdfghjklzxcv", "keyboard"),
        ("7ujm8ik9ol0p", "keyboard"),
        ("mnbvcxzlkjhgf", "keyboard"),
        ("w2e3r4t5y6u7", "keyboard"),
    ],
)
def test_patterns_are_refused_with_their_reason(password: str, reason: str) -> None:
    """Patterns the list cannot hold (any length, any starting point) are refused by rule."""
    assert password.lower() not in rules.common_passwords()
    with pytest.raises(rules.PolicyViolation, match=reason):
        rules.check_password(password)


@pytest.mark.parametrize(
    "password",
    [
        "plum-lantern-orbit-7",
        "correct horse battery staple",
        "Tokyo meeting room 4B at nine",
        "qwerty is not my password",
        "会議室を予約するためのパスワード",
        "abcd-efgh-ijkl-mnop-42x",
    ],
)
def test_good_passphrases_still_pass(password: str) -> None:
    assert rules.check_password(password) == password


@pytest.mark.parametrize("password", ["Password1234", "PASSWORD1234", "qwerty123456"])
def test_common_passwords_are_refused_whatever_their_case(password: str) -> None:
    with pytest.raises(rules.PolicyViolation, match="too common"):
        rules.check_password(password)


def test_length_limits_are_12_and_128_and_nothing_is_trimmed() -> None:
    with pytest.raises(rules.PolicyViolation):
        rules.check_password("a" * 5 + "-" * 6)  # 11
    assert rules.check_password(" padded-pass ") == " padded-pass "
    longest = ("blue-heron-" * 12)[:128]
    assert rules.check_password(longest) == longest
    with pytest.raises(rules.PolicyViolation):
        rules.check_password("z" * 129)


def test_no_composition_rules() -> None:
    assert rules.check_password("all lower case words here")


def test_the_user_id_and_email_may_not_be_in_the_password() -> None:
    with pytest.raises(rules.PolicyViolation, match="user ID"):
        rules.check_password("xx-HANAKO-xx-yy", user_id="hanako")
    with pytest.raises(rules.PolicyViolation, match="email"):
        rules.check_password("my-tanuki42-secret", email="tanuki42@example.com")
    # Short ids are not hints: "ab" inside a passphrase is fine (ids are 3+ anyway).
    assert rules.check_password("a fabulous passphrase", user_id="ab")


@pytest.mark.parametrize(
    ("raw", "expected"), [("Hanako", "hanako"), (" a.b-c_d ", "a.b-c_d"), ("abc", "abc")]
)
def test_user_ids_are_normalised(raw: str, expected: str) -> None:
    assert rules.check_user_id(raw) == expected


@pytest.mark.parametrize("raw", ["ab", "a" * 33, "ab cd", "ab/cd", "hanakó", "ab@cd", ""])
def test_bad_user_ids_are_refused(raw: str) -> None:
    with pytest.raises(rules.PolicyViolation):
        rules.check_user_id(raw)


def test_emails_are_checked_without_dns_and_lower_cased() -> None:
    assert rules.check_email(" Hanako@Example.COM ") == "hanako@example.com"
    # No DNS: a domain nobody registered is fine as long as the syntax is.
    unregistered = "someone@surely-not-registered-mrs-domain.org"
    assert rules.check_email(unregistered) == unregistered
    for bad in ["plain", "a@", "@b.com", "a b@c.com", "a@b@c.com"]:
        with pytest.raises(rules.PolicyViolation):
            rules.check_email(bad)


def test_names_are_trimmed_and_bounded() -> None:
    assert rules.check_name("  Mary   Ann ") == "Mary Ann"
    with pytest.raises(rules.PolicyViolation):
        rules.check_name("x" * 101)
    with pytest.raises(rules.PolicyViolation):
        rules.check_name("bad\u200bname")  # a zero-width (format) character


def test_hashes_are_argon2id_at_owasp_parameters_and_old_ones_are_rehashed() -> None:
    digest = passwords.hash_password("some long passphrase")
    assert digest.startswith("$argon2id$")
    params = dict(p.split("=") for p in digest.split("$")[3].split(","))
    assert int(params["m"]) >= 19 * 1024
    assert int(params["t"]) >= 2
    assert not passwords.needs_rehash(digest)
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash("x")
    assert passwords.needs_rehash(weak)


def test_every_policy_message_is_translated() -> None:
    source = (Path(rules.__file__)).read_text()
    msgids = set(re.findall(r'PolicyViolation\(\s*"([^"]+)"', source))
    assert len(msgids) >= 9
    assert sorted(msgids - _catalog("ja").keys()) == []


def test_every_notification_text_is_translated() -> None:
    from mrs.accounts import notices

    source = Path(notices.__file__).read_text()
    catalog = _catalog("ja")
    for subject in re.findall(r'^\s+"((?:We|Your|New)[^"]+)",$', source, re.MULTILINE):
        assert subject in catalog, subject
    body = notices.registration_approved("ja", user_id="u", first_name="F").body
    assert "承認されました" in body


def test_the_demo_logins_satisfy_the_password_policy() -> None:
    from mrs.demo import DEMO_LOGINS

    for login in DEMO_LOGINS:
        rules.check_password(
            login.password, user_id=login.user_id, email=f"{login.user_id}@example.com"
        )
