"""Exchange shapes of the staff domain."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class TokenRequest(BaseModel):
    """Credentials exchanged for a bearer token."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    name: str = Field(default="api", max_length=100)


class TokenResponse(BaseModel):
    """A bearer token, shown once."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105  (OAuth2 token type, not a secret)
    expires_at: str


class Me(BaseModel):
    """The signed-in user as the API shows it (phone masked)."""

    username: str
    display_name: str
    role: str
    department: str | None
    hall: str | None
    phone: str | None


class UserIn(BaseModel):
    """A new staff account."""

    model_config = ConfigDict(extra="forbid")

    username: str
    password: str
    display_name: str
    role: str
    department: str | None = None
    hall: str | None = None
    phone: str | None = None


class PasswordChange(BaseModel):
    """One's own password change."""

    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(max_length=256)
    new_password: str = Field(max_length=256)


class PasswordReset(BaseModel):
    """A new password set by an administrator."""

    model_config = ConfigDict(extra="forbid")

    password: str = Field(max_length=256)


class TokenOut(BaseModel):
    """An API token as listed (never the token itself: only its first characters)."""

    id: int
    prefix: str
    name: str
    username: str
    created_at: str
    expires_at: str
    last_used_at: str | None
    revoked_at: str | None
    state: str


class AccountOut(BaseModel):
    """An account as the administrator manages it."""

    username: str
    display_name: str
    role: str
    is_active: bool
