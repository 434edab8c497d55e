"""Review flow of the handling department: opinions on the review steps, the decision (准予 / 不予许可),
特别程序 suspension and resumption, extensions (延期), and 事后核查 of a 告知承诺 case.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.cases import scope
from onewindow.cases.closure import terminate
from onewindow.cases.decisions import record_decision
from onewindow.cases.kinds import CaseKind, ExtensionStatus, StepOutcome, StepStatus
from onewindow.cases.models import (
    Case,
    CaseExtension,
    CaseStep,
    CaseSuspension,
)
from onewindow.cases.procedure import decision_index, procedure_of_case, step_rules
from onewindow.cases.schedule import recompute_deadlines, refresh, work_calendar
from onewindow.cases.states import (
    CaseState,
    check_transition,
)
from onewindow.cases.transitions import TEXT_MAX, lock, move, reason_and_basis, touch
from onewindow.catalog.procedure import StepKind, SuspensionKind
from onewindow.core import access
from onewindow.core.access import Action
from onewindow.core.clock import Clock, today
from onewindow.core.errors import Conflict, NotFound, PermissionDenied, Problem, ValidationFailed
from onewindow.core.validation import clean_line
from onewindow.queue.models import StaffQualification
from onewindow.staff.models import User
from onewindow.staff.service import actor_of, viewer_of

S = CaseState


def _not_bundle(case: Case) -> None:
    if case.kind == CaseKind.BUNDLE:
        raise Conflict("一件事主件没有自己的审查流程，请在分件上操作", code="bundle_parent")


def _review_steps_left(case: Case) -> list[CaseStep]:
    """Steps before the decision still to do; a step whose rule is ``optional`` (（必要时）) may be skipped."""
    rules = step_rules(case)
    return [s for i, s in enumerate(case.steps[1:decision_index(case)], start=1)
            if s.status == StepStatus.PENDING and not rules[i].optional]


def _opinion_steps(case: Case) -> list[CaseStep]:
    """Steps before the decision that may take an opinion (optional ones included)."""
    return [s for s in case.steps[1:decision_index(case)] if s.status == StepStatus.PENDING]


def _previous_person(case: Case, index: int) -> int | None:
    """Who did the nearest step before ``index`` that someone did (skipped steps were done by nobody)."""
    for step in reversed(case.steps[:index]):
        if step.status == StepStatus.DONE and step.outcome != StepOutcome.SKIPPED and step.done_by is not None:
            return step.done_by
    return None


def _require_performer(session: Session, user: User, case: Case, index: int, action: Action) -> None:
    """The step's performer (or a role covering it) completes it, and 审批分离: not the previous step's person
    when the step is marked ``distinct_from_previous`` (or it is the decision and the procedure separates duties)."""
    procedure = procedure_of_case(case)
    rule = step_rules(case)[index]
    scope.require_perform(session, user, action, case, rule.performer)
    separate = rule.distinct_from_previous or (procedure.separation_of_duties and rule.kind is StepKind.DECIDE)
    if separate and _previous_person(case, index) == user.id:
        raise Conflict(f"审批分离：“{case.steps[index].name}”环节不能由办理上一环节的同一人办理",
                       code="same_person", field="user")


def opinion_steps(case: Case) -> list[CaseStep]:
    """The review steps still open before the decision, in order (the next opinion completes the first)."""
    return _opinion_steps(case)


def ready_for_decision(case: Case) -> bool:
    """True when every required review step before the decision is done (or the item is instant)."""
    if case.kind == CaseKind.BUNDLE or S(case.state) not in (S.ACCEPTED, S.IN_REVIEW):
        return False
    return not _review_steps_left(case) or (case.item_version is not None and case.item_version.instant)


def record_opinion(session: Session, *, clock: Clock, user: User, case_id: int, expected_version: int | None,
                   opinion: str, agree: bool = True) -> Case:
    """Complete the next review step (审核 …) with an opinion; the case enters ``in_review``."""
    case = lock(session, case_id, expected_version)
    scope.require(session, user, Action.CASE_REVIEW, case)
    text = clean_line(opinion, TEXT_MAX)
    if not text:
        raise ValidationFailed([Problem("opinion", "opinion_required", "请填写审查意见")])
    if case.state == S.SUSPENDED.value:
        raise Conflict("办件处于特别程序（暂停计时）中，请先恢复计时再审查", code="case_suspended", field="state")
    if case.state not in (S.ACCEPTED.value, S.IN_REVIEW.value):
        check_transition(case.state, S.IN_REVIEW)
    pending = _opinion_steps(case)
    if not pending:
        raise Conflict("审查环节已完成，请作出准予或不予许可的决定", code="decision_step", field="opinion")
    step = pending[0]
    _require_performer(session, user, case, case.steps.index(step), Action.CASE_REVIEW)
    step.status, step.opinion = StepStatus.DONE, text
    step.outcome = StepOutcome.AGREE if agree else StepOutcome.DISAGREE
    step.done_by, step.done_by_name, step.done_at = user.id, user.display_name[:64], clock.now()
    if case.state == S.ACCEPTED.value:
        move(session, case, S.IN_REVIEW, clock=clock, actor=actor_of(user), kind="reviewed",
             note=f"{step.name}：{text}", data={"step": step.name, "agree": agree})
    else:
        touch(session, case, clock=clock, actor=actor_of(user), kind="reviewed", note=f"{step.name}：{text}",
              data={"step": step.name, "agree": agree})
    return case


def decide(session: Session, *, clock: Clock, user: User, case_id: int, expected_version: int | None,
           approve: bool, reason: str, basis: str = "") -> Case:
    """准予 / 不予许可 by the handling department; a clerk may decide an instant item (即办件) at the window."""
    case = lock(session, case_id, expected_version)
    instant = case.item_version is not None and case.item_version.instant
    viewer = viewer_of(user)
    if instant and access.can(viewer, Action.CASE_DECIDE_INSTANT):
        if access.bound_by_qualifications(viewer.role) and case.item_version is not None and not session.scalars(
                select(StaffQualification.id).where(StaffQualification.user_id == user.id,
                                                    StaffQualification.category_id
                                                    == case.item_version.hall_category_id)).first():
            raise PermissionDenied("您没有办理该类事项的窗口资格（一岗多能授权）", code="not_qualified")
    else:
        scope.require(session, user, Action.CASE_DECIDE, case)
    if case.kind == CaseKind.BUNDLE:
        raise Conflict("一件事主件在各分件办结后自动办结", code="bundle_parent")
    text, why = (reason_and_basis(reason, basis, what="不予许可") if not approve
                 else (clean_line(reason, TEXT_MAX), clean_line(basis, TEXT_MAX)))
    pending = _review_steps_left(case)
    if pending and not instant:
        raise Conflict(f"请先完成“{pending[0].name}”环节", code="steps_pending")
    if not (instant and access.can(viewer, Action.CASE_DECIDE_INSTANT)) and case.steps:
        _require_performer(session, user, case, decision_index(case), Action.CASE_DECIDE)
    record_decision(session, clock=clock, actor=actor_of(user), case=case, approve=approve,
                    reason=text or ("符合条件，准予办理" if approve else ""), basis=why, by_rule=None, user=user)
    return case


SUSPENSION_LABELS: dict[str, str] = {k.value: k.label for k in SuspensionKind}  # for pages and the timeline


def suspend(session: Session, *, clock: Clock, user: User, case_id: int, expected_version: int | None, kind: str,
            reason: str) -> Case:
    """特别程序: stop the clock (hearing, expert review, on-site inspection) with a reason; only the kinds
    the case's procedure allows."""
    case = lock(session, case_id, expected_version)
    scope.require(session, user, Action.CASE_REVIEW, case)
    _not_bundle(case)
    text = clean_line(reason, TEXT_MAX)
    problems = []
    procedure = procedure_of_case(case)
    if kind not in SUSPENSION_LABELS:
        problems.append(Problem("kind", "invalid_kind", "特别程序类型应为听证、专家评审、现场核查或其他"))
    elif not procedure.allows_suspension(kind):
        allowed = "、".join(k.label for k in procedure.suspension_kinds) or "无"
        problems.append(Problem("kind", "kind_not_allowed",
                                f"本事项的办理规则不允许“{SuspensionKind(kind).label}”暂停计时（允许：{allowed}）"))
    if not text:
        problems.append(Problem("reason", "reason_required", "请填写暂停计时的原因"))
    if problems:
        raise ValidationFailed(problems)
    check_transition(case.state, S.SUSPENDED)
    session.add(CaseSuspension(case_id=case.id, kind=kind, reason=text, start=today(clock), end=None,
                               created_by=user.id, created_at=clock.now()))
    move(session, case, S.SUSPENDED, clock=clock, actor=actor_of(user), kind="suspended",
         note=f"{SuspensionKind(kind).label}：{text}")
    refresh(session, [case], clock=clock)
    return case


