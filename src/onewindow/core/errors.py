"""Domain errors with a stable machine code, a Chinese message and the field at fault."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where, a stable code, and a reason in Chinese."""

    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """JSON shape used by the API and the CLI."""
        return {"field": self.field, "code": self.code, "message": self.message}

    def line(self) -> str:
        """One human line, for the CLI."""
        return f"{self.field}: {self.message} [{self.code}]" if self.field else f"{self.message} [{self.code}]"


class DomainError(Exception):
    """Base of every error a user can cause; the HTTP layer maps ``status`` to the response."""

    def __init__(self, *, code: str, message: str, field: str = "", status: int = 422,
                 problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.status = status
        self.problems = list(problems) if problems else [Problem(field, code, message)]


class ValidationFailed(DomainError):
    """Input that breaks a rule (HTTP 422)."""

    def __init__(self, problems: list[Problem]) -> None:
        first = problems[0]
        super().__init__(code=first.code, message=first.message, field=first.field, status=422,
                         problems=list(problems))


class NotFound(DomainError):
    """A referenced record does not exist (HTTP 404)."""

    def __init__(self, what: str, key: str, field: str = "") -> None:
        super().__init__(code="not_found", message=f"{what}不存在：{key}", field=field, status=404)


class Conflict(DomainError):
    """A write that clashes with the current state, e.g. a stale version (HTTP 409)."""

    def __init__(self, message: str, code: str = "conflict", field: str = "") -> None:
        super().__init__(code=code, message=message, field=field, status=409)


class PermissionDenied(DomainError):
    """The user is known but may not do this (HTTP 403)."""

    def __init__(self, message: str = "无权执行此操作", code: str = "forbidden") -> None:
        super().__init__(code=code, message=message, status=403)


class NotAuthenticated(DomainError):
    """No valid session or token (HTTP 401)."""

    def __init__(self, message: str = "请先登录") -> None:
        super().__init__(code="not_authenticated", message=message, status=401)
