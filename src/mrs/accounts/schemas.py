"""Account request and response models."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from mrs.accounts import groups, rules
from mrs.accounts.models import Role


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class TokenRead(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    user_id: str
    first_name: str
    last_name: str
    email: str
    role_name: str
    status: str
    created_at: datetime


class RegistrationCreate(BaseModel):
    """A self-registration. Every field is checked with a field-level message."""

    model_config = ConfigDict(extra="forbid")

    # Bounded before the rules run, so a huge value costs nothing; the rules say why.
    user_id: str = Field(max_length=64, examples=["hanako.yamada"])
    first_name: str = Field(max_length=200, examples=["Hanako"])
    last_name: str = Field(max_length=200, examples=["Yamada"])
    email: str = Field(max_length=320, examples=["hanako.yamada@example.com"])
    password: str = Field(max_length=1024, examples=["a long passphrase of your own"])

    @field_validator("user_id")
    @classmethod
    def _user_id(cls, value: str) -> str:
        return rules.check_user_id(value)

    @field_validator("first_name", "last_name")
    @classmethod
    def _name(cls, value: str) -> str:
        return rules.check_name(value)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return rules.check_email(value)

    @field_validator("password")
    @classmethod
    def _password(cls, value: str, info: ValidationInfo) -> str:
        # Fields are validated in order: user_id and email are known (when valid) here.
        return rules.check_password(
            value, user_id=info.data.get("user_id"), email=info.data.get("email")
        )


class RegistrationRead(BaseModel):
    user_id: str
    status: str


class RejectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=rules.MAX_REASON_LENGTH)


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class AdminUserRead(UserRead):
    """A user as administrators see it, with the registration decision."""

    decided_at: datetime | None
    decided_by: str | None
    decision_reason: str | None


class RoleChange(BaseModel):
    role: Role


class SessionRead(BaseModel):
    session_id: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    client_address: str | None
    user_agent: str | None
    current: bool


class EndedSessions(BaseModel):
    ended: int


class AccountStats(BaseModel):
    """Counts since `since`, read from the database (registration log, login attempts)."""

    since: datetime
    registrations_submitted: int
    registrations_invalid: int
    registrations_duplicate: int
    registration_success_rate: float | None
    registrations_approved: int
    registrations_rejected: int
    registrations_pending: int
    logins_succeeded: int
    logins_failed: int
    logins_refused: int
    logins_throttled: int
    login_success_rate: float | None


class UserLookupRead(BaseModel):
    """A person offered by the attendees type-ahead: never their email."""

    user_id: str
    display_name: str


class AdminUserListRead(AdminUserRead):
    """A user in the administrators' list, with the names of their groups."""

    groups: list[str]


GroupName = Annotated[
    str, Field(min_length=1, max_length=groups.MAX_NAME_LENGTH, examples=["Sales"])
]


def _printable(value: str) -> str:
    """Text without control characters (a NUL byte would differ between databases)."""
    if any(unicodedata.category(char).startswith("C") for char in value):
        raise ValueError("The text contains characters that are not allowed.")
    return value


GroupDescription = Annotated[
    str, Field(max_length=groups.MAX_DESCRIPTION_LENGTH), AfterValidator(_printable)
]


class GroupCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: GroupName
    description: GroupDescription = ""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        # The rule of people's names: inner runs of spaces collapsed, printable only.
        return rules.check_name(value)


class GroupUpdate(BaseModel):
    """Fields left out keep their value; neither may be null."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[
        str | None,
        WithJsonSchema({"type": "string", "minLength": 1, "maxLength": groups.MAX_NAME_LENGTH}),
    ] = Field(default=None, min_length=1, max_length=groups.MAX_NAME_LENGTH)
    description: Annotated[
        str | None,
        WithJsonSchema({"type": "string", "maxLength": groups.MAX_DESCRIPTION_LENGTH}),
    ] = Field(default=None, max_length=groups.MAX_DESCRIPTION_LENGTH)

    @field_validator("name", "description")
    @classmethod
    def _not_null(cls, value: str | None, info: ValidationInfo) -> str:
        if value is None:
            raise ValueError("This field cannot be empty.")
        return rules.check_name(value) if info.field_name == "name" else _printable(value)


class GroupMembersWrite(BaseModel):
    """The group's complete member list (user ids); it replaces the current one."""

    model_config = ConfigDict(extra="forbid")

    # The characters a user id can have (any case): others cannot name a user.
    user_ids: list[Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]] = Field(
        max_length=groups.MAX_MEMBERS
    )


class GroupRead(BaseModel):
    group_id: int
    name: str
    description: str
    created_at: datetime
    member_count: int


class GroupDetailRead(GroupRead):
    member_ids: list[str]