def resume(session: Session, *, clock: Clock, user: User, case_id: int, expected_version: int | None) -> Case:
    """End the special procedure; the due dates move by the suspended days."""
    case = lock(session, case_id, expected_version)
    scope.require(session, user, Action.CASE_REVIEW, case)
    if case.state != S.SUSPENDED.value:  # accepted → in_review is legal, but not as a "resume"
        raise Conflict(f"办件当前状态为“{S(case.state).label}”，不在特别程序中，不能恢复计时",
                       code="illegal_case_transition", field="state")
    check_transition(case.state, S.IN_REVIEW)
    open_ = session.scalars(select(CaseSuspension).where(CaseSuspension.case_id == case.id,
                                                         CaseSuspension.end.is_(None))).first()
    if open_ is not None:
        open_.end = max(today(clock), open_.start)
    move(session, case, S.IN_REVIEW, clock=clock, actor=actor_of(user), kind="resumed", note="特别程序结束，恢复计时")
    recompute_deadlines(session, case, calendar=work_calendar(session), on=today(clock))
    return case


def request_extension(session: Session, *, clock: Clock, user: User, case_id: int, days: int,
                      reason: str, expected_version: int | None = None) -> CaseExtension:
    """Ask the department head to extend the legal limit (延期)."""
    case = lock(session, case_id, expected_version)
    scope.require(session, user, Action.CASE_REVIEW, case)
    _not_bundle(case)
    text = clean_line(reason, TEXT_MAX)
    problems = []
    most = procedure_of_case(case).max_extension_days  # the item's limit, copied at acceptance
    limit = most - case.extension_days
    if limit < 1:
        problems.append(Problem("days", "days_out_of_range",
                                f"本事项的办理规则最多延期 {most} 个工作日，已无可延期天数"))
    elif not 1 <= days <= limit:
        problems.append(Problem("days", "days_out_of_range",
                                f"延期天数应在 1 到 {limit} 个工作日之间（本事项的办理规则最多延期 {most} 个工作日）"))
    if not text:
        problems.append(Problem("reason", "reason_required", "请填写延期理由"))
    if problems:
        raise ValidationFailed(problems)
    if S(case.state) not in (S.ACCEPTED, S.IN_REVIEW, S.SUSPENDED):
        raise Conflict("只有办理中的办件可以申请延期", code="not_open")
    ext = CaseExtension(case_id=case.id, days=days, reason=text, status=ExtensionStatus.REQUESTED, requested_by=user.id,
                        requested_at=clock.now())
    session.add(ext)
    session.flush()
    touch(session, case, clock=clock, actor=actor_of(user), kind="extension_requested",
          note=f"申请延期 {days} 个工作日：{text}", data={"extension_id": ext.id, "days": days})
    return ext


