"""The 差评 closed loop through the real services: a 差评 opens a work order, which is verified, rectified, called
back and closed (the figures move), voided by an upheld appeal, or reopened and escalated after unsatisfied
callbacks (回访)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow import wiring
from onewindow.config import Settings
from onewindow.core.audit import AuditEntry
from onewindow.core.clock import FixedClock, today
from onewindow.ratings import service
from onewindow.ratings.models import Rating
from onewindow.rectification import service as rectification
from onewindow.rectification.models import RectificationOrder
from onewindow.rectification.states import OrderState, SourceKind
from onewindow.staff.models import User
from onewindow.staff.service import viewer_of
from tests.factories import SOLE_TRADER, staff
from tests.ratings.conftest import Serve

RATER_PHONE = "13900001111"


@pytest.fixture(autouse=True)
def _wired() -> None:
    wiring.install()  # idempotent: the app and the demo install the same listeners


@pytest.fixture
def head(session: Session) -> User:
    return staff(session, "head_scjg")


@pytest.fixture
def supervisor(session: Session) -> User:
    return staff(session, "supervisor")


def _bad(session: Session, day: FixedClock, settings: Settings, serve: Serve, *, phone: str | None = RATER_PHONE,
         level: str = "very_unsatisfied") -> Rating:
    ticket = serve(item_code=SOLE_TRADER, phone=phone)
    return service.rate_ticket(session, clock=day, settings=settings, ticket_id=ticket.id, channel="evaluator",
                               level=level, scores=None, reasons=["unclear_notice", "many_trips"],
                               comment="材料没有一次说清楚")


def _order(session: Session, rating: Rating) -> RectificationOrder:
    order = rectification.order_for(session, SourceKind.RATING, rating.id)
    assert order is not None, "every 差评 opens one work order"
    return order


def _scjg(session: Session, day: FixedClock) -> service.GroupFigures:
    on = today(day)
    groups = service.figures(session, viewer=viewer_of(staff(session, "supervisor")), date_from=on, date_to=on,
                             by="department")
    [scjg] = [g for g in groups if g.key == staff(session, "head_scjg").department_id]
    return scjg


def _pair(figure: service.Figure) -> tuple[int, int]:
    return figure.numerator, figure.denominator


def test_a_very_unsatisfied_visit_goes_through_verification_rectification_callback_and_closing(
        session: Session, day: FixedClock, settings: Settings, serve: Serve, head: User, supervisor: User) -> None:
    good = serve(item_code=SOLE_TRADER)
    service.rate_ticket(session, clock=day, settings=settings, ticket_id=good.id, channel="evaluator",
                        level="very_satisfied", scores=None)
    before = _scjg(session, day)
    assert _pair(before.bad_rate) == (0, 1)

    rating = _bad(session, day, settings, serve)
    assert rating.identified and rating.negative
    order = _order(session, rating)
    assert (order.state, order.department_id, order.identified) == (OrderState.PENDING.value,
                                                                     head.department_id, True)
    opened = _scjg(session, day)
    assert _pair(opened.bad_rate) == (1, 2)
    assert _pair(opened.callback_rate) == (0, 1)
    assert _pair(opened.rectified_rate) == (0, 1)

    rectification.verify(session, clock=day, user=head, order_id=order.id, expected_version=order.version,
                         note="已电话联系评价人，情况属实")
    assert order.state == OrderState.RECTIFYING.value and order.due_on is not None
    rectification.complete(session, clock=day, user=head, order_id=order.id, expected_version=order.version,
                           measures="窗口补充一次性告知单，已向评价人致歉")
    assert order.state == OrderState.RECTIFIED.value
    assert _pair(_scjg(session, day).callback_rate) == (0, 1), "整改完成 is not yet 回访整改"
    rectification.record_callback(session, clock=day, user=supervisor, order_id=order.id,
                                  expected_version=order.version, verdict="satisfied", note="评价人表示满意")
    assert (order.state, order.outcome) == (OrderState.CLOSED.value, "rectified")

    closed = _scjg(session, day)
    assert _pair(closed.callback_rate) == (1, 1)
    assert _pair(closed.rectified_rate) == (1, 1)
    assert _pair(closed.on_time_rate) == (1, 1)
    assert _pair(closed.bad_rate) == (1, 2)


def test_the_work_order_names_the_reasons_in_chinese_not_their_codes(
        session: Session, day: FixedClock, settings: Settings, serve: Serve) -> None:
    order = _order(session, _bad(session, day, settings, serve))
    assert order.title == "差评（非常不满意）：一次性告知不清、多次跑动"
    assert "差评理由：一次性告知不清、多次跑动" in order.detail
    assert "many_trips" not in order.title + order.detail


def test_an_anonymous_bad_rating_is_outside_the_identified_callback_rate(
        session: Session, day: FixedClock, settings: Settings, serve: Serve) -> None:
    rating = _bad(session, day, settings, serve, phone=None)
    assert not rating.identified
    figures = _scjg(session, day)
    assert _pair(figures.callback_rate) == (0, 0)
    assert _pair(figures.rectified_rate) == (0, 1)


def test_an_upheld_appeal_voids_the_rating_keeps_it_out_of_the_good_rate_and_is_audited(
        session: Session, day: FixedClock, settings: Settings, serve: Serve, head: User, supervisor: User) -> None:
    good = serve(item_code=SOLE_TRADER)
    service.rate_ticket(session, clock=day, settings=settings, ticket_id=good.id, channel="evaluator",
                        level="satisfied", scores=None)
    rating = _bad(session, day, settings, serve, level="unsatisfied")
    order = _order(session, rating)
    assert _pair(_scjg(session, day).good_rate) == (1, 2)

    rectification.verify(session, clock=day, user=head, order_id=order.id, expected_version=order.version,
                         note="回拨核实：评价人承认误操作", appeal=True)
    rectification.appeal(session, clock=day, user=head, order_id=order.id, expected_version=order.version,
                         reason="评价人误点差评", evidence="通话录音 2026-12-02 10:20")
    assert order.state == OrderState.APPEALED.value
    rectification.decide_appeal(session, clock=day, user=supervisor, order_id=order.id,
                                expected_version=order.version, uphold=True, note="申诉成立，认定无效差评")
    session.refresh(rating)
    assert order.state == OrderState.VOIDED.value
    assert rating.voided_at is not None and rating.void_reason

    figures = _scjg(session, day)
    assert _pair(figures.good_rate) == (1, 1), "a voided rating leaves 好评率"
    assert figures.voided == 1 and figures.ratings == 2
    assert _pair(figures.bad_rate) == (0, 1)
    assert _pair(figures.rectified_rate) == (0, 0)

    actions = set(session.scalars(select(AuditEntry.action).where(
        AuditEntry.entity_id.in_([str(rating.id), order.number]))))
    assert {"ratings.ticket.rate", "ratings.void", "rectification.opened", "rectification.verified",
            "rectification.appealed", "rectification.appeal_upheld"} <= actions


def test_an_unsatisfied_callback_reopens_once_then_escalates_and_the_supervisor_closes(
        session: Session, day: FixedClock, settings: Settings, serve: Serve, head: User, supervisor: User) -> None:
    order = _order(session, _bad(session, day, settings, serve))
    rectification.verify(session, clock=day, user=head, order_id=order.id, expected_version=None, note="属实")
    rectification.complete(session, clock=day, user=head, order_id=order.id, expected_version=None,
                           measures="已整改")
    rectification.record_callback(session, clock=day, user=supervisor, order_id=order.id, expected_version=None,
                                  verdict="unsatisfied", note="评价人仍不满意")
    assert (order.state, order.reopen_count) == (OrderState.RECTIFYING.value, 1)
    rectification.complete(session, clock=day, user=head, order_id=order.id, expected_version=None,
                           measures="再次整改：专人跟进")
    rectification.record_callback(session, clock=day, user=supervisor, order_id=order.id, expected_version=None,
                                  verdict="unsatisfied", note="仍不满意")
    assert (order.state, order.escalated) == (OrderState.ESCALATED.value, True)
    assert _pair(_scjg(session, day).rectified_rate) == (0, 1)
    rectification.close_escalated(session, clock=day, user=supervisor, order_id=order.id, expected_version=None,
                                  note="督办结论：整改到位，向评价人说明")
    assert order.state == OrderState.CLOSED.value
    kinds = [e.kind for e in rectification.timeline(session, order)]
    assert kinds == ["opened", "verified", "rectifying", "rectified", "reopened", "rectified", "escalated",
                     "closed_by_supervisor"]
