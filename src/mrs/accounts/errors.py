"""Account domain errors."""

from __future__ import annotations

from mrs.errors import Conflict, InvalidInput, NotFound, Unauthenticated


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
    message = "The user ID {user_id} is already taken."


class EmailTaken(Conflict):
    code = "email_taken"
    message = "An account with this email address already exists."


class WeakPassword(InvalidInput):
    code = "weak_password"
    message = "The password must be at least {min_length} characters long."
