"""The deadline sweep and calendar changes: yellow and red with one 电子监察 alert each (raised by the supervision
rules from the sweep's warnings; yellow closes when red comes), alerts closed by the decision, 容缺 terminations,
the pause of a suspended case, 缺席默认 in bundles, and due dates that follow a holiday override.

Dates are on the 2026 official calendar; late November and early December 2026 have no holiday, so from
Monday 2026-11-23 working days are: 11-24 (1), 11-25 (2), 11-26 (3), 11-27 (4), 11-30 (5), 12-01 (6),
12-02 (7), 12-03 (8), 12-04 (9), 12-07 (10), 12-08 (11).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow import wiring
from onewindow.calendar import service as calendar_service
from onewindow.cases import service, sweep
from onewindow.cases.models import Case
from onewindow.cases.service import ApplicantIn, ApplicationIn
from onewindow.catalog.models import Bundle
from onewindow.core.audit import Actor, AuditEntry
from onewindow.core.clock import Clock
from onewindow.staff.models import User
from onewindow.supervision import detectors
from onewindow.supervision import service as supervision
from onewindow.supervision.models import SupervisionAlert
from tests import factories
from tests.cases.conftest import FATHER
from tests.factories import FENG, FOOD, RULES, SOLE_TRADER, ZHANG, at, handed_in, material_keys

Users = Callable[[str], User]
PREMISES = "经营场所使用证明（租赁协议等）"
MONDAY = at(2026, 11, 23)


def food_case(session: Session, user: Users) -> Case:
    case = factories.make_case(session, MONDAY, item_code=FOOD, applicant=FENG)
    assert (case.promised_due, case.legal_due) == (dt.date(2026, 11, 26), dt.date(2026, 12, 7))
    return case


KINDS = {"case_yellow": "yellow", "case_red": "red", "deferral_due": "deferral_overdue"}
CASE_RULES = [r for r in detectors.BUILT_IN if r.code in KINDS]


def sweep_deadlines(session: Session, *, clock: Clock) -> dict[str, int]:
    """The deadline sweep, then the 电子监察 case rules (as the jobs run them); ``alerts``: how many were raised."""
    counts = sweep.sweep_deadlines(session, clock=clock)
    raised = supervision.sweep(session, clock=clock, rules=CASE_RULES)
    return {**counts, "alerts": raised["raised"]}


def alerts(session: Session, case: Case) -> list[tuple[str, dt.date, bool]]:
    rows = session.scalars(select(SupervisionAlert).where(SupervisionAlert.subject_type == "case",
                                                          SupervisionAlert.subject_id == case.id)
                           .order_by(SupervisionAlert.id))
    return [(KINDS[a.rule], dt.date.fromisoformat(a.episode), a.state == "closed") for a in rows]


def test_yellow_the_working_day_before_red_after_one_alert_each_resolved_by_the_decision(
        session: Session, user: Users) -> None:
    case = food_case(session, user)
    sweep_deadlines(session, clock=at(2026, 11, 24))  # two working days left
    assert case.warning == "none" and alerts(session, case) == []
    for _ in range(2):  # idempotent
        counts = sweep_deadlines(session, clock=at(2026, 11, 25, 9))
        assert case.warning == "yellow"
    assert counts["yellow"] >= 1 and counts["alerts"] == 0  # the second run wrote nothing
    sweep_deadlines(session, clock=at(2026, 11, 26))  # the due day itself: still yellow, same alert
    assert case.warning == "yellow"
    assert alerts(session, case) == [("yellow", dt.date(2026, 11, 26), False)]
    sweep_deadlines(session, clock=at(2026, 11, 27))
    sweep_deadlines(session, clock=at(2026, 11, 27, 15))
    assert case.warning == "red"
    assert alerts(session, case) == [("yellow", dt.date(2026, 11, 26), True), ("red", dt.date(2026, 11, 26), False)]
    red = session.scalars(select(SupervisionAlert).where(SupervisionAlert.subject_id == case.id,
                                                         SupervisionAlert.rule == "case_red")).one()
    assert case.number in red.title and red.department_id == case.department_id

    scjg = user("approver_scjg")
    factories.review_to_decision(session, scjg, case, at(2026, 11, 27), opinion="同意")
    service.decide(session, clock=at(2026, 11, 27), user=scjg, case_id=case.id, expected_version=case.version,
                   approve=True, reason="准予许可")
    assert case.warning == "none"
    sweep_deadlines(session, clock=at(2026, 11, 27, 16))
    assert alerts(session, case) == [("yellow", dt.date(2026, 11, 26), True), ("red", dt.date(2026, 11, 26), True)]
    assert case.warning == "none"


def test_deferred_material_not_supplied_in_time_terminates_the_case(session: Session, user: Users) -> None:
    clerk = user("clerk")
    marks = handed_in(session, SOLE_TRADER, {PREMISES: "deferred"})
    late = service.apply(session, clock=MONDAY, user=clerk, rules_=RULES, online=False,
                         data=ApplicationIn(applicant=ZHANG, item_code=SOLE_TRADER, materials=marks)).case
    on_time = service.apply(session, clock=MONDAY, user=clerk, rules_=RULES, online=False,
                            data=ApplicationIn(applicant=ZHANG, item_code=SOLE_TRADER, materials=marks)).case
    assert late.deferral_due == dt.date(2026, 11, 24)  # capped by the 1-working-day promise
    service.supply_deferred(session, clock=at(2026, 11, 24), user=clerk, case_id=on_time.id,
                            expected_version=on_time.version, keys=[material_keys(session, SOLE_TRADER)[PREMISES]])
    sweep_deadlines(session, clock=at(2026, 11, 24, 16))  # the last day: not yet
    assert late.state == "accepted"
    for _ in range(2):
        sweep_deadlines(session, clock=at(2026, 11, 25))
    assert late.state == "terminated" and "2026-11-24" in late.closed_reason
    assert late.closed_basis == "容缺受理承诺书"
    # the yellow of its last day, then one 容缺 alert; both resolved now that the case is closed
    assert alerts(session, late) == [("yellow", dt.date(2026, 11, 24), True),
                                     ("deferral_overdue", dt.date(2026, 11, 24), True)]
    assert on_time.state == "accepted" and not on_time.deferred
    terminated = [e for e in service.timeline(session, late) if e.kind == "terminated"]
    assert len(terminated) == 1 and terminated[0].actor_name == "电子监察"


def test_approved_case_still_waiting_for_deferred_material_is_terminated_too(session: Session, user: Users) -> None:
    scjg = user("approver_scjg")
    marks = handed_in(session, SOLE_TRADER, {PREMISES: "deferred"})
    case = service.apply(session, clock=MONDAY, user=user("clerk"), rules_=RULES, online=False,
                         data=ApplicationIn(applicant=ZHANG, item_code=SOLE_TRADER, materials=marks)).case
    factories.review_to_decision(session, scjg, case, MONDAY, opinion="同意")
    service.decide(session, clock=MONDAY, user=scjg, case_id=case.id, expected_version=case.version, approve=True,
                   reason="准予登记")
    sweep_deadlines(session, clock=at(2026, 11, 25))
    assert case.state == "terminated"


def test_a_suspended_case_is_not_warned_and_its_due_dates_grow_with_the_pause(session: Session, user: Users) -> None:
    case = food_case(session, user)
    scjg = user("approver_scjg")
    service.suspend(session, clock=at(2026, 11, 24), user=scjg, case_id=case.id, expected_version=case.version,
                    kind="expert", reason="专家评审")
    sweep_deadlines(session, clock=at(2026, 11, 26))
    # paused 11-24 … 11-26 (today counts as paused): 11-27 (1), 11-30 (2), 12-01 (3)
    assert case.promised_due == dt.date(2026, 12, 1) and case.warning == "none"
    assert case.legal_due == dt.date(2026, 12, 10)  # 12-07 + 3 working days
    assert alerts(session, case) == []


# ----- bundles: 缺席默认 ------------------------------------------------------------------------------------------


def newborn(session: Session, user: Users, parents: Callable[..., tuple[User, ApplicantIn]], *,
            default_consent: bool) -> tuple[Case, dict[str, Case]]:
    """新生儿出生一件事 at the window on Monday 11-23; the ID cards come from the library (two 秒批)."""
    bundle = session.scalars(select(Bundle).where(Bundle.code == "YJS-NEWBORN")).one()
    bundle.default_consent = default_consent
    _mother, applicant = parents()
    target = service.resolve_target(session, item_code=None, bundle_code="YJS-NEWBORN")
    marks = {e.key: "paper" for e in service.checklist(target) if e.required and e.certificate_type_id is None}
    parent = service.apply(session, clock=MONDAY, user=user("clerk"), rules_=RULES, online=False, data=ApplicationIn(
        applicant=applicant, bundle_code="YJS-NEWBORN", materials=marks, extra_holders=[FATHER])).case
    subs = {s.item.code if s.item else "": s for s in service.sub_cases(session, parent.id)}
    assert subs["410724-RSJ-GG-001"].decided_by_rule == "秒批"
    assert subs["410724-WJW-GG-001"].promised_due == dt.date(2026, 11, 23)  # instant: due the same day
    assert subs["410724-YBJ-JF-002"].promised_due == dt.date(2026, 12, 7)  # 10 working days
    return parent, subs


def test_default_consent_approves_late_co_department_sub_cases_and_the_bundle_completes_with_the_last(
        session: Session, user: Users, parents: Callable[..., tuple[User, ApplicantIn]]) -> None:
    parent, subs = newborn(session, user, parents, default_consent=True)
    counts = sweep_deadlines(session, clock=at(2026, 11, 24))
    assert counts["default_consent"] >= 1
    hukou = subs["410724-GAJ-QR-003"]
    assert hukou.state == "approved" and hukou.decided_by_rule == "缺席默认"
    assert [s.outcome for s in hukou.steps] == ["agree", "default", "default"]
    assert hukou.decision_basis == "一件事缺席默认机制"
    # the lead department (卫健委) coordinates and decides its own sub-case: it only turns red
    lead = subs["410724-WJW-GG-001"]
    assert lead.state == "accepted" and lead.warning == "red" and lead.decided_by_rule is None
    assert subs["410724-YBJ-JF-002"].state == "accepted"
    assert parent.state == "in_review"

    sweep_deadlines(session, clock=at(2026, 12, 7))  # the due day: not yet
    assert subs["410724-YBJ-JF-002"].state == "accepted"
    sweep_deadlines(session, clock=at(2026, 12, 8))
    assert subs["410724-YBJ-JF-002"].decided_by_rule == "缺席默认"
    assert parent.state == "in_review"  # still waiting for the lead department
    service.decide(session, clock=at(2026, 12, 8, 15), user=user("approver_wjw"), case_id=lead.id,
                   expected_version=lead.version, approve=True, reason="出生医学证明已签发")
    assert parent.state == "approved" and parent.decided_on == dt.date(2026, 12, 8)
    assert parent.decision_reason == "各分件均已办结"


def test_without_default_consent_a_late_sub_case_just_turns_red(
        session: Session, user: Users, parents: Callable[..., tuple[User, ApplicantIn]]) -> None:
    parent, subs = newborn(session, user, parents, default_consent=False)
    sweep_deadlines(session, clock=at(2026, 11, 24))
    wjw = subs["410724-WJW-GG-001"]
    assert wjw.state == "accepted" and wjw.warning == "red" and wjw.decided_by_rule is None
    assert ("red", dt.date(2026, 11, 23), False) in alerts(session, wjw)
    assert parent.state == "in_review"


def test_a_denied_sub_case_is_named_when_the_bundle_completes(
        session: Session, user: Users, parents: Callable[..., tuple[User, ApplicantIn]]) -> None:
    parent, subs = newborn(session, user, parents, default_consent=True)
    sweep_deadlines(session, clock=at(2026, 11, 24))
    lead = subs["410724-WJW-GG-001"]
    service.decide(session, clock=at(2026, 11, 24), user=user("approver_wjw"), case_id=lead.id,
                   expected_version=lead.version, approve=True, reason="出生医学证明已签发")
    benefit = subs["410724-YBJ-JF-002"]
    ybj = user("approver_ybj")
    factories.review_to_decision(session, ybj, benefit, at(2026, 11, 25), opinion="未参保满一年", agree=False)
    service.decide(session, clock=at(2026, 11, 25), user=ybj, case_id=benefit.id, expected_version=benefit.version,
                   approve=False, reason="生育保险连续缴费不足", basis="《河南省职工生育保险办法》")
    assert benefit.state == "denied"
    assert parent.state == "approved"  # the other four were approved
    assert parent.decision_reason == "各分件均已办结；其中未获准予：生育保险待遇核准与支付"
    sweep_deadlines(session, clock=at(2026, 11, 25, 16))
    assert parent.state == "approved"


# ----- calendar changes ---------------------------------------------------------------------------------------


def test_a_new_holiday_inside_the_window_moves_the_due_dates_with_an_event_and_an_audit_entry(
        session: Session, user: Users, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calendar_service, "on_calendar_changed", [])
    wiring.install()
    wiring.install()  # idempotent
    assert len(calendar_service.on_calendar_changed) == 1
    case = food_case(session, user)
    later = service.apply(session, clock=at(2026, 11, 26), user=user("clerk"), rules_=RULES, online=False,
                          data=ApplicationIn(applicant=FENG, item_code=FOOD,
                                             materials=handed_in(session, FOOD, library=False))).case
    assert later.promised_due == dt.date(2026, 12, 1)
    admin = Actor(None, "admin")
    calendar_service.set_override(session, clock=at(2026, 11, 24), actor=admin, day_date=dt.date(2026, 11, 25),
                                  kind="holiday", name="临时调休")
    assert case.promised_due == dt.date(2026, 11, 27)  # 11-24 (1), 11-26 (2), 11-27 (3)
    assert case.legal_due == dt.date(2026, 12, 8)
    [event] = [e for e in service.timeline(session, case) if e.kind == "deadlines_recomputed"]
    assert event.data["before"]["promised_due"] == "2026-11-26" and event.data["after"]["promised_due"] == "2026-11-27"
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "cases.deadlines_recomputed",
                                                       AuditEntry.entity_id == case.number)).all()
    assert len(entries) == 1 and entries[0].actor == "admin"
    # accepted after the new holiday: its window does not contain it
    assert later.promised_due == dt.date(2026, 12, 1)
    assert not [e for e in service.timeline(session, later) if e.kind == "deadlines_recomputed"]

    calendar_service.delete_override(session, clock=at(2026, 11, 24), actor=admin, day_date=dt.date(2026, 11, 25))
    assert (case.promised_due, case.legal_due) == (dt.date(2026, 11, 26), dt.date(2026, 12, 7))
    assert len([e for e in service.timeline(session, case) if e.kind == "deadlines_recomputed"]) == 2


def test_a_sub_case_stays_within_its_bundle_promise_when_the_calendar_changes(
        session: Session, user: Users, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calendar_service, "on_calendar_changed", [])
    wiring.install()
    bundle = session.scalars(select(Bundle).where(Bundle.code == "YJS-NEWBORN")).one()
    bundle.promised_limit_days = 5  # shorter than 生育保险待遇's own 10 working days
    target = service.resolve_target(session, item_code=None, bundle_code="YJS-NEWBORN")
    marks = {e.key: "paper" for e in service.checklist(target) if e.required}
    parent = service.apply(session, clock=MONDAY, user=user("clerk"), rules_=RULES, online=False,
                           data=ApplicationIn(applicant=ZHANG, bundle_code="YJS-NEWBORN", materials=marks)).case
    [benefit] = [s for s in service.sub_cases(session, parent.id) if s.item and s.item.code == "410724-YBJ-JF-002"]
    assert parent.promised_due == benefit.promised_due == dt.date(2026, 11, 30)  # 5 working days
    assert benefit.legal_due == dt.date(2026, 12, 21)  # 20 working days
    calendar_service.set_override(session, clock=at(2026, 11, 24), actor=Actor(None, "admin"),
                                  day_date=dt.date(2026, 12, 10), kind="holiday", name="临时调休")
    assert benefit.legal_due == dt.date(2026, 12, 22)  # moved by the new holiday
    assert benefit.promised_due == dt.date(2026, 11, 30)  # still capped by the bundle
