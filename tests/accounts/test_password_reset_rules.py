"""The pure parts of password reset, without a database: token shape and hash, when a
stored link is usable, the link, and the throttle key of what was typed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mrs.accounts import password_reset
from mrs.accounts.errors import ResetTokenExpired, ResetTokenInvalid, ResetTokenUsed
from mrs.accounts.models import PasswordResetToken
from mrs.accounts.notices import password_reset_mail
from mrs.errors import InvalidInput

NOW = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


def _row(**changes: object) -> PasswordResetToken:
    row = PasswordResetToken(
        token_hash="0" * 64,
        user_id="someone",
        created_at=NOW - timedelta(minutes=5),
        expires_at=NOW + timedelta(minutes=25),
    )
    for name, value in changes.items():
        setattr(row, name, value)
    return row


def test_tokens_are_random_shaped_and_stored_as_sha256() -> None:
    tokens = {password_reset.new_token() for _ in range(50)}
    assert len(tokens) == 50
    assert all(password_reset.is_token_shaped(token) for token in tokens)
    token = next(iter(tokens))
    digest = password_reset.hash_token(token)
    assert len(digest) == 64
    assert token not in digest
    assert digest == password_reset.hash_token(token)
    assert not password_reset.is_token_shaped(token + "x")
    assert not password_reset.is_token_shaped("é" * 43)


def test_a_stored_link_is_usable_until_just_before_its_expiry() -> None:
    assert password_reset.token_state(_row(), NOW) is None
    edge = NOW + timedelta(minutes=25)
    assert password_reset.token_state(_row(), edge - timedelta(microseconds=1)) is None
    assert password_reset.token_state(_row(), edge) is ResetTokenExpired
    assert password_reset.token_state(None, NOW) is ResetTokenInvalid
    assert password_reset.token_state(_row(used_at=NOW), NOW) is ResetTokenUsed
    assert password_reset.token_state(_row(superseded_at=NOW), NOW) is ResetTokenUsed
    # Used beats expired: the page says what really happened to the link.
    assert password_reset.token_state(_row(used_at=NOW), edge) is ResetTokenUsed


def test_the_link() -> None:
    assert (
        password_reset.reset_link("https://rooms.example.com/", "abc")
        == "https://rooms.example.com/password/reset?token=abc"
    )


def test_the_account_key_is_an_email_or_a_user_id_by_shape_only() -> None:
    assert password_reset.account_key("  Hanako@Example.COM ") == "hanako@example.com"
    assert password_reset.account_key(" HANAKO ") == "hanako"
    for bad in ["", "   ", "' OR '1'='1", "1; DROP TABLE usr; --", "a@", "x" * 300 + "@ex.com"]:
        with pytest.raises(InvalidInput) as refused:
            password_reset.account_key(bad)
        assert refused.value.field == "email"


def test_the_mail_says_how_long_the_link_works_in_both_languages() -> None:
    def mail(locale: str | None) -> tuple[str, str]:
        notice = password_reset_mail(
            locale, first_name="Hana", user_id="hana", link="https://x/p?token=t", minutes=30
        )
        return notice.subject, notice.body

    (en_subject, en), (_, ja) = mail("en"), mail("ja")
    assert "within 30 minutes" in en
    assert "https://x/p?token=t" in en
    assert "30 分以内" in ja
    assert "https://x/p?token=t" in ja
    assert mail(None)[0] == en_subject  # an unknown language: English
