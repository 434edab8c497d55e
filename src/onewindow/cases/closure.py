"""Closing flow: withdrawal by the applicant, termination (a 容缺 deadline passed, a false 告知承诺) with the
revocation of a licence already issued, and 容缺 materials supplied later.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from onewindow.cases import scope
from onewindow.cases.decisions import complete_parent
from onewindow.cases.delivery import record_visit
from onewindow.cases.kinds import CaseKind, VisitKind
from onewindow.cases.materials import settle_deferred
from onewindow.cases.models import (
    Case,
)
from onewindow.cases.queries import sub_cases
from onewindow.cases.rules import MaterialStatus
from onewindow.cases.schedule import refresh
from onewindow.cases.scope import require_view
from onewindow.cases.states import (
    DECIDED,
    CaseState,
    allowed_targets,
    check_transition,
    is_withdrawable,
)
from onewindow.cases.transitions import TEXT_MAX, lock, move, require_current_authorization, touch
from onewindow.certificates import service as certificates
from onewindow.certificates.models import Certificate
from onewindow.core.access import Action
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock, today
from onewindow.core.errors import Conflict, NotFound, PermissionDenied, Problem, ValidationFailed
from onewindow.core.validation import clean_line
from onewindow.staff.models import User
from onewindow.staff.service import actor_of

S = CaseState


def withdraw(session: Session, *, clock: Clock, user: User, case_id: int, expected_version: int | None,
             reason: str) -> Case:
    """The applicant (or a clerk for them) withdraws before a decision; sub-cases go with the bundle."""
    case = lock(session, case_id, expected_version)
    require_view(session, user, case)
    if not scope.may(session, user, Action.CASE_WITHDRAW, case):
        raise PermissionDenied("只有申请人（或窗口人员代为办理）可以撤回申请", code="case_forbidden")
    require_current_authorization(session, user, case, today(clock))
    if case.kind == CaseKind.SUB:
        raise Conflict("一件事的分件不能单独撤回，请撤回整件", code="sub_case")
    if not is_withdrawable(S(case.state)):
        check_transition(case.state, S.WITHDRAWN)
    text = clean_line(reason, TEXT_MAX) or "申请人主动撤回"
    decided = [sub.title for sub in sub_cases(session, case.id) if S(sub.state) in DECIDED]
    if decided:
        raise Conflict(f"已有分件办结（{'、'.join(decided)}），不能撤回整件", code="sub_cases_decided")
    case.closed_reason = text
    actor = actor_of(user)
    for sub in sub_cases(session, case.id):
        if is_withdrawable(S(sub.state)):
            sub.closed_reason = text
            move(session, sub, S.WITHDRAWN, clock=clock, actor=actor, kind="withdrawn", note=text)
    move(session, case, S.WITHDRAWN, clock=clock, actor=actor, kind="withdrawn", note=text)
    refresh(session, [case, *sub_cases(session, case.id)], clock=clock)
    return case


def _revoke_result(session: Session, *, clock: Clock, actor: Actor, case: Case, reason: str) -> None:
    cert = session.get(Certificate, case.result_certificate_id) if case.result_certificate_id else None
    if cert is not None and cert.status == "valid":
        certificates.revoke_certificate(session, clock=clock, actor=actor, certificate_id=cert.id,
                                        reason=f"办件 {case.number} 终止：{reason}"[:TEXT_MAX])


def terminate(session: Session, *, clock: Clock, actor: Actor, case: Case, reason: str, basis: str = "") -> None:
    """终止: a 容缺 deadline passed or a false 告知承诺 was found; sub-cases go with their bundle, and a
    licence already issued on the case is revoked."""
    case.closed_reason, case.closed_basis = reason, basis
    _revoke_result(session, clock=clock, actor=actor, case=case, reason=reason)
    for sub in sub_cases(session, case.id):
        if S.TERMINATED in allowed_targets(S(sub.state)):
            sub.closed_reason = reason
            _revoke_result(session, clock=clock, actor=actor, case=sub, reason=reason)
            move(session, sub, S.TERMINATED, clock=clock, actor=actor, kind="terminated", note=reason)
    move(session, case, S.TERMINATED, clock=clock, actor=actor, kind="terminated", note=reason, data={"basis": basis})
    refresh(session, [case, *sub_cases(session, case.id)], clock=clock)
    if case.parent_id is not None:  # one sub-case ended on its own (e.g. a false 告知承诺): the bundle may be done
        complete_parent(session, clock=clock, actor=actor, parent_id=case.parent_id)


# while 容缺 materials may still come in (the result is held back until they do)
SUPPLY_STATES = frozenset({S.ACCEPTED, S.IN_REVIEW, S.SUSPENDED, S.APPROVED, S.DENIED})


def deferred_uploads_open(case: Case) -> bool:
    """The applicant may upload the case's outstanding 容缺 materials online now (网上补交)."""
    return case.deferred and S(case.state) in SUPPLY_STATES


def supply_deferred(session: Session, *, clock: Clock, user: User, case_id: int, expected_version: int | None,
                    keys: Sequence[str], status: str = "paper") -> Case:
    """容缺 materials handed in (on the case or, for a bundle, any of its cases): when none is left the result
    may be delivered."""
    case = lock(session, case_id, expected_version)
    scope.require(session, user, Action.CASE_INTAKE, case)
    root = session.get(Case, case.parent_id) if case.parent_id else case
    if root is None:
        raise NotFound("办件", str(case.parent_id))
    if not root.deferred:
        raise Conflict("该办件没有待补交的容缺材料", code="nothing_deferred")
    if S(root.state) not in SUPPLY_STATES:
        raise Conflict("办件已结束，不能补交材料", code="case_closed")
    if status not in (MaterialStatus.PAPER.value, MaterialStatus.ELECTRONIC.value):
        raise ValidationFailed([Problem("status", "invalid_material_status", "补交方式应为纸质或电子")])
    if not deferred_supplied(session, clock=clock, user=user, root=root, keys=set(keys), status=status,
                             in_person=True):
        raise ValidationFailed([Problem("keys", "not_deferred", "所选材料不是待补交的容缺材料")])
    return root


def deferred_supplied(session: Session, *, clock: Clock, user: User, root: Case, keys: set[str], status: str,
                      in_person: bool, upload_id: int | None = None) -> bool:
    """容缺 materials came in, at a window (``in_person``: a visit, 跑动) or uploaded online by the applicant (no
    visit): settled on the case and its sub-cases alike, and the timeline says so. False when none was deferred."""
    if not settle_deferred(session, root, keys, status, clock, upload_id=upload_id):
        return False
    if in_person:
        record_visit(session, clock=clock, user=user, case=root, kind=VisitKind.SUPPLEMENT)
    touch(session, root, clock=clock, actor=actor_of(user), kind="deferred_supplied",
          note="容缺材料已补齐" if not root.deferred else "补交部分容缺材料",
          data={"keys": sorted(keys), "online": not in_person})
    return True
