"""The demo county has cases in every state, a bundle, warnings and alerts, an agent authorisation; loading
again adds nothing."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.agents.models import AgentAuthorization
from onewindow.cases import service
from onewindow.cases.demo import load_demo_cases
from onewindow.cases.models import Case, CaseDelivery, CaseExtension
from onewindow.cases.states import CaseState
from onewindow.certificates.demo import LI_NA
from onewindow.certificates.models import Certificate
from onewindow.core.audit import Actor
from onewindow.core.clock import FixedClock
from onewindow.supervision.models import SupervisionAlert


def test_every_case_state_is_in_the_demo(session: Session) -> None:
    states = set(session.scalars(select(Case.state).distinct()))
    assert states == {s.value for s in CaseState}


def test_the_demo_shows_the_special_paths(session: Session) -> None:
    cases = list(session.scalars(select(Case)))
    accepted = [c for c in cases if c.state == "accepted" and c.kind == "single"]
    assert any(c.deferred and c.deferral_due for c in accepted)  # 容缺
    assert any(c.commitment for c in accepted)  # 告知承诺
    assert any(c.decided_by_rule == "秒批" for c in cases)
    assert {c.warning for c in cases} >= {"yellow", "red"}
    assert {d.method for d in session.scalars(select(CaseDelivery))} == {"pickup", "mail", "electronic"}
    terminated = {c.closed_basis for c in cases if c.state == "terminated"}
    assert "容缺受理承诺书" in terminated  # the sweep ran at the end of the load
    assert session.scalars(select(CaseExtension).where(CaseExtension.status == "requested")).first() is not None
    rules = set(session.scalars(select(SupervisionAlert.rule).where(SupervisionAlert.subject_type == "case")))
    assert rules >= {"case_yellow", "case_red"}  # 电子监察 raised them from the sweep's warnings
    assert any(c.channel == "window" and c.receiving_hall and c.receiving_hall.code == "HJ-CGZ" for c in cases)


def test_the_newborn_bundle_has_sub_cases_in_several_states(session: Session) -> None:
    parent = session.scalars(select(Case).where(Case.kind == "bundle")).one()
    assert parent.bundle is not None and parent.bundle.code == "YJS-NEWBORN" and parent.state == "in_review"
    states = sorted(s.state for s in service.sub_cases(session, parent.id))
    assert states == ["accepted", "accepted", "approved", "approved", "in_review"]


def test_an_agent_holds_an_authorisation_and_filed_a_case(session: Session) -> None:
    [grant] = session.scalars(select(AgentAuthorization)).all()
    assert grant.applicant_id == LI_NA and grant.revoked_at is None
    agent_cases = session.scalars(select(Case).where(Case.agent_user_id == grant.agent_user_id)).all()
    assert [c.state for c in agent_cases] == ["submitted"]


def test_the_demo_issues_no_certificate_to_the_demo_holders(session: Session) -> None:
    assert session.scalars(select(Certificate).where(Certificate.source == "issued")).first() is None


def test_loading_again_adds_nothing(session: Session, clock: FixedClock) -> None:
    before = session.scalar(select(func.count()).select_from(Case))
    assert load_demo_cases(session, clock, Actor(None, "test")) == 0
    assert session.scalar(select(func.count()).select_from(Case)) == before
