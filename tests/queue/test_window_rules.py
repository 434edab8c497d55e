"""Window rules: one clerk per window and one window per clerk, skills narrowed by qualifications,
the smart policy favours 爱心绿色通道, 特呼 needs a reason, cases link to the ticket they were handled under."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from onewindow.core.audit import Actor
from onewindow.core.clock import FixedClock
from onewindow.core.errors import Conflict, PermissionDenied, ValidationFailed
from onewindow.queue import service

from .conftest import ADMIN, QueueHall, at

KIOSK = Actor(None, "kiosk")


def test_one_clerk_per_window_and_one_window_per_clerk(session: Session, qhall: QueueHall, clock: FixedClock) -> None:
    a = qhall.make_clerk("wr_a", ["A", "B"])
    b = qhall.make_clerk("wr_b", ["A", "B"])
    w1, w2 = qhall.windows[1].id, qhall.windows[2].id
    service.sign_in_window(session, clock=clock, actor=a.actor, window_id=w1)
    with pytest.raises(Conflict) as taken:
        service.sign_in_window(session, clock=clock, actor=b.actor, window_id=w1)
    assert taken.value.code == "window_taken"
    with pytest.raises(Conflict) as elsewhere:
        service.sign_in_window(session, clock=clock, actor=a.actor, window_id=w2)
    assert elsewhere.value.code == "signed_in_elsewhere"
    service.issue_ticket(session, clock=clock, actor=KIOSK, hall_code=qhall.code, category="A")
    ticket = service.call_next(session, clock=clock, actor=a.actor, window_id=w1)
    assert ticket is not None
    with pytest.raises(Conflict):
        service.sign_out_window(session, clock=clock, actor=a.actor, window_id=w1)  # a ticket is at the window
    service.pause_window(session, clock=clock, actor=a.actor, window_id=w1)
    service.mark_missed(session, clock=clock, actor=a.actor, window_id=w1, ticket_id=ticket.id)
    with pytest.raises(Conflict) as paused:
        service.call_next(session, clock=clock, actor=a.actor, window_id=w1)
    assert paused.value.code == "window_paused"
    assert service.sign_out_window(session, clock=clock, actor=a.actor, window_id=w1).status == "offline"
    assert service.sign_in_window(session, clock=clock, actor=b.actor, window_id=w1).clerk_id == b.actor.id


def test_skills_are_narrowed_to_the_clerks_qualifications(session: Session, qhall: QueueHall,
                                                          clock: FixedClock) -> None:
    only_a = qhall.make_clerk("wr_c", ["A"])
    w1 = qhall.windows[1].id  # skills A, B; home A
    service.sign_in_window(session, clock=clock, actor=only_a.actor, window_id=w1)
    assert service.window_view(session, qhall.windows[1]).skills == ("A",)
    service.issue_ticket(session, clock=clock, actor=KIOSK, hall_code=qhall.code, category="B")
    assert service.call_next(session, clock=clock, actor=only_a.actor, window_id=w1) is None
    assert [w.number for w in service.windows_for_clerk(session, user_id=only_a.actor.id or 0,
                                                        hall_id=qhall.windows[1].hall_id)] == [1]


def test_smart_policy_calls_the_green_channel_first(session: Session, qhall: QueueHall, clock: FixedClock) -> None:
    service.update_settings(session, clock=clock, actor=ADMIN, hall_code=qhall.code, routing_policy="smart")
    clerk = qhall.make_clerk("wr_d", ["A", "B"])
    service.issue_ticket(session, clock=clock, actor=KIOSK, hall_code=qhall.code, category="A")
    clock.set(at(1))
    service.issue_ticket(session, clock=clock, actor=KIOSK, hall_code=qhall.code, category="A",
                         ticket_class="爱心绿色通道")
    service.sign_in_window(session, clock=clock, actor=clerk.actor, window_id=qhall.windows[1].id)
    ticket = service.call_next(session, clock=clock, actor=clerk.actor, window_id=qhall.windows[1].id)
    assert ticket is not None and (ticket.number, ticket.ticket_class) == ("A002", "green")


def test_call_specific_needs_a_reason_and_the_skill(session: Session, qhall: QueueHall, clock: FixedClock) -> None:
    clerk = qhall.make_clerk("wr_e", ["C"])
    w3 = qhall.windows[3].id  # C only
    service.sign_in_window(session, clock=clock, actor=clerk.actor, window_id=w3)
    a = service.issue_ticket(session, clock=clock, actor=KIOSK, hall_code=qhall.code, category="A")
    c = service.issue_ticket(session, clock=clock, actor=KIOSK, hall_code=qhall.code, category="C")
    with pytest.raises(ValidationFailed):
        service.call_specific(session, clock=clock, actor=clerk.actor, window_id=w3, ticket_id=c.id, reason=" ")
    with pytest.raises(PermissionDenied):
        service.call_specific(session, clock=clock, actor=clerk.actor, window_id=w3, ticket_id=a.id,
                              reason="老人行动不便")
    called = service.call_specific(session, clock=clock, actor=clerk.actor, window_id=w3, ticket_id=c.id,
                                   reason="预约企业代表")
    assert called.state == "called" and called.window_id == w3


def test_cases_link_to_the_ticket_they_were_handled_under(session: Session, qhall: QueueHall,
                                                          clock: FixedClock) -> None:
    clerk = qhall.make_clerk("wr_f", ["C"])
    w3 = qhall.windows[3].id
    service.sign_in_window(session, clock=clock, actor=clerk.actor, window_id=w3)
    service.issue_ticket(session, clock=clock, actor=KIOSK, hall_code=qhall.code, category="C")
    ticket = service.call_next(session, clock=clock, actor=clerk.actor, window_id=w3)
    assert ticket is not None
    with pytest.raises(Conflict):  # not served yet
        service.link_case(session, clock=clock, actor=clerk.actor, window_id=w3, ticket_id=ticket.id,
                          case_number="SL2026112400001")
    service.start_serving(session, clock=clock, actor=clerk.actor, window_id=w3, ticket_id=ticket.id)
    for _ in range(2):  # idempotent
        service.link_case(session, clock=clock, actor=clerk.actor, window_id=w3, ticket_id=ticket.id,
                          case_number="SL2026112400001")
    assert service.cases_of_ticket(session, ticket.id) == ["SL2026112400001"]
