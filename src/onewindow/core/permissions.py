"""Transitional alias of :mod:`onewindow.core.access` for modules not yet moved to it (removed once they are)."""

from __future__ import annotations

from onewindow.core.access import ROLE_LABELS, Action, Record, Role, Scope, Viewer, can
from onewindow.core.access import require as _require

Principal = Viewer

__all__ = ["ROLE_LABELS", "Action", "Principal", "Role", "allowed", "require"]


def allowed(principal: Viewer, action: Action, *, department_id: int | None = None) -> bool:
    """``access.can`` on a record handled by ``department_id`` (any record when None)."""
    return can(principal, action, Record(department=department_id) if department_id is not None else None)


def require(principal: Viewer, action: Action, *, department_id: int | None = None) -> None:
    """``access.require`` on a record handled by ``department_id`` (any record when None)."""
    _require(principal, action, Record(department=department_id) if department_id is not None else None)


_ = Scope
