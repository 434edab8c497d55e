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
    QUEUE_OPERATE = "queue.operate"
    QUEUE_METRICS = "queue.metrics"
    QUEUE_SETTINGS = "queue.settings"
    POLICY_VIEW = "policies.view"
    POLICY_EDIT = "policies.edit"
    ENTITY_VIEW = "policies.entity_view"
    ENTITY_WRITE = "policies.entity_write"
    GRANT_OFFER = "policies.grant_offer"
    GRANT_CONFIRM_AT_WINDOW = "policies.grant_confirm"
    GRANT_VIEW = "policies.grant_view"
    GRANT_APPROVE = "policies.grant_approve"
    CERTIFICATE_LOOKUP = "certificates.lookup"
    CERTIFICATE_REVOKE = "certificates.revoke"
    CASE_INTAKE = "cases.intake"
    CASE_APPLY = "cases.apply"
    CASE_REVIEW = "cases.review"
    CASE_EXTENSION_DECIDE = "cases.extension_decide"
    CASE_DELIVER = "cases.deliver"
    CASE_SUPERVISE = "cases.supervise"
    AGENT_AUTHORIZE = "cases.agent_authorize"


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
    # window work (签到, 叫号, 办结): staff who sit at windows; the window itself checks qualifications
    Action.QUEUE_OPERATE: frozenset({Role.CLERK, Role.AGENT, Role.DEPT_HEAD, Role.ADMIN}),
    Action.QUEUE_METRICS: frozenset({Role.ADMIN, Role.SUPERVISOR, Role.DEPT_HEAD}),
    Action.QUEUE_SETTINGS: frozenset({Role.ADMIN}),
    Action.POLICY_VIEW: frozenset({Role.ADMIN, Role.SUPERVISOR, Role.DEPT_HEAD, Role.APPROVER}),
    Action.POLICY_EDIT: frozenset({Role.ADMIN}),
    # the clerk opens an applicant's "policies for me" page at the window; the center's roles read it
    Action.ENTITY_VIEW: frozenset({Role.ADMIN, Role.SUPERVISOR, Role.CLERK, Role.APPROVER, Role.DEPT_HEAD}),
    Action.ENTITY_WRITE: frozenset({Role.ADMIN}),
    Action.GRANT_OFFER: frozenset({Role.ADMIN}),
    Action.GRANT_CONFIRM_AT_WINDOW: frozenset({Role.CLERK, Role.ADMIN}),
    Action.GRANT_VIEW: frozenset({Role.ADMIN, Role.SUPERVISOR, Role.DEPT_HEAD, Role.APPROVER}),
    Action.GRANT_APPROVE: frozenset({Role.APPROVER, Role.DEPT_HEAD}),
    # 电子证照: staff at intake and in approval look a holder's certificates up; only the center revokes
    Action.CERTIFICATE_LOOKUP: frozenset({Role.CLERK, Role.APPROVER, Role.ADMIN}),
    Action.CERTIFICATE_REVOKE: frozenset({Role.ADMIN}),
    # 无差别受理: a window clerk accepts for any department (the item's hall category qualification is
    # checked by the service); agents apply for the applicants who authorised them
    Action.CASE_INTAKE: frozenset({Role.CLERK, Role.ADMIN}),
    Action.CASE_APPLY: frozenset({Role.APPLICANT, Role.AGENT}),
    # review and decision: the handling department (scoped)
    Action.CASE_REVIEW: frozenset({Role.APPROVER, Role.DEPT_HEAD}),
    Action.CASE_EXTENSION_DECIDE: frozenset({Role.DEPT_HEAD}),
    Action.CASE_DELIVER: frozenset({Role.CLERK, Role.APPROVER, Role.DEPT_HEAD, Role.ADMIN}),
    Action.CASE_SUPERVISE: frozenset({Role.ADMIN, Role.SUPERVISOR, Role.DEPT_HEAD}),
    Action.AGENT_AUTHORIZE: frozenset({Role.CLERK, Role.ADMIN, Role.APPLICANT}),
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
