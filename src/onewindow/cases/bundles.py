"""一件事 bundles: one sub-case per member item opened in its department when the bundle is accepted (materials
shared by key), and 缺席默认 for a co-department that let its deadline pass. The bundle completes in
:func:`onewindow.cases.decisions.complete_parent`.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from onewindow.calendar.workdays import WorkCalendar
from onewindow.cases import rules
from onewindow.cases.decisions import record_decision
from onewindow.cases.kinds import CaseKind, DecidedByRule
from onewindow.cases.materials import lines_of, material_key
from onewindow.cases.models import (
    Case,
    CaseMaterial,
)
from onewindow.cases.rules import CaseRules, MaterialStatus, passed_on_note
from onewindow.cases.schedule import add_steps, recompute_deadlines
from onewindow.cases.states import (
    CaseState,
)
from onewindow.cases.transitions import TEXT_MAX, actor_name, insert_numbered, move, record_event
from onewindow.catalog import rules as catalog_rules
from onewindow.catalog import service as catalog_service
from onewindow.core.audit import Actor
from onewindow.core.clock import Clock, today
from onewindow.staff.models import User
from onewindow.staff.service import actor_of

S = CaseState


def open_sub_cases(session: Session, *, clock: Clock, user: User, parent: Case, rules_: CaseRules,
                   calendar: WorkCalendar) -> None:
    """One sub-case per member item, in its department, in parallel; materials shared by key."""
    if parent.bundle is None:
        raise ValueError("not a bundle case")
    now, on = clock.now(), today(clock)
    actor = actor_of(user)
    parent_status = {m.key: m for m in parent.materials}
    pairs = catalog_service.items_by_codes(session, [m.item.code for m in parent.bundle.members])
    produced = catalog_rules.produced_in_bundle((v.result_certificate_type_id, v.name) for _i, v in pairs)
    for item, version in pairs:
        sub = Case(number="", kind=CaseKind.SUB, parent_id=parent.id, item_id=item.id, item_version_id=version.id,
                   bundle_id=parent.bundle_id, department_id=version.department_id,
                   receiving_hall_id=parent.receiving_hall_id, proxy=False, channel=parent.channel,
                   state=S.SUBMITTED.value, version=1, applicant_kind=parent.applicant_kind,
                   applicant_name=parent.applicant_name, applicant_id=parent.applicant_id,
                   applicant_phone=parent.applicant_phone, applicant_user_id=parent.applicant_user_id,
                   agent_user_id=parent.agent_user_id, authorization_id=parent.authorization_id, form_data={},
                   commitment=parent.commitment, deferred=False, submitted_at=parent.submitted_at,
                   legal_days=version.legal_limit_days, promised_days=version.promised_limit_days,
                   limit_unit=version.limit_unit, extension_days=0, due_provisional=False, warning="none",
                   decision_reason="", decision_basis="", closed_reason="", closed_basis="", created_by=user.id,
                   created_at=now, updated_at=now)
        for pos, m in enumerate(version.materials, start=1):
            shared = parent_status.get(material_key(m))
            issuer = produced.get(m.certificate_type_id) if m.certificate_type_id is not None else None
            if shared is None and issuer is not None and issuer != version.name:
                # issued by another sub-case of this bundle: never asked of the applicant; not yet there either
                # (so no 秒批 on it: the sub-case waits for a person, who sees where it comes from)
                sub.materials.append(CaseMaterial(
                    position=pos, material_id=m.id, key=material_key(m), name=m.name, required=m.required,
                    deferrable=m.deferrable, certificate_type_id=m.certificate_type_id,
                    status=MaterialStatus.MISSING.value, certificate_id=None, upload_id=None, supplied_at=None,
                    note=passed_on_note(issuer)[:TEXT_MAX]))
                continue
            sub.materials.append(CaseMaterial(
                position=pos, material_id=m.id, key=material_key(m), name=m.name, required=m.required,
                deferrable=m.deferrable, certificate_type_id=m.certificate_type_id,
                status=shared.status if shared else MaterialStatus.MISSING.value,
                certificate_id=shared.certificate_id if shared else None,
                upload_id=shared.upload_id if shared else None,
                supplied_at=shared.supplied_at if shared else None, note=(m.note or "")[:TEXT_MAX]))
        insert_numbered(session, sub, on)
        record_event(session, sub, clock=clock, actor=actor, kind="submitted", to_state=S.SUBMITTED.value,
                     note=f"一件事“{parent.bundle.name}”分办（主件 {parent.number}）")
        sub.accepted_at, sub.accepted_on = now, on
        sub.deferred = any(m.status == MaterialStatus.DEFERRED.value for m in sub.materials)
        procedure = catalog_service.procedure_for(session, version.id,
                                                  deferral_working_days=rules_.deferral_working_days)
        sub.procedure = procedure.to_json()
        recompute_deadlines(session, sub, calendar=calendar, on=on)  # capped by the bundle's promise
        add_steps(sub, procedure, now, actor, actor_name(session, actor))
        move(session, sub, S.ACCEPTED, clock=clock, actor=actor, kind="accepted", note="一件事分办受理",
             data={"promised_due": sub.promised_due, "parent": parent.number})
        recompute_deadlines(session, sub, calendar=calendar, on=on)  # the clock runs from now: warn at once
        if rules_.auto_approve and rules.auto_approvable(instant=version.instant, lines=lines_of(sub)):
            record_decision(session, clock=clock, actor=Actor(None, "秒批规则"), case=sub, approve=True,
                            reason="申请材料均由电子证照库核验，符合秒批规则，系统自动准予", basis="即办件秒批规则",
                            by_rule=DecidedByRule.INSTANT, user=None)


def default_consent(session: Session, *, clock: Clock, case: Case) -> None:
    """缺席默认: a co-department that did not act by its deadline is deemed to agree (sweep only)."""
    actor = Actor(None, "缺席默认")
    record_decision(session, clock=clock, actor=actor, case=case, approve=True,
                    reason="协办部门逾期未作出意见，依一件事缺席默认规则视为同意", basis="一件事缺席默认机制",
                    by_rule=DecidedByRule.DEFAULT_CONSENT, user=None)
