"""The test factories keep their promises: fresh valid numbers, and every trait yields the state it names."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.cases import service
from onewindow.cases.models import Case
from onewindow.certificates.demo import FENGYUAN, LI_NA, WANG_FANG, ZHANG_WEI
from onewindow.certificates.models import Certificate
from onewindow.core.clock import FixedClock, today
from onewindow.core.ids import is_valid_credit_code, is_valid_id_number
from onewindow.staff import service as staff_service
from tests import factories as f


def test_fresh_numbers_are_valid_and_unique_and_never_a_demo_holders() -> None:
    ids = [f.new_id_number() for _ in range(500)]
    codes = [f.new_credit_code() for _ in range(500)]
    assert all(is_valid_id_number(n) for n in ids) and len(set(ids)) == 500
    assert all(is_valid_credit_code(c) for c in codes) and len(set(codes)) == 500
    assert not {ZHANG_WEI, LI_NA, WANG_FANG} & set(ids) and FENGYUAN not in codes
    assert all(n.startswith("410724") for n in ids) and all(c.startswith("91410724") for c in codes)


def test_a_person_has_an_id_card_in_the_library_and_an_account_that_signs_in(
        session: Session, clock: FixedClock) -> None:
    one, two = f.make_person(session, clock), f.make_person(session, clock, name="赵敏", hukou=True)
    assert one.id_number != two.id_number and two.name == "赵敏"
    assert one.applicant == service.ApplicantIn(kind="person", name=one.name, id_number=one.id_number,
                                                phone="13803731234")
    assert one.user is not None and one.user.role == "applicant" and one.user.id_number == one.id_number
    assert two.user is not None
    signed_in = staff_service.authenticate(session, clock=clock, username=two.user.username,
                                           password=f.DEMO_PASSWORD)
    assert signed_in.id == two.user.id
    held = {(c.holder_id, c.type.code) for c in session.scalars(
        select(Certificate).where(Certificate.holder_id.in_([one.id_number, two.id_number])))}
    assert held == {(one.id_number, "ID_CARD"), (two.id_number, "ID_CARD"), (two.id_number, "HUKOU_BOOK")}


def test_a_bare_person_has_neither_certificate_nor_account(session: Session, clock: FixedClock) -> None:
    bare = f.make_person(session, clock, with_id_card=False, account=False)
    assert bare.user is None
    assert session.scalar(select(func.count()).select_from(Certificate)
                          .where(Certificate.holder_id == bare.id_number)) == 0
    agent = f.make_person(session, clock, role="agent")
    assert agent.user is not None and agent.user.role == "agent"


def test_an_enterprise_has_its_licence_in_the_library(session: Session, clock: FixedClock) -> None:
    firm, bare = f.make_enterprise(session, clock), f.make_enterprise(session, clock, with_licence=False)
    assert firm.credit_code != bare.credit_code and firm.applicant.kind == "enterprise"
    licences = session.scalars(select(Certificate).where(
        Certificate.holder_id.in_([firm.credit_code, bare.credit_code]))).all()
    assert [(c.holder_id, c.type.code, c.holder_name) for c in licences] == [
        (firm.credit_code, "BIZ_LICENSE", firm.name)]


def test_staff_and_users_look_up_demo_users(session: Session) -> None:
    everyone = f.users(session)
    assert f.staff(session, "clerk") is everyone["clerk"] and everyone["approver_scjg"].role == "approver"
    with pytest.raises(AssertionError):
        f.staff(session, "nobody")


@pytest.mark.parametrize("state", ["correction_requested", "refused", "accepted", "in_review", "suspended",
                                   "approved", "denied", "delivered", "archived", "withdrawn"])
def test_each_window_state_trait_yields_that_state(session: Session, clock: FixedClock, state: str) -> None:
    case = f.make_case(session, clock, state=state)
    assert case.state == state and case.channel == "window"
    assert case.item_version is not None and case.item_version.item.code == f.CLAIM
    assert session.get(Case, case.id) is case
    events = [e.kind for e in service.timeline(session, case)]
    assert events[0] == "submitted" and len(events) >= 2


@pytest.mark.parametrize("state", ["submitted", "refused", "accepted", "approved", "delivered"])
def test_each_online_state_trait_yields_that_state(session: Session, clock: FixedClock, state: str) -> None:
    person = f.make_person(session, clock)
    case = f.make_case(session, clock, state=state, channel="online", applicant=person)
    assert case.state == state and case.channel == "online"
    assert person.user is not None and case.applicant_user_id == person.user.id


def test_deferred_and_commitment_traits(session: Session, clock: FixedClock) -> None:
    deferred = f.make_case(session, clock, deferred=True)
    assert deferred.state == "accepted" and deferred.deferred and deferred.deferral_due is not None
    assert {m.name for m in deferred.materials if m.status == "deferred"} == {"本人银行账户信息"}
    promised = f.make_case(session, clock, item_code=f.SOLE_TRADER, commitment=True, state="approved")
    assert promised.state == "approved" and promised.commitment and not promised.deferred
    assert {m.name for m in promised.materials if m.status == "promised"} == {"经营场所使用证明（租赁协议等）"}
    held_back = f.make_case(session, clock, deferred=True, state="approved")
    assert held_back.state == "approved" and held_back.deferred
    for impossible in ({"deferred": True, "state": "delivered"}, {"deferred": True, "commitment": True},
                       {"state": "submitted"}, {"state": "nonsense"}):
        with pytest.raises(ValueError):
            f.make_case(session, clock, **impossible)  # type: ignore[arg-type]


def test_overdue_trait_is_accepted_long_ago_and_warned_red(session: Session, clock: FixedClock) -> None:
    case = f.make_case(session, clock, state="overdue")
    assert case.state == "accepted" and case.warning == "red"
    assert case.promised_due is not None and case.promised_due < today(clock)
    assert case.legal_due is not None and case.legal_due < today(clock)


def test_an_enterprise_case_issues_its_licence_to_the_credit_code(session: Session, clock: FixedClock) -> None:
    firm = f.make_enterprise(session, clock)
    case = f.make_case(session, clock, applicant=firm, state="delivered")
    assert case.state == "delivered" and case.applicant_id == firm.credit_code
    cert = session.get(Certificate, case.result_certificate_id)
    assert cert is not None and cert.type.code == "FOOD_LICENSE" and cert.holder_id == firm.credit_code


def test_a_demo_applicant_may_apply_but_not_online_without_an_account(session: Session, clock: FixedClock) -> None:
    case = f.make_case(session, clock, item_code=f.SOLE_TRADER, applicant=f.ZHANG)
    assert case.state == "accepted" and case.applicant_id == ZHANG_WEI and case.applicant_name == "张伟"
    firm = f.make_enterprise(session, clock)
    for applicant in (f.ZHANG, firm, f.make_person(session, clock, account=False)):
        with pytest.raises(ValueError):
            f.make_case(session, clock, channel="online", applicant=applicant)
