"""The life of a case on the service: intake, 补正, refusal, 容缺, 告知承诺, qualifications and department scope,
review order, 即办 and 秒批, certificates issued on approval, suspension and extension, withdrawal, archive,
optimistic locking and visits (跑动次数).

Due dates are hand-computed on the 2026 official calendar (chinese_calendar 1.11): National Day 10-01 … 10-07
is off (with the weekend 10-03/10-04), and Saturday 10-10 is a make-up working day (so is Sunday 09-20).
Accepted Tuesday 2026-09-29, working days count from the next day:
09-30 (1), 10-08 (2), 10-09 (3), 10-10 Sat (4), 10-12 (5), 10-13 (6), 10-14 (7), 10-15 (8), 10-16 (9),
10-19 (10), 10-20 (11), 10-21 (12), 10-22 (13), 10-23 (14), 10-26 (15), 10-27 (16), 10-28 (17), 10-29 (18),
10-30 (19), 11-02 (20), 11-03 (21) … 11-16 (30).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.cases import service
from onewindow.cases.models import Case, CaseVisit
from onewindow.cases.service import ApplicantIn, ApplicationIn, DeliveryIn
from onewindow.certificates.demo import FENGYUAN, LI_NA, ZHANG_WEI
from onewindow.certificates.models import Certificate
from onewindow.core.audit import Actor
from onewindow.core.clock import FixedClock
from onewindow.core.errors import Conflict, PermissionDenied, ValidationFailed
from onewindow.queue import service as queue_service
from onewindow.queue.models import Ticket, TicketCase
from onewindow.staff.models import User
from tests import factories
from tests.factories import (
    CLAIM,
    FENG,
    FOOD,
    LINA,
    PREPACKED,
    RULES,
    SOLE_TRADER,
    SSC_CARD,
    ZHANG,
    at,
    handed_in,
    material_keys,
)

Users = Callable[[str], User]

ACCEPT = at(2026, 9, 29)  # Tuesday before National Day
PREMISES = "经营场所使用证明（租赁协议等）"


def window(session: Session, clerk: User, applicant: ApplicantIn, code: str, marks: dict[str, str], *,
           clock: FixedClock = ACCEPT, **extra: object) -> Case:
    """Intake at the county hall by a clerk, on ACCEPT unless told."""
    return factories.window(session, clerk, applicant, code, marks, clock=clock, **extra)


def review_to_decision(session: Session, approver: User, case: Case, clock: FixedClock = ACCEPT) -> None:
    """Record an opinion on every step but the last (the decision), on ACCEPT unless told."""
    factories.review_to_decision(session, approver, case, clock)


def approve(session: Session, approver: User, case: Case, clock: FixedClock = ACCEPT) -> Case:
    """Review and approve, on ACCEPT unless told."""
    return factories.approve(session, approver, case, clock)


# ----- intake ---------------------------------------------------------------------------------------------


def test_window_intake_with_every_material_is_accepted_with_steps_and_both_due_dates(
        session: Session, user: Users) -> None:
    case = window(session, user("clerk"), FENG, FOOD, handed_in(session, FOOD, library=False))
    assert case.state == "accepted" and case.channel == "window" and case.kind == "single"
    assert case.receiving_hall is not None and case.receiving_hall.code == "HJ-ZWZX"
    assert case.accepted_on == dt.date(2026, 9, 29)
    assert case.promised_due == dt.date(2026, 10, 9)  # 3 working days: 09-30, 10-08, 10-09
    assert case.legal_due == dt.date(2026, 10, 19)  # 10 working days, 10-10 (Sat) counted
    assert not case.due_provisional and case.warning == "none"
    assert [(s.name, s.status) for s in case.steps] == [
        ("受理", "done"), ("审查", "pending"), ("现场核查（必要时）", "pending"), ("决定", "pending"),
        ("发证", "pending")]
    assert [e.kind for e in service.timeline(session, case)] == ["submitted", "accepted"]
    assert service.visit_count(session, case) == 1
    assert service.one_visit(session, case) is None  # not completed yet


def test_missing_material_asks_once_for_the_complete_list_then_the_clerk_takes_it_and_accepts(
        session: Session, user: Users) -> None:
    clerk = user("clerk")
    marks = handed_in(session, SOLE_TRADER, {PREMISES: "missing"})
    case = window(session, clerk, ZHANG, SOLE_TRADER, marks)
    assert case.state == "correction_requested"
    assert case.accepted_on is None and case.promised_due is None and case.legal_due is None  # clock not started
    status = {m.name: m.status for m in case.materials}
    assert status["经营者居民身份证"] == "library"  # 免提交
    assert status[PREMISES] == "missing"
    [event] = [e for e in service.timeline(session, case) if e.kind == "correction_requested"]
    assert event.data["missing"] == [PREMISES]

    later = at(2026, 10, 8)
    key = material_keys(session, SOLE_TRADER)[PREMISES]
    service.resubmit(session, clock=later, user=clerk, case_id=case.id, expected_version=case.version,
                     materials={key: "paper"}, rules_=RULES)
    assert case.state == "accepted"
    assert case.accepted_on == dt.date(2026, 10, 8)  # the clock starts on the day it is complete
    assert case.promised_due == dt.date(2026, 10, 9)
    assert case.legal_due == dt.date(2026, 10, 12)  # 10-09, 10-10 (Sat), 10-12
    assert service.visit_count(session, case) == 2  # intake + supplement


def test_refusal_needs_reason_and_basis_and_writes_nothing_without_them(session: Session, user: Users) -> None:
    clerk = user("clerk")
    before = session.scalar(select(func.count()).select_from(Case).where(Case.applicant_id == LI_NA))
    with pytest.raises(ValidationFailed) as exc:
        window(session, clerk, LINA, SOLE_TRADER, {}, refuse=True)
    assert {p.field for p in exc.value.problems} == {"refuse_reason", "refuse_basis"}
    with pytest.raises(ValidationFailed) as exc:
        window(session, clerk, LINA, SOLE_TRADER, {}, refuse=True, refuse_reason="经营范围属于禁止类")
    assert {p.field for p in exc.value.problems} == {"refuse_basis"}
    assert session.scalar(select(func.count()).select_from(Case).where(Case.applicant_id == LI_NA)) == before

    case = window(session, clerk, LINA, SOLE_TRADER, {}, refuse=True, refuse_reason="经营范围属于禁止类",
                  refuse_basis="《促进个体工商户发展条例》第十条")
    assert case.state == "refused"
    assert case.closed_reason == "经营范围属于禁止类" and case.closed_basis == "《促进个体工商户发展条例》第十条"
    assert case.accepted_on is None


# ----- 容缺 and 告知承诺 -----------------------------------------------------------------------------------


def test_deferred_material_is_due_in_ten_working_days_and_holds_the_result_back(
        session: Session, user: Users) -> None:
    clerk, ybj = user("clerk"), user("approver_ybj")
    case = window(session, clerk, ZHANG, CLAIM, handed_in(session, CLAIM, {"本人银行账户信息": "deferred"}))
    assert case.state == "accepted" and case.deferred
    assert case.promised_due == dt.date(2026, 11, 2)  # 20 working days
    assert case.legal_due == dt.date(2026, 11, 16)  # 30 working days
    assert case.deferral_due == dt.date(2026, 10, 19)  # 10 working days, before the promised date
    accepted = next(e for e in service.timeline(session, case) if e.kind == "accepted")
    assert accepted.note == "容缺受理" and accepted.data["deferred"] == ["本人银行账户信息"]

    approve(session, ybj, case, at(2026, 10, 12))
    assert case.state == "approved"
    with pytest.raises(Conflict) as exc:
        service.deliver(session, clock=at(2026, 10, 12), user=clerk, case_id=case.id, expected_version=case.version,
                        data=DeliveryIn(method="pickup", picked_up_by="张伟"))
    assert exc.value.code == "deferred_outstanding"

    key = material_keys(session, CLAIM)["本人银行账户信息"]
    service.supply_deferred(session, clock=at(2026, 10, 14), user=clerk, case_id=case.id,
                            expected_version=case.version, keys=[key])
    assert not case.deferred and case.deferral_due is None
    service.deliver(session, clock=at(2026, 10, 14), user=clerk, case_id=case.id, expected_version=case.version,
                    data=DeliveryIn(method="pickup", picked_up_by="张伟"))
    assert case.state == "delivered"
    assert service.visit_count(session, case) == 3  # intake, supplement, pickup
    assert service.one_visit(session, case) is False


def test_deferral_due_is_capped_by_the_promised_date(session: Session, user: Users) -> None:
    case = window(session, user("clerk"), ZHANG, SOLE_TRADER, handed_in(session, SOLE_TRADER, {PREMISES: "deferred"}))
    assert case.deferred
    assert case.promised_due == dt.date(2026, 9, 30)  # 1 working day
    assert case.deferral_due == dt.date(2026, 9, 30)  # 10 working days (10-19) capped by the promise


def test_deferring_a_material_that_is_not_deferrable_is_refused(session: Session, user: Users) -> None:
    marks = handed_in(session, SOLE_TRADER, {"个体工商户登记（备案）申请书": "deferred"})
    with pytest.raises(ValidationFailed) as exc:
        window(session, user("clerk"), ZHANG, SOLE_TRADER, marks)
    assert exc.value.status == 422
    [problem] = exc.value.problems
    assert problem.code == "material_deferred_not_allowed"
    assert problem.field == "materials.name:个体工商户登记备案申请书"


def test_deferral_needs_the_main_materials(session: Session, user: Users) -> None:
    keys = material_keys(session, SOLE_TRADER)
    with pytest.raises(ValidationFailed) as exc:  # nothing else handed in, the ID card not in the library (LI_NA)
        window(session, user("clerk"), LINA, SOLE_TRADER, {keys[PREMISES]: "deferred"})
    assert "deferral_needs_main_materials" in {p.code for p in exc.value.problems}


def test_promise_needs_the_commitment_and_a_false_promise_terminates(session: Session, user: Users) -> None:
    clerk, scjg = user("clerk"), user("approver_scjg")
    marks = handed_in(session, SOLE_TRADER, {PREMISES: "promised"})
    with pytest.raises(ValidationFailed) as exc:
        window(session, clerk, ZHANG, SOLE_TRADER, marks)
    assert [p.code for p in exc.value.problems] == ["material_promised_not_allowed"]

    case = window(session, clerk, ZHANG, SOLE_TRADER, marks, commitment=True)
    assert case.state == "accepted" and case.commitment and not case.deferred
    assert next(e for e in service.timeline(session, case) if e.kind == "accepted").note == "告知承诺受理"
    with pytest.raises(ValidationFailed):
        service.verify_commitment(session, clock=ACCEPT, user=scjg, case_id=case.id, expected_version=case.version,
                                  truthful=False, note=" ")
    service.verify_commitment(session, clock=at(2026, 9, 30), user=scjg, case_id=case.id,
                              expected_version=case.version, truthful=False, note="现场核查：承诺的经营场所不存在")
    assert case.state == "terminated" and case.verified_at is not None
    assert case.closed_reason == "告知承诺不实：现场核查：承诺的经营场所不存在"


def test_truthful_promise_is_recorded_once(session: Session, user: Users) -> None:
    scjg = user("approver_scjg")
    case = window(session, user("clerk"), ZHANG, SOLE_TRADER, handed_in(session, SOLE_TRADER, {PREMISES: "promised"}),
                  commitment=True)
    service.verify_commitment(session, clock=ACCEPT, user=scjg, case_id=case.id, expected_version=case.version,
                              truthful=True, note="租赁合同已核实")
    assert case.state == "accepted" and case.verified_at is not None
    with pytest.raises(Conflict) as exc:
        service.verify_commitment(session, clock=ACCEPT, user=scjg, case_id=case.id, expected_version=case.version,
                                  truthful=True, note="再次核查")
    assert exc.value.code == "already_verified"


# ----- who may act ----------------------------------------------------------------------------------------


def test_clerk_without_the_hall_category_qualification_is_refused(session: Session, user: Users) -> None:
    with pytest.raises(PermissionDenied) as exc:  # clerk_town serves A, D, E, F; 个体工商户 is C
        window(session, user("clerk_town"), ZHANG, SOLE_TRADER, handed_in(session, SOLE_TRADER))
    assert exc.value.status == 403 and exc.value.code == "not_qualified"
    case = window(session, user("clerk_town"), ZHANG, CLAIM, handed_in(session, CLAIM),
                  proxy=True)  # A: qualified; a county item at a town center (代收代办)
    assert case.state == "accepted"
    assert case.receiving_hall is not None and case.receiving_hall.code == "HJ-CGZ"


def test_approver_of_another_department_may_not_review_or_decide(session: Session, user: Users) -> None:
    case = window(session, user("clerk"), FENG, FOOD, handed_in(session, FOOD, library=False))
    gaj = user("approver_gaj")
    with pytest.raises(PermissionDenied) as exc:
        service.record_opinion(session, clock=ACCEPT, user=gaj, case_id=case.id, expected_version=case.version,
                               opinion="同意")
    assert exc.value.code == "other_department"
    with pytest.raises(PermissionDenied) as exc:
        service.decide(session, clock=ACCEPT, user=gaj, case_id=case.id, expected_version=case.version,
                       approve=True, reason="同意")
    assert exc.value.code == "other_department"
    with pytest.raises(PermissionDenied):  # a clerk decides only instant items
        service.decide(session, clock=ACCEPT, user=user("clerk"), case_id=case.id, expected_version=case.version,
                       approve=True, reason="同意")
    assert case.state == "accepted" and case.version == 2


# ----- review order and decisions ---------------------------------------------------------------------------


def test_review_runs_step_by_step_and_a_denial_needs_reason_and_basis(session: Session, user: Users) -> None:
    scjg = user("approver_scjg")
    case = window(session, user("clerk"), FENG, FOOD, handed_in(session, FOOD, library=False))
    with pytest.raises(Conflict) as exc:
        service.decide(session, clock=ACCEPT, user=scjg, case_id=case.id, expected_version=case.version,
                       approve=True, reason="同意")
    assert exc.value.code == "steps_pending" and "审查" in exc.value.message
    with pytest.raises(ValidationFailed):
        service.record_opinion(session, clock=ACCEPT, user=scjg, case_id=case.id, expected_version=case.version,
                               opinion="  ")
    review_to_decision(session, scjg, case)
    assert case.state == "in_review"
    assert [s.status for s in case.steps] == ["done", "done", "done", "pending", "pending"]  # 决定, 发证 left
    assert service.ready_for_decision(case) and not service.opinion_steps(case)
    with pytest.raises(Conflict) as exc:
        service.record_opinion(session, clock=ACCEPT, user=scjg, case_id=case.id, expected_version=case.version,
                               opinion="同意发证")
    assert exc.value.code == "decision_step"

    with pytest.raises(ValidationFailed) as exc2:
        service.decide(session, clock=ACCEPT, user=scjg, case_id=case.id, expected_version=case.version,
                       approve=False, reason="")
    assert {p.field for p in exc2.value.problems} == {"reason", "basis"}
    with pytest.raises(ValidationFailed) as exc2:
        service.decide(session, clock=ACCEPT, user=scjg, case_id=case.id, expected_version=case.version,
                       approve=False, reason="经营场所与食品安全要求不符")
    assert {p.field for p in exc2.value.problems} == {"basis"}
    service.decide(session, clock=at(2026, 9, 30), user=scjg, case_id=case.id, expected_version=case.version,
                   approve=False, reason="经营场所与食品安全要求不符", basis="《食品经营许可和备案管理办法》第十二条")
    assert case.state == "denied" and case.decision == "denied" and case.decided_on == dt.date(2026, 9, 30)
    decision, issue = case.steps[3], case.steps[4]
    assert (decision.name, decision.outcome) == ("决定", "disagree")
    assert decision.opinion == "经营场所与食品安全要求不符"
    assert (issue.name, issue.outcome) == ("发证", "skipped") and case.result_certificate_id is None
    assert case.warning == "none"


def test_instant_item_is_decided_by_the_clerk_in_the_same_visit(session: Session, user: Users) -> None:
    clerk = user("clerk")
    # the operator's ID card and the licence come from the library, but the form is on paper: no 秒批
    case = window(session, clerk, FENG, PREPACKED, handed_in(session, PREPACKED), extra_holders=[ZHANG_WEI])
    status = {m.name: m.status for m in case.materials}
    assert status == {"仅销售预包装食品备案信息采集表": "paper", "营业执照": "library", "经营者居民身份证": "library"}
    assert case.state == "accepted" and case.promised_due == case.accepted_on  # 即办件: limits 0
    service.decide(session, clock=ACCEPT, user=clerk, case_id=case.id, expected_version=case.version, approve=True,
                   reason="")
    assert case.state == "approved" and case.decided_by_rule is None
    assert case.decision_reason == "符合条件，准予办理"
    assert all(s.status == "done" for s in case.steps)
    assert service.visit_count(session, case) == 1 and service.one_visit(session, case) is True


def test_instant_item_with_every_required_material_from_the_library_is_approved_by_rule(
        session: Session, user: Users) -> None:
    case = window(session, user("clerk"), ZHANG, SSC_CARD, {})
    assert case.state == "approved" and case.decided_by_rule == "秒批"
    assert case.decided_on == case.accepted_on == dt.date(2026, 9, 29)
    assert all(s.status == "done" and s.outcome == "agree" for s in case.steps)
    approved = next(e for e in service.timeline(session, case) if e.kind == "approved")
    assert approved.actor_name == "秒批规则" and approved.actor_id is None
    if case.item_version is not None and case.item_version.result_certificate_type is not None:
        cert = session.get(Certificate, case.result_certificate_id)
        assert cert is not None and cert.holder_id == ZHANG_WEI and cert.type.code == "SSC"


def test_auto_approval_can_be_switched_off(session: Session, user: Users) -> None:
    data = ApplicationIn(applicant=ZHANG, item_code=SSC_CARD)
    case = service.apply(session, clock=ACCEPT, user=user("clerk"), online=False, data=data,
                         rules_=service.CaseRules(auto_approve=False)).case
    assert case.state == "accepted" and case.decided_by_rule is None


# ----- certificates issued on approval --------------------------------------------------------------------


def test_approval_of_a_licence_issues_the_certificate_to_the_enterprise(session: Session, user: Users) -> None:
    case = window(session, user("clerk"), FENG, FOOD, handed_in(session, FOOD, library=False))
    assert case.item_version is not None and case.item_version.result_certificate_type is not None
    assert case.item_version.result_certificate_type.code == "FOOD_LICENSE"
    assert case.result_certificate_id is None  # issued on approval, not before
    approve(session, user("approver_scjg"), case)
    cert = session.get(Certificate, case.result_certificate_id)
    assert cert is not None and cert.type.code == "FOOD_LICENSE"
    assert cert.holder_id == FENGYUAN and cert.holder_name == "获嘉县丰源商贸有限公司"
    assert cert.issued_date == dt.date(2026, 9, 29) and cert.data["case_number"] == case.number
    issued = [e for e in service.timeline(session, case) if e.kind == "certificate_issued"]
    assert len(issued) == 1 and cert.number in issued[0].note


def test_enterprise_licence_is_not_issued_to_a_person_id_number(session: Session, user: Users) -> None:
    """个体工商户设立登记 results in a 营业执照, held by a 统一社会信用代码; a person applicant has none yet."""
    case = window(session, user("clerk"), ZHANG, SOLE_TRADER, handed_in(session, SOLE_TRADER))
    assert case.item_version is not None and case.item_version.result_certificate_type is not None
    assert case.item_version.result_certificate_type.code == "BIZ_LICENSE"
    approve(session, user("approver_scjg"), case)
    assert case.state == "approved" and case.result_certificate_id is None
    assert session.scalars(select(Certificate).where(Certificate.holder_id == ZHANG_WEI,
                                                     Certificate.source == "issued")).first() is None


# ----- special procedure and extension ------------------------------------------------------------------------


def test_suspension_pauses_both_clocks_and_an_approved_extension_moves_only_the_legal_date(
        session: Session, user: Users) -> None:
    scjg, head = user("approver_scjg"), user("head_scjg")
    case = window(session, user("clerk"), FENG, FOOD, handed_in(session, FOOD, library=False))
    assert (case.promised_due, case.legal_due) == (dt.date(2026, 10, 9), dt.date(2026, 10, 19))
    service.record_opinion(session, clock=at(2026, 9, 30), user=scjg, case_id=case.id, expected_version=case.version,
                           opinion="材料齐全")
    with pytest.raises(ValidationFailed):
        service.suspend(session, clock=at(2026, 10, 8), user=scjg, case_id=case.id, expected_version=case.version,
                        kind="party", reason="")
    service.suspend(session, clock=at(2026, 10, 8), user=scjg, case_id=case.id, expected_version=case.version,
                    kind="inspection", reason="现场核查经营场所")
    assert case.state == "suspended" and case.warning == "none"
    with pytest.raises(Conflict):
        service.decide(session, clock=at(2026, 10, 9), user=scjg, case_id=case.id, expected_version=case.version,
                       approve=True, reason="同意")
    # resumed Monday 10-12: 10-08, 10-09 and the make-up Saturday 10-10 did not count (3 working days)
    service.resume(session, clock=at(2026, 10, 12), user=scjg, case_id=case.id, expected_version=case.version)
    assert case.state == "in_review"
    assert case.promised_due == dt.date(2026, 10, 13)  # 09-30 (1), 10-12 (2), 10-13 (3)
    assert case.legal_due == dt.date(2026, 10, 22)  # 10-19 + 3 working days

    with pytest.raises(ValidationFailed):
        service.request_extension(session, clock=at(2026, 10, 12), user=scjg, case_id=case.id, days=0, reason="x")
    ext = service.request_extension(session, clock=at(2026, 10, 12), user=scjg, case_id=case.id, days=5,
                                    reason="需专家论证")
    with pytest.raises(PermissionDenied):  # an approver may ask, not grant
        service.decide_extension(session, clock=at(2026, 10, 12), user=scjg, extension_id=ext.id, approve=True)
    with pytest.raises(PermissionDenied) as exc:  # the head of another department
        service.decide_extension(session, clock=at(2026, 10, 12), user=user("head_wjw"), extension_id=ext.id,
                                 approve=True)
    assert exc.value.code == "other_department"
    service.decide_extension(session, clock=at(2026, 10, 13), user=head, extension_id=ext.id, approve=True)
    assert case.extension_days == 5
    assert case.legal_due == dt.date(2026, 10, 29)  # 10-23, 10-26, 10-27, 10-28, 10-29
    assert case.promised_due == dt.date(2026, 10, 13)  # the promise does not move
    with pytest.raises(Conflict) as exc2:
        service.decide_extension(session, clock=at(2026, 10, 13), user=head, extension_id=ext.id, approve=False)
    assert exc2.value.code == "extension_decided"

    again = service.request_extension(session, clock=at(2026, 10, 13), user=scjg, case_id=case.id, days=3,
                                      reason="再次延期")
    version = case.version
    service.decide_extension(session, clock=at(2026, 10, 13), user=head, extension_id=again.id, approve=False)
    assert again.status == "rejected"
    assert (case.extension_days, case.legal_due, case.promised_due) == (5, dt.date(2026, 10, 29),
                                                                       dt.date(2026, 10, 13))
    assert case.version == version + 1  # recorded on the timeline, nothing else changed
    kinds = [e.kind for e in service.timeline(session, case)]
    assert kinds[-4:] == ["extension_requested", "extension_approved", "extension_requested", "extension_rejected"]


# ----- withdrawal, archive, locking -----------------------------------------------------------------------------


def _bundle_marks(session: Session, code: str) -> dict[str, str]:
    target = service.resolve_target(session, item_code=None, bundle_code=code)
    return {e.key: "paper" for e in service.checklist(target) if e.required}


def test_withdrawing_a_bundle_takes_its_sub_cases(session: Session, user: Users) -> None:
    clerk = user("clerk")
    data = ApplicationIn(applicant=ZHANG, bundle_code="YJS-NEWBORN", materials=_bundle_marks(session, "YJS-NEWBORN"))
    parent = service.apply(session, clock=ACCEPT, user=clerk, rules_=RULES, online=False, data=data).case
    subs = service.sub_cases(session, parent.id)
    assert parent.state == "accepted" and len(subs) == 5
    assert all(s.state == "accepted" for s in subs)  # paper ID cards: no 秒批
    with pytest.raises(Conflict) as exc:
        service.withdraw(session, clock=ACCEPT, user=clerk, case_id=subs[0].id, expected_version=subs[0].version,
                         reason="")
    assert exc.value.code == "sub_case"
    service.withdraw(session, clock=ACCEPT, user=clerk, case_id=parent.id, expected_version=parent.version,
                     reason="申请人改为网上办理")
    assert parent.state == "withdrawn" and parent.closed_reason == "申请人改为网上办理"
    assert {s.state for s in service.sub_cases(session, parent.id)} == {"withdrawn"}


def test_no_withdrawal_after_the_decision_and_archive_after_delivery(session: Session, user: Users) -> None:
    clerk = user("clerk")
    case = window(session, clerk, FENG, FOOD, handed_in(session, FOOD, library=False))
    approve(session, user("approver_scjg"), case)
    with pytest.raises(Conflict) as exc:
        service.withdraw(session, clock=ACCEPT, user=clerk, case_id=case.id, expected_version=case.version,
                         reason="不想要了")
    assert exc.value.status == 409 and exc.value.code == "illegal_case_transition"
    with pytest.raises(Conflict):  # approved → archived skips the delivery
        service.archive(session, clock=ACCEPT, user=clerk, case_id=case.id, expected_version=case.version)
    with pytest.raises(ValidationFailed) as exc2:
        service.deliver(session, clock=ACCEPT, user=clerk, case_id=case.id, expected_version=case.version,
                        data=DeliveryIn(method="mail", address="获嘉县中和路 1 号"))
    assert {p.field for p in exc2.value.problems} == {"recipient", "courier", "tracking_number"}
    service.deliver(session, clock=ACCEPT, user=clerk, case_id=case.id, expected_version=case.version,
                    data=DeliveryIn(method="mail", address="获嘉县中和路 1 号", recipient="张伟", courier="EMS",
                                    tracking_number="9800112233"))
    service.confirm_mail_delivered(session, clock=at(2026, 10, 8), user=clerk, case_id=case.id,
                                   on=dt.date(2026, 10, 8))
    service.archive(session, clock=at(2026, 10, 8), user=clerk, case_id=case.id, expected_version=case.version)
    assert case.state == "archived"
    with pytest.raises(Conflict):
        service.archive(session, clock=at(2026, 10, 8), user=clerk, case_id=case.id, expected_version=case.version)


def test_stale_version_is_refused(session: Session, user: Users) -> None:
    scjg = user("approver_scjg")
    case = window(session, user("clerk"), FENG, FOOD, handed_in(session, FOOD, library=False))
    seen = case.version
    service.record_opinion(session, clock=ACCEPT, user=scjg, case_id=case.id, expected_version=seen,
                           opinion="材料齐全")
    with pytest.raises(Conflict) as exc:
        service.record_opinion(session, clock=ACCEPT, user=scjg, case_id=case.id, expected_version=seen,
                               opinion="同意")
    assert exc.value.status == 409 and exc.value.code == "stale_version"
    assert [s.status for s in case.steps].count("done") == 2


# ----- visits (跑动次数) -------------------------------------------------------------------------------------------


def _ticket(session: Session, clock: FixedClock) -> Ticket:
    return queue_service.issue_ticket(session, clock=clock, actor=Actor(None, "kiosk"), hall_code="HJ-ZWZX",
                                      category="C")


def test_intake_and_pickup_under_one_ticket_are_one_visit(session: Session, user: Users) -> None:
    clerk = user("clerk")
    ticket = _ticket(session, ACCEPT)
    case = window(session, clerk, FENG, FOOD, handed_in(session, FOOD, library=False), ticket_id=ticket.id)
    [visit] = session.scalars(select(CaseVisit).where(CaseVisit.case_id == case.id))
    assert visit.ticket_id == ticket.id and visit.kind == "intake"
    assert queue_service.cases_of_ticket(session, ticket.id) == [case.number]
    approve(session, user("approver_scjg"), case)
    service.deliver(session, clock=ACCEPT, user=clerk, case_id=case.id, expected_version=case.version,
                    data=DeliveryIn(method="pickup", picked_up_by="张伟", ticket_id=ticket.id))
    assert service.visit_count(session, case) == 1
    assert service.one_visit(session, case) is True
    assert session.scalar(select(func.count()).select_from(TicketCase).where(TicketCase.ticket_id == ticket.id)) == 1


def test_a_second_ticket_is_a_second_visit(session: Session, user: Users) -> None:
    clerk = user("clerk")
    first = _ticket(session, ACCEPT)
    case = window(session, clerk, FENG, FOOD, handed_in(session, FOOD, library=False), ticket_id=first.id)
    approve(session, user("approver_scjg"), case)
    second = _ticket(session, at(2026, 10, 9))
    service.deliver(session, clock=at(2026, 10, 9), user=clerk, case_id=case.id, expected_version=case.version,
                    data=DeliveryIn(method="pickup", picked_up_by="张伟", ticket_id=second.id))
    assert service.visit_count(session, case) == 2
    assert service.one_visit(session, case) is False
    with pytest.raises(ValidationFailed):
        service.record_visit(session, clock=ACCEPT, user=clerk, case=case, kind="consult", ticket_id=10**9)


def test_online_case_delivered_electronically_has_no_visit(session: Session, user: Users) -> None:
    me = user("zhangwei")
    created = service.apply(session, clock=ACCEPT, user=me, rules_=RULES, online=True,
                            data=ApplicationIn(applicant=ZHANG, item_code=SSC_CARD, idempotency_key="ssc-1"))
    case = created.case
    assert case.state == "submitted" and case.channel == "online" and case.applicant_user_id == me.id
    assert service.one_visit(session, case) is None
    service.precheck(session, clock=ACCEPT, user=user("clerk"), case_id=case.id, expected_version=case.version,
                     materials={}, rules_=RULES)
    assert case.state == "approved" and case.decided_by_rule == "秒批"
    service.deliver(session, clock=ACCEPT, user=user("clerk"), case_id=case.id, expected_version=case.version,
                    data=DeliveryIn(method="electronic"))
    assert case.state == "delivered"
    assert service.visit_count(session, case) == 0
    assert service.one_visit(session, case) is True


def test_online_applicant_applies_only_for_themself(session: Session, user: Users) -> None:
    with pytest.raises(PermissionDenied) as exc:
        service.apply(session, clock=ACCEPT, user=user("wangfang"), rules_=RULES, online=True,
                      data=ApplicationIn(applicant=ZHANG, item_code=SSC_CARD))
    assert exc.value.code == "not_self"


def test_a_denial_is_served_even_while_deferred_materials_are_outstanding(session: Session, user: Users) -> None:
    """容缺 holds a licence back until the materials are in; a denial grants nothing, and the sweep no longer
    terminates a decided denial, so holding it back would leave the case undeliverable for ever."""
    clerk, ybj = user("clerk"), user("approver_ybj")
    case = window(session, clerk, ZHANG, CLAIM, handed_in(session, CLAIM, {"本人银行账户信息": "deferred"}))
    review_to_decision(session, ybj, case)
    service.decide(session, clock=ACCEPT, user=ybj, case_id=case.id, expected_version=case.version, approve=False,
                   reason="票据不属于医保支付范围", basis="《基本医疗保险用药管理暂行办法》")
    assert case.state == "denied" and case.deferred
    service.deliver(session, clock=ACCEPT, user=clerk, case_id=case.id, expected_version=case.version,
                    data=DeliveryIn(method="pickup", picked_up_by="张伟"))
    assert case.state == "delivered"


def test_an_optional_step_may_be_skipped_and_steps_after_the_decision_follow_it(session: Session,
                                                                                user: Users) -> None:
    scjg = user("approver_scjg")
    case = window(session, user("clerk"), FENG, FOOD, handed_in(session, FOOD, library=False))
    service.record_opinion(session, clock=ACCEPT, user=scjg, case_id=case.id, expected_version=case.version,
                           opinion="材料齐全")
    assert [s.name for s in service.opinion_steps(case)] == ["现场核查（必要时）"]  # optional: may still be recorded
    assert service.ready_for_decision(case)
    service.decide(session, clock=ACCEPT, user=scjg, case_id=case.id, expected_version=case.version,
                   approve=True, reason="符合条件，准予许可")
    outcomes = [(s.name, s.status, s.outcome) for s in case.steps]
    assert outcomes == [("受理", "done", "agree"), ("审查", "done", "agree"), ("现场核查（必要时）", "done", "skipped"),
                        ("决定", "done", "agree"), ("发证", "done", "agree")]
