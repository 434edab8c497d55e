"""Delivery flow: the result goes out (window pickup, mail, electronic; a bundle at once), mail receipt,
archiving, and in-person visits (跑动) with the 一次办结 measure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.cases import scope, visits
from onewindow.cases.kinds import CaseKind, Decision, DeliveryMethod, VisitKind
from onewindow.cases.models import (
    Case,
    CaseDelivery,
    CaseVisit,
)
from onewindow.cases.queries import sub_cases
from onewindow.cases.states import (
    CaseState,
    allowed_targets,
    check_transition,
)
from onewindow.cases.transitions import TEXT_MAX, lock, move, touch
from onewindow.catalog import service as catalog_service
from onewindow.core.access import Action
from onewindow.core.clock import Clock, today
from onewindow.core.errors import Conflict, Problem, ValidationFailed
from onewindow.core.validation import clean_line
from onewindow.queue.models import Ticket, TicketCase
from onewindow.staff.models import User
from onewindow.staff.service import actor_of

S = CaseState


def _require_deliver(session: Session, user: User, case: Case) -> None:
    """Center staff deliver and archive any case; a department only its own (the access policy's reach)."""
    scope.require(session, user, Action.CASE_DELIVER, case)


DELIVERY_METHODS = {m.value: m.label for m in DeliveryMethod}


@dataclass(frozen=True)
class DeliveryIn:
    """How the result goes out."""

    method: str
    picked_up_by: str = ""
    address: str = ""
    recipient: str = ""
    courier: str = ""
    tracking_number: str = ""
    ticket_id: int | None = None


def deliver(session: Session, *, clock: Clock, user: User, case_id: int, expected_version: int | None,
            data: DeliveryIn) -> Case:
    """Deliver the decision; a bundle delivers all its sub-cases at once (结果统一送达)."""
    case = lock(session, case_id, expected_version)
    _require_deliver(session, user, case)
    if case.kind == CaseKind.SUB:
        raise Conflict("一件事的结果由主件统一送达", code="sub_case")
    check_transition(case.state, S.DELIVERED)
    family = [case, *sub_cases(session, case.id)]
    if case.decision != Decision.DENIED and any(c.deferred for c in family):  # a denial is served: nothing to hold back
        raise Conflict("容缺材料尚未补齐，办理结果暂不送达", code="deferred_outstanding")
    problems: list[Problem] = []
    if data.method not in DELIVERY_METHODS:
        problems.append(Problem("method", "invalid_method", "送达方式应为窗口领取、邮寄或电子送达"))
    if data.method == DeliveryMethod.PICKUP and not clean_line(data.picked_up_by, TEXT_MAX):
        problems.append(Problem("picked_up_by", "required", "请填写领取人"))
    if data.method == DeliveryMethod.MAIL:
        for name, label in (("address", "邮寄地址"), ("recipient", "收件人"), ("courier", "快递公司"),
                            ("tracking_number", "快递单号")):
            if not clean_line(getattr(data, name), TEXT_MAX):
                problems.append(Problem(name, "required", f"请填写{label}"))
    if problems:
        raise ValidationFailed(problems)
    now = clock.now()
    session.add(CaseDelivery(case_id=case.id, method=data.method, picked_up_by=clean_line(data.picked_up_by, 64),
                             address=clean_line(data.address, 200), recipient=clean_line(data.recipient, 64),
                             courier=clean_line(data.courier, 40), tracking_number=clean_line(data.tracking_number, 40),
                             delivered_on=today(clock) if data.method != DeliveryMethod.MAIL else None,
                             recorded_by=user.id, recorded_at=now))
    if data.method == DeliveryMethod.PICKUP:
        record_visit(session, clock=clock, user=user, case=case, kind=VisitKind.PICKUP, ticket_id=data.ticket_id)
    actor = actor_of(user)
    for c in family:
        if S(c.state) in (S.APPROVED, S.DENIED):
            c.delivered_at = now
            move(session, c, S.DELIVERED, clock=clock, actor=actor, kind="delivered",
                 note=DELIVERY_METHODS[data.method], data={"method": data.method,
                                                           "tracking_number": data.tracking_number or None})
    return case


def confirm_mail_delivered(session: Session, *, clock: Clock, user: User, case_id: int, on: dt.date,
                           expected_version: int | None = None) -> Case:
    """Record the day the courier delivered a mailed result."""
    case = lock(session, case_id, expected_version)
    _require_deliver(session, user, case)
    delivery = session.scalars(select(CaseDelivery).where(CaseDelivery.case_id == case.id)).first()
    if delivery is None or delivery.method != DeliveryMethod.MAIL:
        raise Conflict("该办件不是邮寄送达", code="not_mail")
    if on > today(clock) or (case.delivered_at is not None and on < case.delivered_at.date()):
        raise ValidationFailed([Problem("delivered_on", "invalid_date", "签收日期应在寄出之后、今天之前")])
    delivery.delivered_on = on
    touch(session, case, clock=clock, actor=actor_of(user), kind="mail_delivered", note=f"{on:%Y-%m-%d} 签收")
    return case


def archive(session: Session, *, clock: Clock, user: User, case_id: int, expected_version: int | None) -> Case:
    """归档 a finished case (and its sub-cases)."""
    case = lock(session, case_id, expected_version)
    _require_deliver(session, user, case)
    check_transition(case.state, S.ARCHIVED)
    actor = actor_of(user)
    for sub in sub_cases(session, case.id):
        if S.ARCHIVED in allowed_targets(S(sub.state)):
            move(session, sub, S.ARCHIVED, clock=clock, actor=actor, kind="archived")
    move(session, case, S.ARCHIVED, clock=clock, actor=actor, kind="archived")
    return case


def record_visit(session: Session, *, clock: Clock, user: User, case: Case, kind: VisitKind,
                 ticket_id: int | None = None) -> CaseVisit | None:
    """An in-person interaction (跑动); one per ticket, and the queue's ticket ↔ case link is kept too."""
    root = (session.get(Case, case.parent_id) if case.parent_id else None) or case
    if ticket_id is not None:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            raise ValidationFailed([Problem("ticket_id", "unknown_ticket", "号票不存在")])
        if session.scalars(select(CaseVisit).where(CaseVisit.case_id == root.id,
                                                   CaseVisit.ticket_id == ticket_id)).first():
            return None
        if not session.scalars(select(TicketCase).where(TicketCase.ticket_id == ticket_id,
                                                        TicketCase.case_number == root.number)).first():
            session.add(TicketCase(ticket_id=ticket_id, case_number=root.number, linked_at=clock.now(),
                                   linked_by=user.id))
    visit = CaseVisit(case_id=root.id, at=clock.now(), kind=kind, hall_id=user.hall_id, ticket_id=ticket_id,
                      recorded_by=user.id)
    session.add(visit)
    session.flush()
    return visit


def visit_count(session: Session, case: Case) -> int:
    """跑动次数 (:func:`visits.count_visits`): the case's in-person visits and the tickets the queue linked to it by
    number, one per ticket. Online supply of 容缺 materials and mail or electronic delivery record no visit."""
    root_id = case.parent_id or case.id
    root = session.get(Case, root_id) or case
    rows = session.execute(select(CaseVisit.kind, CaseVisit.ticket_id).where(CaseVisit.case_id == root_id)).all()
    linked = session.scalars(select(TicketCase.ticket_id).where(TicketCase.case_number == root.number))
    return visits.count_visits([visits.Visit(kind, ticket) for kind, ticket in rows], linked)


def promised_visits(session: Session, case: Case) -> int:
    """The item's 到现场次数 promise (a bundle: the most any member promises; 一件事一次办 makes that one)."""
    root = (session.get(Case, case.parent_id) if case.parent_id else None) or case
    if root.item_version is not None:
        return root.item_version.max_visits
    if root.bundle is not None:
        pairs = catalog_service.items_by_codes(session, [m.item.code for m in root.bundle.members])
        return max((v.max_visits for _i, v in pairs), default=1)
    return 1


def visit_line(session: Session, case: Case) -> str:
    """本件已跑动 N 次，承诺最多跑一次 (the case page and the applicant's case page)."""
    return visits.visit_line(visit_count(session, case), promised_visits(session, case))


def one_visit(session: Session, case: Case) -> bool | None:
    """一次办结: completed with at most one visit; None while the case is not completed."""
    if S(case.state) not in (S.DELIVERED, S.ARCHIVED, S.APPROVED, S.DENIED):
        return None
    return visit_count(session, case) <= 1
