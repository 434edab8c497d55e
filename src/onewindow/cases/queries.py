"""Read models of cases: lookups by id and number, sub-cases, the timeline, work lists (inbox, pre-check
queue, an applicant's cases, search), public tracking, and who may view a case. Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, defaultload, lazyload

from onewindow.cases.kinds import CaseKind, StepStatus
from onewindow.cases.models import (
    Case,
    CaseEvent,
)
from onewindow.cases.numbers import format_case_number, parse_case_number
from onewindow.cases.states import (
    CaseState,
)
from onewindow.catalog.models import ItemVersion
from onewindow.certificates import service as certificates
from onewindow.core import access
from onewindow.core.access import Action, Scope
from onewindow.core.errors import NotFound, PermissionDenied, Problem, ValidationFailed
from onewindow.staff.models import User
from onewindow.staff.service import viewer_of

S = CaseState


def get_case(session: Session, case_id: int) -> Case:
    """A case by id (404 when unknown)."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("办件", str(case_id))
    return case


def case_by_number(session: Session, number: str, *, field: str = "case_number") -> Case:
    """A case by its number as a person typed it (format and check digit verified first)."""
    day, seq = parse_case_number(number, field=field)
    canonical = format_case_number(day, seq)
    case = session.scalars(select(Case).where(Case.number == canonical)).first()
    if case is None:
        raise NotFound("办件", canonical)
    return case


def sub_cases(session: Session, parent_id: int) -> list[Case]:
    """The sub-cases of a bundle case, in bundle order."""
    return list(session.scalars(select(Case).where(Case.parent_id == parent_id).order_by(Case.id)))


def timeline(session: Session, case: Case) -> list[CaseEvent]:
    """Every event of the case in order."""
    return list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)))


OPEN_STATES = (S.SUBMITTED.value, S.CORRECTION_REQUESTED.value, S.ACCEPTED.value, S.IN_REVIEW.value,
               S.SUSPENDED.value, S.APPROVED.value, S.DENIED.value)


# Lists show columns of the case and the names of its item and department: the checklist, the steps and the
# item version's materials are not loaded for them (one query per list, plus the joined lookups).
LIST_OPTIONS = (lazyload(Case.materials), lazyload(Case.steps),
                defaultload(Case.item_version).lazyload(ItemVersion.materials))


def inbox(session: Session, *, user: User, limit: int = 200) -> list[Case]:
    """An approver's work: open cases and sub-cases of the department, soonest promised date first."""
    access.require(viewer_of(user), Action.CASE_REVIEW)
    q = (select(Case).where(Case.department_id == user.department_id, Case.kind != CaseKind.BUNDLE,
                            Case.state.in_((S.ACCEPTED.value, S.IN_REVIEW.value, S.SUSPENDED.value)))
         .order_by(Case.promised_due.asc(), Case.id).limit(limit).options(*LIST_OPTIONS))
    return list(session.scalars(q))


def precheck_queue(session: Session, *, limit: int = 200) -> list[Case]:
    """Online applications waiting for a clerk's pre-check, oldest first."""
    return list(session.scalars(select(Case).where(Case.state == S.SUBMITTED.value, Case.kind != CaseKind.SUB)
                                .order_by(Case.submitted_at, Case.id).limit(limit).options(*LIST_OPTIONS)))


def my_cases(session: Session, *, user: User, limit: int = 100) -> list[Case]:
    """The signed-in applicant's own cases, or the cases an agent filed for the applicants who authorised them."""
    viewer = viewer_of(user)
    if not access.can(viewer, Action.CASE_APPLY):
        raise PermissionDenied("“我的办件”仅供申请人和帮办代办员使用")
    if access.acts_for_others(viewer.role):
        return cases_of_applicant(session, applicant_id=None, agent_user_id=user.id, limit=limit)
    return cases_of_applicant(session, applicant_id=user.id_number, user_id=user.id, limit=limit)


def cases_of_applicant(session: Session, *, applicant_id: str | None, user_id: int | None = None,
                       agent_user_id: int | None = None, limit: int = 100) -> list[Case]:
    """An applicant's (or an agent's) cases, newest first; sub-cases show under their bundle."""
    conds = []
    if applicant_id:
        conds.append(Case.applicant_id == applicant_id)
    if user_id is not None:
        conds.append(Case.applicant_user_id == user_id)
    if agent_user_id is not None:
        conds.append(Case.agent_user_id == agent_user_id)
    if not conds:
        return []
    return list(session.scalars(select(Case).where(or_(*conds), Case.kind != CaseKind.SUB)
                                .order_by(Case.created_at.desc(), Case.id.desc()).limit(limit)
                                .options(*LIST_OPTIONS)))


def search_cases(session: Session, *, user: User, state: str | None = None, department_id: int | None = None,
                 warning: str | None = None, limit: int = 100, offset: int = 0) -> list[Case]:
    """Cases a user may list (the access policy's reach: the center all, a department its own); filters by state
    and warning."""
    viewer = viewer_of(user)
    reach = access.list_scope(viewer, Action.CASE_SEARCH)
    if reach is None:
        raise PermissionDenied("无权查看办件列表", code="case_forbidden")
    q = select(Case)
    if reach is not Scope.ALL:
        q = q.where(Case.department_id == viewer.department_id)
    if state:
        q = q.where(Case.state == state)
    if department_id is not None:
        q = q.where(Case.department_id == department_id)
    if warning:
        q = q.where(Case.warning == warning)
    return list(session.scalars(q.order_by(Case.created_at.desc(), Case.id.desc()).limit(limit).offset(offset)
                                .options(*LIST_OPTIONS)))


@dataclass(frozen=True)
class PublicStatus:
    """What the public tracking page shows: nothing personal beyond a masked name."""

    number: str
    title: str
    state: CaseState
    department: str
    applicant: str
    accepted_on: dt.date | None
    promised_due: dt.date | None
    decided_on: dt.date | None
    steps: tuple[tuple[str, str], ...]
    remaining: str = ""  # the remaining time as the case page says it (filled in by service.track)


def track(session: Session, *, number: str, id_last4: str) -> PublicStatus:
    """Public tracking by case number + the last 4 characters of the applicant's ID; one answer for all misses."""
    tail = (id_last4 or "").strip().upper()
    if len(tail) != 4:
        raise ValidationFailed([Problem("id_last4", "invalid_tail", "请输入申请人证件号码后 4 位")])
    try:
        case = case_by_number(session, number)
    except NotFound:
        case = None
    if case is None or not case.applicant_id.upper().endswith(tail):
        raise NotFound("与办件编号和证件号码后 4 位相符的办件", number.strip()[:20], field="number")
    steps = tuple((s.name, StepStatus(s.status).label) for s in case.steps)
    return PublicStatus(case.number, case.title, S(case.state), case.department.name,
                        certificates.mask_name(case.applicant_name), case.accepted_on, case.promised_due,
                        case.decided_on, steps)
