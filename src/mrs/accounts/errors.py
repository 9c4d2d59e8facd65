"""Account domain errors."""

from __future__ import annotations

from mrs.accounts.rules import PolicyViolation
from mrs.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyRequests, Unauthenticated


class InvalidCredentials(Unauthenticated):
    code = "invalid_credentials"
    message = "The user ID or password is incorrect."


class InvalidToken(Unauthenticated):
    code = "invalid_token"
    message = "Your session is not valid or has expired. Please log in again."


class UserNotFound(NotFound):
    code = "user_not_found"
    message = "User {user_id} does not exist."


class UserIdTaken(Conflict):
    code = "user_id_taken"
    field = "user_id"
    message = "The user ID {user_id} is already taken."


class EmailTaken(Conflict):
    code = "email_taken"
    field = "email"
    message = "An account with this email address already exists."


class WeakPassword(InvalidInput):
    code = "weak_password"
    message = "The password must be at least {min_length} characters long."


class AccountPending(Forbidden):
    code = "account_pending"
    message = "Your registration is waiting for an administrator's approval."


class AccountRejected(Forbidden):
    code = "account_rejected"
    message = "Your registration was not approved. Contact an administrator."


class AccountDisabled(Forbidden):
    code = "account_disabled"
    message = "Your account has been disabled. Contact an administrator."


class LoginThrottled(TooManyRequests):
    code = "login_throttled"
    message = "Too many failed logins. Try again in {retry_after} seconds."


class PasswordCheckThrottled(TooManyRequests):
    code = "password_check_throttled"
    field = "current_password"
    message = "Too many wrong passwords. Try again in {retry_after} seconds."


class RegistrationThrottled(TooManyRequests):
    code = "registration_throttled"
    message = "Too many registrations from here. Try again in {retry_after} seconds."


class PasswordResetThrottled(TooManyRequests):
    code = "password_reset_throttled"
    message = "Too many password reset requests. Try again in {retry_after} seconds."


class ResetTokenInvalid(InvalidInput):
    code = "reset_token_invalid"
    status = 400
    field = "token"
    message = "This password reset link is not valid. Ask for a new one."


class ResetTokenExpired(InvalidInput):
    code = "reset_token_expired"
    status = 410
    field = "token"
    message = "This password reset link has expired. Ask for a new one."


class ResetTokenUsed(InvalidInput):
    code = "reset_token_used"
    status = 410
    field = "token"
    message = "This password reset link has already been used or replaced by a newer one."


class RegistrationClosed(Forbidden):
    code = "registration_closed"
    message = "Self-registration is turned off. Ask an administrator for an account."


class EmailDomainNotAllowed(InvalidInput):
    code = "email_domain_not_allowed"
    message = "Registration is open only for email addresses at {domains}."


class AlreadyDecided(Conflict):
    code = "already_decided"
    message = "The registration of {user_id} has already been decided ({status})."


class InvalidUserState(Conflict):
    code = "invalid_user_state"
    message = "User {user_id} is {status}; this action is not possible."


class WrongCurrentPassword(InvalidInput):
    code = "wrong_current_password"
    message = "The current password is incorrect."


class SessionNotFound(NotFound):
    code = "session_not_found"
    message = "This session does not exist."


class AdminOnly(Forbidden):
    # The code stays "forbidden": API clients already match on it.
    message = "This page is for administrators only."


class CannotChangeOwnAccount(Conflict):
    code = "own_account"
    message = "You cannot do this to your own account."


class LastAdministrator(Conflict):
    code = "last_admin"
    message = "This is the last active administrator: make another user an administrator first."


# The form fields whose policy violations are about a password (the rest are plain input).
_PASSWORD_FIELDS = frozenset({"password", "new_password"})


def policy_error(violation: PolicyViolation, field: str) -> InvalidInput:
    """The domain error for a broken account rule, naming the form field it is about."""
    error = WeakPassword if field in _PASSWORD_FIELDS else InvalidInput
    return error(violation.msgid, details={"field": field}, **violation.params)


class GroupNotFound(NotFound):
    code = "group_not_found"
    message = "There is no group {group_id}."


class GroupNameTaken(Conflict):
    code = "group_name_taken"
    field = "name"
    message = "A group named {name} already exists."


class UnknownUsers(InvalidInput):
    code = "unknown_users"
    field = "user_ids"
    message = "These users do not exist: {user_ids}."
