"""The one place a case is decided: the decision step and the steps after it, the decision fields, the
move to approved or denied, the result e-certificate, and the bundle that completes when all its sub-cases
have ended. Staff decisions (review), 秒批 (intake) and 缺席默认 (bundles) all come here.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from onewindow.cases.kinds import DecidedByRule, Decision, StepOutcome, StepStatus
from onewindow.cases.models import (
    Case,
)
from onewindow.cases.procedure import decision_index
from onewindow.cases.queries import sub_cases
from onewindow.cases.schedule import refresh
from onewindow.cases.states import (
    DECIDED,
    CaseState,
)
from onewindow.cases.transitions import actor_name, lock, move, record_event
from onewindow.certificates import service as certificates
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock, today
from onewindow.staff.models import User

S = CaseState


def record_decision(session: Session, *, clock: Clock, actor: Actor, case: Case, approve: bool, reason: str, basis: str,
                    by_rule: DecidedByRule | None, user: User | None) -> None:
    """Decide a case: close its steps, set the decision, move it, issue the result, complete its bundle."""
    now = clock.now()
    by_name = actor_name(session, actor)  # the steps show names, not usernames
    decision_at = decision_index(case)
    for i, step in enumerate(case.steps):
        if step.status != StepStatus.PENDING:
            continue
        step.status = StepStatus.DONE
        if i < decision_at and not (by_rule or (case.item_version is not None and case.item_version.instant)):
            # a review step still pending at a staff decision is an optional one (review checks that every
            # step whose rule is not ``optional`` is done before deciding)
            step.outcome, step.opinion = StepOutcome.SKIPPED, "本件无需此环节"
        elif i > decision_at:  # 发证, 送达 …: follow the decision
            step.outcome, step.opinion = ((StepOutcome.AGREE, "随决定办理") if approve
                                          else (StepOutcome.SKIPPED, "不予许可，无需办理"))
        else:
            agreed = StepOutcome.DEFAULT if by_rule == DecidedByRule.DEFAULT_CONSENT else StepOutcome.AGREE
            step.outcome = agreed if approve else StepOutcome.DISAGREE
            step.opinion = reason
        step.done_by, step.done_by_name, step.done_at = actor.id, by_name, now
    case.decision = Decision.of(approve)
    case.decision_reason, case.decision_basis, case.decided_by_rule = reason, basis, by_rule
    case.decided_at, case.decided_on = now, today(clock)
    move(session, case, S.APPROVED if approve else S.DENIED, clock=clock, actor=actor,
         kind="approved" if approve else "denied", note=reason, data={"basis": basis, "rule": by_rule})
    refresh(session, [case], clock=clock)
    if approve:
        issue_result(session, clock=clock, actor=actor, case=case)
    if case.parent_id is not None:
        complete_parent(session, clock=clock, actor=actor, parent_id=case.parent_id)


def issue_result(session: Session, *, clock: Clock, actor: Actor, case: Case) -> None:
    """An approval whose result is a licence issues its e-certificate to the applicant."""
    version = case.item_version
    if version is None or version.result_certificate_type is None:
        return
    ctype = version.result_certificate_type
    if not certificates.holder_fits(ctype.holder, case.applicant_id):
        return
    cert = certificates.issue_certificate(
        session, clock=clock, actor=actor, type_code=ctype.code, holder_id=case.applicant_id,
        holder_name=case.applicant_name, issuer=version.department.name,
        data={"case_number": case.number, "item": version.name})
    case.result_certificate_id = cert.id
    record_event(session, case, clock=clock, actor=actor, kind="certificate_issued", note=f"签发电子证照 {cert.number}",
                 data={"certificate": cert.number})
    session.flush()  # no audit entry follows to flush it, and sessions do not autoflush: the timeline must see it


def complete_parent(session: Session, *, clock: Clock, actor: Actor, parent_id: int) -> None:
    """The bundle completes when every sub-case has ended: approved only if at least one sub-case was."""
    parent = lock(session, parent_id, None)
    subs = sub_cases(session, parent.id)
    ended = frozenset({S.WITHDRAWN, S.TERMINATED})
    if not subs or parent.state not in (S.ACCEPTED.value, S.IN_REVIEW.value):
        return
    if any(S(s.state) not in DECIDED | ended for s in subs):
        if parent.state == S.ACCEPTED.value and any(S(s.state) in DECIDED | ended for s in subs):
            move(session, parent, S.IN_REVIEW, clock=clock, actor=actor, kind="bundle_progress",
                 note="分件陆续办结")
        return
    approved = [s for s in subs if s.decision == Decision.APPROVED and S(s.state) not in ended]
    not_granted = [s for s in subs if s not in approved]
    note = "各分件均已办结" + (f"；其中未获准予：{'、'.join(s.title for s in not_granted)}" if not_granted else "")
    approve = bool(approved)
    parent.decision = Decision.of(approve)
    parent.decision_reason = note
    parent.decided_at, parent.decided_on = clock.now(), today(clock)
    move(session, parent, S.APPROVED if approve else S.DENIED, clock=clock, actor=actor,
         kind="approved" if approve else "denied", note=note)
    refresh(session, [parent], clock=clock)
