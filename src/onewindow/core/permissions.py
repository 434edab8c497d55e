"""Roles, the actions each may take, and department scoping. Pure: no database, no HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from onewindow.core.errors import PermissionDenied


class Role(StrEnum):
    """The roles of DESIGN.md ("Who uses it")."""

    APPLICANT = "applicant"
    CLERK = "clerk"
    APPROVER = "approver"
    AGENT = "agent"
    DEPT_HEAD = "dept_head"
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    EXPERIENCER = "experiencer"


ROLE_LABELS: dict[Role, str] = {
    Role.APPLICANT: "申请人",
    Role.CLERK: "窗口人员",
    Role.APPROVER: "后台审批人员",
    Role.AGENT: "帮办代办员",
    Role.DEPT_HEAD: "首席代表",
    Role.ADMIN: "中心管理员",
    Role.SUPERVISOR: "电子监察",
    Role.EXPERIENCER: "体验员",
}


class Action(StrEnum):
    """Things a user may try to do; each maps to the roles allowed to do it."""

    CATALOG_VIEW_ADMIN = "catalog.view_admin"
    ITEM_EDIT = "catalog.item_edit"
    ITEM_RETIRE = "catalog.item_retire"
    BUNDLE_EDIT = "catalog.bundle_edit"
    ORG_EDIT = "catalog.org_edit"
    CALENDAR_EDIT = "calendar.edit"
    AUDIT_READ = "audit.read"
    STAFF_MANAGE = "staff.manage"
    GUIDE_EDIT = "guide.edit"
    GUIDE_ANALYTICS = "guide.analytics"


ALLOWED: dict[Action, frozenset[Role]] = {
    Action.CATALOG_VIEW_ADMIN: frozenset({Role.ADMIN, Role.DEPT_HEAD, Role.SUPERVISOR}),
    Action.ITEM_EDIT: frozenset({Role.ADMIN, Role.DEPT_HEAD}),
    Action.ITEM_RETIRE: frozenset({Role.ADMIN}),
    Action.BUNDLE_EDIT: frozenset({Role.ADMIN}),
    Action.ORG_EDIT: frozenset({Role.ADMIN}),
    Action.CALENDAR_EDIT: frozenset({Role.ADMIN}),
    Action.AUDIT_READ: frozenset({Role.ADMIN, Role.SUPERVISOR}),
    Action.STAFF_MANAGE: frozenset({Role.ADMIN}),
    Action.GUIDE_EDIT: frozenset({Role.ADMIN}),
    Action.GUIDE_ANALYTICS: frozenset({Role.ADMIN, Role.SUPERVISOR}),
}

# Roles whose reach is limited to their own department's records.
DEPARTMENT_SCOPED: frozenset[Role] = frozenset({Role.CLERK, Role.APPROVER, Role.DEPT_HEAD})


@dataclass(frozen=True)
class Principal:
    """The minimum a permission check needs to know about a signed-in user."""

    user_id: int
    role: Role
    department_id: int | None


def allowed(principal: Principal, action: Action, *, department_id: int | None = None) -> bool:
    """True when the principal's role may take the action on a record of that department."""
    if principal.role not in ALLOWED[action]:
        return False
    if principal.role in DEPARTMENT_SCOPED and department_id is not None:
        return principal.department_id == department_id
    return True


def require(principal: Principal, action: Action, *, department_id: int | None = None) -> None:
    """Raise 403 unless ``allowed``."""
    if principal.role not in ALLOWED[action]:
        raise PermissionDenied(f"角色“{ROLE_LABELS[principal.role]}”无权执行此操作")
    if not allowed(principal, action, department_id=department_id):
        raise PermissionDenied("只能管理本部门的数据", code="other_department")
