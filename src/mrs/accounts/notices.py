"""The texts of account notification mails, in the recipient's language."""

from __future__ import annotations

from dataclasses import dataclass

from mrs.i18n import supported_locale, translate


@dataclass(frozen=True)
class Notice:
    subject: str
    body: str


def _render(locale: str, subject: str, body: str, **params: str) -> Notice:
    return Notice(translate(locale, subject, **params), translate(locale, body, **params))


def registration_received(locale: str | None, *, user_id: str, first_name: str) -> Notice:
    return _render(
        supported_locale(locale),
        "We received your registration",
        "Hello {first_name},\n\nWe received your registration as {user_id}. An administrator "
        "will review it, and we will write to you when it has been decided.\n\n— MRS",
        user_id=user_id,
        first_name=first_name,
    )


def registration_approved(locale: str | None, *, user_id: str, first_name: str) -> Notice:
    return _render(
        supported_locale(locale),
        "Your account has been approved",
        "Hello {first_name},\n\nYour account {user_id} has been approved. You can log in "
        "now.\n\n— MRS",
        user_id=user_id,
        first_name=first_name,
    )


def registration_rejected(
    locale: str | None, *, user_id: str, first_name: str, reason: str | None
) -> Notice:
    loc = supported_locale(locale)
    notice = _render(
        loc,
        "Your registration was not approved",
        "Hello {first_name},\n\nYour registration as {user_id} was not approved.\n\n— MRS",
        user_id=user_id,
        first_name=first_name,
    )
    if reason:
        extra = translate(loc, "Reason given: {reason}", reason=reason)
        return Notice(notice.subject, notice.body.replace("\n\n— MRS", f"\n\n{extra}\n\n— MRS"))
    return notice


def registration_for_admins(*, user_id: str, first_name: str, last_name: str, email: str) -> Notice:
    """For administrators, whose language we do not know: Japanese, then English."""
    params = {"user_id": user_id, "first_name": first_name, "last_name": last_name, "email": email}
    subject = "New registration waiting for approval: {user_id}"
    body = (
        "{first_name} {last_name} <{email}> registered as {user_id} and is waiting for "
        "approval. Approve or reject the registration on the approvals page "
        "(GET /api/admin/pending-users)."
    )
    ja = _render("ja", subject, body, **params)
    en = _render("en", subject, body, **params)
    return Notice(f"{ja.subject} / {en.subject}", f"{ja.body}\n\n----\n\n{en.body}\n\n— MRS")


def password_reset_mail(
    locale: str | None, *, first_name: str, user_id: str, link: str, minutes: int
) -> Notice:
    return _render(
        supported_locale(locale),
        "Reset your MRS password",
        "Hello {first_name},\n\nSomeone (hopefully you) asked to reset the password of your "
        "account {user_id}. Open this link within {minutes} minutes to choose a new one:\n\n"
        "{link}\n\nThe link works once. If you did not ask for it, ignore this mail: your "
        "password stays as it is.\n\n— MRS",
        first_name=first_name,
        user_id=user_id,
        link=link,
        minutes=str(minutes),
    )