def decide_extension(session: Session, *, clock: Clock, user: User, extension_id: int, approve: bool,
                     expected_version: int | None = None) -> Case:
    """The department head approves or rejects an extension; an approval moves the legal due date."""
    ext = session.get(CaseExtension, extension_id)
    if ext is None:
        raise NotFound("延期申请", str(extension_id))
    case = lock(session, ext.case_id, expected_version)
    scope.require(session, user, Action.CASE_EXTENSION_DECIDE, case)
    if ext.status != ExtensionStatus.REQUESTED:
        raise Conflict("该延期申请已处理", code="extension_decided")
    ext.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REJECTED
    ext.decided_by, ext.decided_at = user.id, clock.now()
    if approve:
        case.extension_days += ext.days
        recompute_deadlines(session, case, calendar=work_calendar(session), on=today(clock))
    touch(session, case, clock=clock, actor=actor_of(user), kind="extension_" + ext.status,
          note=f"延期 {ext.days} 个工作日{'已批准' if approve else '未批准'}", data={"legal_due": case.legal_due})
    return case


def verify_commitment(session: Session, *, clock: Clock, user: User, case_id: int, expected_version: int | None,
                      truthful: bool, note: str) -> Case:
    """事后核查 of a 告知承诺 case: recorded as verified, or the case is terminated for a false promise."""
    case = lock(session, case_id, expected_version)
    scope.require(session, user, Action.CASE_REVIEW, case)
    _not_bundle(case)
    if not case.commitment:
        raise Conflict("该办件不是告知承诺件", code="not_commitment")
    if case.verified_at is not None:
        raise Conflict("该办件已完成核查", code="already_verified")
    text = clean_line(note, TEXT_MAX)
    if not text:
        raise ValidationFailed([Problem("note", "note_required", "请填写核查情况")])
    case.verified_at = clock.now()
    if truthful:
        touch(session, case, clock=clock, actor=actor_of(user), kind="commitment_verified",
              note=f"事后核查属实：{text}")
    else:
        terminate(session, clock=clock, actor=actor_of(user), case=case, reason=f"告知承诺不实：{text}",
                  basis="《优化营商环境条例》及告知承诺制相关规定")
    return case
