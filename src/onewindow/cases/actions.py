"""What can be done to a case now, and by whom: the case page's action forms and the API's ``allowed_actions``.

Each action names the access policy's action (who, how far) and the workflow condition under which it is
offered (the case's state and facts). Both are asked here once; the page, the API and the tests read the same
answer, and the service functions check again when the action is posted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.cases import service
from onewindow.cases.kinds import CaseKind, ExtensionStatus
from onewindow.cases.models import Case, CaseExtension
from onewindow.cases.states import CaseState, allowed_targets
from onewindow.core import access
from onewindow.core.access import Action
from onewindow.staff.models import User

S = CaseState


@dataclass(frozen=True)
class CaseAction:
    """One action on a case: its label, the policy actions that allow it (any of), and when it is offered."""

    label: str
    permissions: tuple[Action, ...]
    target: CaseState | None  # the state the move needs to be allowed to, if any
    when: Callable[[Case, Session], bool]
    instant_permissions: tuple[Action, ...] = ()  # further grants on an instant item (即办件)

    def granted_by(self, case: Case) -> tuple[Action, ...]:
        """The policy actions any of which allows this action on the case."""
        return self.permissions + (self.instant_permissions if _instant(case) else ())


def _has_pending_extension(case: Case, session: Session) -> bool:
    return session.scalars(select(CaseExtension.id).where(CaseExtension.case_id == case.id,
                                                          CaseExtension.status == ExtensionStatus.REQUESTED)
                           ).first() is not None


def _instant(case: Case) -> bool:
    return case.item_version is not None and case.item_version.instant


REVIEW_STATES = frozenset({S.ACCEPTED.value, S.IN_REVIEW.value})
SUPPLY_STATES = frozenset({S.ACCEPTED.value, S.IN_REVIEW.value, S.SUSPENDED.value, S.APPROVED.value, S.DENIED.value})
OPEN_CLOCK_STATES = frozenset({S.ACCEPTED.value, S.IN_REVIEW.value, S.SUSPENDED.value})

ACTIONS: dict[str, CaseAction] = {
    "precheck": CaseAction("网上预审", (Action.CASE_INTAKE,), S.ACCEPTED,
                           lambda c, _s: c.state == S.SUBMITTED.value and c.kind != CaseKind.SUB),
    "resubmit": CaseAction("补正材料（窗口）", (Action.CASE_INTAKE,), S.ACCEPTED,
                           lambda c, _s: c.state == S.CORRECTION_REQUESTED.value and c.kind != CaseKind.SUB),
    "opinion": CaseAction("审查意见", (Action.CASE_REVIEW,), None,
                          lambda c, _s: c.kind != CaseKind.BUNDLE and c.state in REVIEW_STATES
                          and bool(service.opinion_steps(c))),
    # 即办件: also decided at the window in the same visit
    "decide": CaseAction("作出决定", (Action.CASE_DECIDE,), S.APPROVED, lambda c, _s: service.ready_for_decision(c),
                         instant_permissions=(Action.CASE_DECIDE_INSTANT,)),
    "suspend": CaseAction("特别程序（暂停计时）", (Action.CASE_REVIEW,), S.SUSPENDED,
                          lambda c, _s: c.kind != CaseKind.BUNDLE),
    "resume": CaseAction("恢复计时", (Action.CASE_REVIEW,), S.IN_REVIEW,
                         lambda c, _s: c.state == S.SUSPENDED.value),
    "extension": CaseAction("申请延期", (Action.CASE_REVIEW,), None,
                            lambda c, _s: c.kind != CaseKind.BUNDLE and c.state in OPEN_CLOCK_STATES),
    "extension-decide": CaseAction("审批延期", (Action.CASE_EXTENSION_DECIDE,), None, _has_pending_extension),
    "verify": CaseAction("事后核查（告知承诺）", (Action.CASE_REVIEW,), S.TERMINATED,
                         lambda c, _s: c.commitment and c.verified_at is None and c.kind != CaseKind.BUNDLE),
    "supply": CaseAction("补交容缺材料", (Action.CASE_INTAKE,), None,
                         lambda c, _s: c.deferred and c.state in SUPPLY_STATES),
    "deliver": CaseAction("送达办理结果", (Action.CASE_DELIVER,), S.DELIVERED,
                          lambda c, s: c.kind != CaseKind.SUB
                          and not any(x.deferred for x in [c, *service.sub_cases(s, c.id)])),
    "archive": CaseAction("归档", (Action.CASE_DELIVER,), S.ARCHIVED, lambda c, _s: True),
    "withdraw": CaseAction("撤回申请", (Action.CASE_WITHDRAW,), S.WITHDRAWN,
                           lambda c, _s: c.kind != CaseKind.SUB),
}


def allowed_actions(session: Session, user: User, case: Case) -> list[str]:
    """The actions the user may take on the case now (the access policy's answer within what the state allows)."""
    record = service.record_of(session, case)
    viewer = service.viewer(user)
    targets = allowed_targets(CaseState(case.state))
    out = []
    for name, act in ACTIONS.items():
        if act.target is not None and act.target not in targets:
            continue
        if not any(access.can(viewer, p, record) for p in act.granted_by(case)):
            continue
        if act.when(case, session):
            out.append(name)
    return out
