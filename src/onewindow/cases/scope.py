"""Who may see and act on a case: the facts of a case the access policy needs, and the checks the flows make.

The answers come from :mod:`onewindow.core.access`; this module only describes a case to it (its handling
department, the departments of its bundle, its applicant and agent) and turns a refusal into the case's
own 403 messages.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.cases.kinds import CaseKind
from onewindow.cases.models import Case
from onewindow.core import access
from onewindow.core.access import Action, Record, Role, Viewer
from onewindow.core.errors import PermissionDenied
from onewindow.staff.models import User
from onewindow.staff.service import viewer_of


def record_of(session: Session, case: Case) -> Record:
    """A case as the access policy sees it: its departments (a bundle's include its sub-cases') and people."""
    departments: frozenset[int] = frozenset()
    if case.kind == CaseKind.BUNDLE:
        departments = frozenset(session.scalars(select(Case.department_id).where(Case.parent_id == case.id)))
    return Record(department=case.department_id, departments=departments,
                  owner_user_ids=frozenset({case.applicant_user_id}) if case.applicant_user_id else frozenset(),
                  owner_ids=frozenset({case.applicant_id}),
                  agent_user_ids=frozenset({case.agent_user_id}) if case.agent_user_id else frozenset())


def viewer(user: User) -> Viewer:
    """The access policy's view of a user."""
    return viewer_of(user)


def may(session: Session, user: User, action: Action, case: Case) -> bool:
    """True when the policy lets the user take the action on the case."""
    return access.can(viewer_of(user), action, record_of(session, case))


def require(session: Session, user: User, action: Action, case: Case) -> None:
    """403 (with the policy's reason) unless the user may take the action on the case."""
    access.require(viewer_of(user), action, record_of(session, case))


def require_perform(session: Session, user: User, action: Action, case: Case, performer: Role) -> None:
    """403 unless the user may take the action on the case and complete a step ``performer`` performs
    (a department head covers an approver's step)."""
    access.require_perform(viewer_of(user), performer, action, record_of(session, case))


def require_view(session: Session, user: User, case: Case) -> None:
    """403 unless the user may see the case."""
    if not may(session, user, Action.CASE_VIEW, case):
        raise PermissionDenied("无权查看该办件", code="case_forbidden")
