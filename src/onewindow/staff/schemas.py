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
