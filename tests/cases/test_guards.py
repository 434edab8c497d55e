"""Guards found in review: who may upload and when, 容缺 settled for the whole bundle, a bundle parent has no
review of its own, a withdrawal cannot orphan decided sub-cases, termination revokes an issued licence, a clerk
decides only instant items they are qualified for, the sweep re-checks each case under its lock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from onewindow.agents import service as agents_service
from onewindow.agents.service import AuthorizationIn
from onewindow.cases import service, sweep
from onewindow.cases.models import Case
from onewindow.cases.service import ApplicantIn, ApplicationIn
from onewindow.certificates.models import Certificate
from onewindow.core.errors import Conflict, PermissionDenied
from onewindow.staff.models import User
from tests import factories
from tests.factories import CLAIM, FENG, FOOD, PREPACKED, RULES, ZHANG, at, handed_in, material_keys

Users = Callable[[str], User]
ACCEPT = at(2026, 11, 23)
ACCOUNT = "本人银行账户信息"


def _window(session: Session, clerk: User, applicant: ApplicantIn, code: str, marks: dict[str, str]) -> Case:
    return factories.window(session, clerk, applicant, code, marks, clock=ACCEPT)


def test_after_acceptance_only_a_deferred_material_may_be_uploaded_and_it_settles_the_deferral(
        session: Session, user: Users) -> None:
    case = _window(session, user("clerk"), ZHANG, CLAIM, handed_in(session, CLAIM, {ACCOUNT: "deferred"}))
    assert case.deferred
    keys = material_keys(session, CLAIM)
    other = next(k for name, k in keys.items() if name != ACCOUNT)
    with pytest.raises(PermissionDenied):  # an approver may view the case, not hand in the applicant's papers
        service.attach_upload(session, clock=ACCEPT, user=user("approver_ybj"), case=case,
                              material_key=keys[ACCOUNT], filename="a.pdf", content_type="application/pdf",
                              size=10, sha256="b" * 64)
    with pytest.raises(Conflict):  # accepted: a material already supplied is not replaced online
        service.attach_upload(session, clock=ACCEPT, user=user("zhangwei"), case=case, material_key=other,
                              filename="a.pdf", content_type="application/pdf", size=10, sha256="b" * 64)
    service.attach_upload(session, clock=ACCEPT, user=user("zhangwei"), case=case, material_key=keys[ACCOUNT],
                          filename="account.pdf", content_type="application/pdf", size=10, sha256="c" * 64)
    assert not case.deferred and case.deferral_due is None
    sweep.sweep_deadlines(session, clock=at(2027, 3, 1))
    assert case.state == "accepted"  # not terminated: nothing is outstanding


def test_a_deferred_material_supplied_on_a_sub_case_settles_the_whole_bundle(session: Session, user: Users) -> None:
    applicant, clerk = ZHANG, user("clerk")
    target = service.resolve_target(session, item_code=None, bundle_code="YJS-RESTAURANT")
    entries = service.checklist(target)
    deferrable = [e for e in entries if e.deferrable]
    assert deferrable, "一件事开餐馆 has deferrable materials (场所证明, 管理制度, ...)"
    marks = {e.key: "paper" for e in entries if e.required}
    marks[deferrable[0].key] = "deferred"
    parent = service.apply(session, clock=ACCEPT, user=clerk, rules_=RULES, online=False, data=ApplicationIn(
        applicant=applicant, bundle_code="YJS-RESTAURANT", materials=marks)).case
    assert parent.deferred
    sub = next(s for s in service.sub_cases(session, parent.id)
               if any(m.key == deferrable[0].key for m in s.materials))
    service.supply_deferred(session, clock=ACCEPT, user=clerk, case_id=sub.id, expected_version=None,
                            keys=[deferrable[0].key])
    assert not parent.deferred and all(not s.deferred for s in service.sub_cases(session, parent.id))


def test_a_bundle_parent_has_no_review_of_its_own_and_cannot_be_withdrawn_once_a_sub_case_is_decided(
        session: Session, user: Users, parents: Callable[..., tuple[User, ApplicantIn]]) -> None:
    _mother, applicant = parents()
    parent = service.apply(session, clock=ACCEPT, user=user("clerk"), rules_=RULES, online=False, data=ApplicationIn(
        applicant=applicant, bundle_code="YJS-NEWBORN",
        materials={"name:出生医学证明首次签发登记表": "paper",
                   "cert:HUKOU_BOOK": "paper"})).case
    assert any(s.state == "approved" for s in service.sub_cases(session, parent.id))  # 秒批 sub-cases
    with pytest.raises(Conflict) as exc:
        service.suspend(session, clock=ACCEPT, user=user("head_wjw"), case_id=parent.id, expected_version=None,
                        kind="expert", reason="专家评审")
    assert exc.value.code == "bundle_parent"
    with pytest.raises(Conflict) as exc:
        service.withdraw(session, clock=ACCEPT, user=user("clerk"), case_id=parent.id, expected_version=None,
                         reason="不办了")
    assert exc.value.code == "sub_cases_decided"


def test_terminating_a_case_revokes_the_licence_it_issued(session: Session, user: Users) -> None:
    scjg = user("approver_scjg")
    marks = handed_in(session, FOOD, library=False)
    keys = material_keys(session, FOOD)
    deferrable = [name for name, key in keys.items()
                  if any(e.key == key and e.deferrable
                         for e in service.checklist(service.resolve_target(session, item_code=FOOD,
                                                                           bundle_code=None)))]
    assert deferrable == ["食品安全管理制度文本"]
    marks[keys[deferrable[0]]] = "deferred"
    case = _window(session, user("clerk"), FENG, FOOD, marks)
    factories.review_to_decision(session, scjg, case, ACCEPT, opinion="符合条件")
    service.decide(session, clock=ACCEPT, user=scjg, case_id=case.id, expected_version=case.version, approve=True,
                   reason="准予许可")
    cert = session.get(Certificate, case.result_certificate_id)
    assert cert is not None and cert.status == "valid"
    assert case.deferral_due is not None
    after = case.deferral_due + dt.timedelta(days=1)
    counts = sweep.sweep_deadlines(session, clock=at(after.year, after.month, after.day))
    assert counts["terminated"] == 1 and case.state == "terminated"
    session.refresh(cert)
    assert cert.status == "revoked" and case.number in cert.revoked_reason


def test_a_clerk_decides_only_instant_items_of_a_category_they_serve(session: Session, user: Users) -> None:
    case = _window(session, user("clerk"), FENG, PREPACKED, handed_in(session, PREPACKED, library=False))
    # paper materials: no 秒批 at intake, the instant item waits for a qualified clerk's decision
    assert case.state == "accepted" and case.decided_by_rule is None
    with pytest.raises(PermissionDenied) as exc:
        service.decide(session, clock=ACCEPT, user=user("clerk_town"), case_id=case.id,
                       expected_version=case.version, approve=True, reason="即办")
    assert exc.value.code == "not_qualified"
    service.decide(session, clock=ACCEPT, user=user("clerk"), case_id=case.id, expected_version=case.version,
                   approve=True, reason="即办")
    assert case.state == "approved"


def test_the_sweep_leaves_a_case_whose_materials_came_in_after_it_read_the_list(session: Session,
                                                                                 user: Users) -> None:
    clerk = user("clerk")
    case = _window(session, clerk, ZHANG, CLAIM, handed_in(session, CLAIM, {ACCOUNT: "deferred"}))
    assert case.deferral_due is not None
    after = case.deferral_due + dt.timedelta(days=1)
    late = at(after.year, after.month, after.day)
    # what the sweep does per case once it holds the lock: check again, then act
    service.supply_deferred(session, clock=late, user=clerk, case_id=case.id, expected_version=None,
                            keys=[material_keys(session, CLAIM)[ACCOUNT]])
    assert sweep._terminate_overdue(session, case, late.now().date(), late) is False
    assert case.state == "accepted"


def test_an_agent_acts_on_a_case_only_while_the_authorisation_holds(session: Session, user: Users) -> None:

    agent, zhang = user("agent"), user("zhangwei")
    grant = agents_service.authorize_agent(session, clock=ACCEPT, user=zhang, data=AuthorizationIn(
        agent_username="agent", applicant=ZHANG, scope=[], valid_from=ACCEPT.now().date(),
        valid_until=ACCEPT.now().date() + dt.timedelta(days=30)))
    case = service.apply(session, clock=ACCEPT, user=agent, rules_=RULES, online=True, data=ApplicationIn(
        applicant=ZHANG, item_code=CLAIM)).case
    assert case.agent_user_id == agent.id and case.authorization_id == grant.id
    agents_service.revoke_authorization(session, clock=ACCEPT, user=zhang, authorization_id=grant.id)
    with pytest.raises(PermissionDenied) as exc:
        service.withdraw(session, clock=ACCEPT, user=agent, case_id=case.id, expected_version=None, reason="代撤回")
    assert exc.value.code == "no_authorization"
    service.withdraw(session, clock=ACCEPT, user=zhang, case_id=case.id, expected_version=None, reason="本人撤回")
    assert case.state == "withdrawn"
    names = [e.actor_name for e in service.timeline(session, case)]
    assert "郑帮办" in names and "张伟" in names  # the timeline shows people's names, not usernames
