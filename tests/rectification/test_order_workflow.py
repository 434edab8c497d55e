"""The rectification loop through the service: open (idempotent), verify, rectify, callback, close; appeals,
无法整改, extension, reopening and escalation, the overdue sweep, versions and the Chinese 422s."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from onewindow.core.audit import AuditEntry
from onewindow.core.clock import CHINA_TZ, FixedClock
from onewindow.core.errors import Conflict, PermissionDenied, ValidationFailed
from onewindow.rectification import service
from onewindow.rectification.models import RectificationOrder
from onewindow.rectification.states import SourceKind
from onewindow.staff.models import User
from tests.factories import staff
from tests.rectification.support import department, open_fake


@pytest.fixture
def head(session: Session) -> User:
    return staff(session, "head_scjg")


@pytest.fixture
def supervisor(session: Session) -> User:
    return staff(session, "supervisor")


def _rectifying(session: Session, clock: FixedClock, head: User) -> RectificationOrder:
    order = open_fake(session, clock)
    return service.verify(session, clock=clock, user=head, order_id=order.id, expected_version=order.version,
                          note="已电话联系体验员，情况属实")


def _complete(session: Session, clock: FixedClock, head: User, order: RectificationOrder) -> RectificationOrder:
    return service.complete(session, clock=clock, user=head, order_id=order.id, expected_version=order.version,
                            measures="已对窗口人员批评教育并组织业务培训")


def _callback(session: Session, clock: FixedClock, user: User, order: RectificationOrder,
              verdict: str) -> RectificationOrder:
    return service.record_callback(session, clock=clock, user=user, order_id=order.id,
                                   expected_version=order.version, verdict=verdict, note="回访记录")


def test_opening_twice_for_one_source_gives_one_order(session: Session, clock: FixedClock) -> None:
    first = open_fake(session, clock, source_id=424242)
    again = open_fake(session, clock, source_id=424242)
    assert again.id == first.id
    assert len(first.number) == 13 and first.number.startswith("ZG20261123")
    assert first.state == "pending" and first.opened_on == dt.date(2026, 11, 23) and first.deadline_days == 5
    assert session.scalars(select(RectificationOrder).where(RectificationOrder.source_id == 424242)).all() == [first]
    second = open_fake(session, clock)
    assert int(second.number[-3:]) == int(first.number[-3:]) + 1
    assert service.order_for(session, SourceKind.EXPERIENCE, 424242) is first
    assert service.orders_for(session, "experience", [424242, second.source_id, 1]) == {
        424242: first, second.source_id: second}
    assert [e.kind for e in service.timeline(session, first)] == ["opened"]


def test_full_loop_closes_on_a_satisfied_callback(session: Session, clock: FixedClock, head: User,
                                                  supervisor: User) -> None:
    closed: list[tuple[int, str]] = []
    service.register_close_listener(SourceKind.EXPERIENCE, lambda _s, sid, _c, _a, note: closed.append((sid, note)))
    try:
        order = _rectifying(session, clock, head)
        # Monday 2026-11-23 + 5 working days (Tue 24 … Fri 27, Mon 30): no holiday in between
        assert order.state == "rectifying" and order.due_on == dt.date(2026, 11, 30)
        assert order.verification == "已电话联系体验员，情况属实" and order.version == 3
        clock.advance(dt.timedelta(days=2))
        order = _complete(session, clock, head, order)
        assert order.state == "rectified" and order.overdue is False
        order = _callback(session, clock, supervisor, order, "satisfied")
        assert order.state == "closed" and order.outcome == "rectified" and order.closed_on == dt.date(2026, 11, 25)
        assert closed == [(order.source_id, "回访记录")]
    finally:
        service._close_listeners.pop(SourceKind.EXPERIENCE, None)
    kinds = [e.kind for e in service.timeline(session, order)]
    assert kinds == ["opened", "verified", "rectifying", "rectified", "closed"]
    audited = session.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == order.number)
                              .order_by(AuditEntry.id)).all()
    assert audited == [f"rectification.{k}" for k in kinds]


def test_due_date_skips_national_day_and_counts_the_make_up_saturday(session: Session) -> None:
    clock = FixedClock(dt.datetime(2026, 9, 29, 10, 0, tzinfo=CHINA_TZ))  # Tuesday before 国庆
    head = staff(session, "head_scjg")
    order = _rectifying(session, clock, head)
    # 2026: 国庆 Oct 1–7 off, Sep 30 working; Sat Oct 10 a make-up working day:
    # Sep 30 (1), Oct 8 (2), Oct 9 (3), Oct 10 (4), Oct 12 (5)
    assert order.due_on == dt.date(2026, 10, 12)


def test_upheld_appeal_voids_the_order_and_calls_the_void_listener(session: Session, clock: FixedClock,
                                                                   head: User, supervisor: User) -> None:
    voided: list[Any] = []
    service.register_void_listener("experience", lambda s, sid, c, a, note: voided.append((sid, a.label, note)))
    try:
        order = open_fake(session, clock)
        order = service.verify(session, clock=clock, user=head, order_id=order.id, expected_version=order.version,
                               note="评价人称误点差评", appeal=True)
        assert order.state == "verified"
        order = service.appeal(session, clock=clock, user=head, order_id=order.id, expected_version=order.version,
                               reason="评价人误操作", evidence="通话录音 20261123-01")
        assert order.state == "appealed"
        order = service.decide_appeal(session, clock=clock, user=supervisor, order_id=order.id,
                                      expected_version=order.version, uphold=True, note="申诉成立")
    finally:
        service._void_listeners.pop(SourceKind.EXPERIENCE, None)
    assert order.state == "voided" and order.outcome == "voided" and order.appeal_decision == "upheld"
    assert voided == [(order.source_id, "supervisor", "申诉成立")]


def test_rejected_appeal_starts_rectifying_with_a_due_date(session: Session, clock: FixedClock, head: User,
                                                           supervisor: User) -> None:
    order = open_fake(session, clock)
    order = service.verify(session, clock=clock, user=head, order_id=order.id, expected_version=order.version,
                           note="核实", appeal=True)
    order = service.appeal(session, clock=clock, user=head, order_id=order.id, expected_version=order.version,
                           reason="理由", evidence="证据")
    clock.advance(dt.timedelta(days=1))  # Tuesday
    order = service.decide_appeal(session, clock=clock, user=supervisor, order_id=order.id,
                                  expected_version=order.version, uphold=False, note="申诉不成立")
    assert order.state == "rectifying" and order.appeal_decision == "rejected"
    assert order.due_on == dt.date(2026, 12, 1)


def test_verified_without_appeal_may_start_rectifying(session: Session, clock: FixedClock, head: User) -> None:
    order = open_fake(session, clock)
    order = service.verify(session, clock=clock, user=head, order_id=order.id, expected_version=order.version,
                           note="核实", appeal=True)
    order = service.start_rectifying(session, clock=clock, user=head, order_id=order.id,
                                     expected_version=order.version)
    assert order.state == "rectifying" and order.due_on == dt.date(2026, 11, 30)


def test_unsatisfied_callback_reopens_once_then_escalates_and_the_supervisor_closes(
        session: Session, clock: FixedClock, head: User, supervisor: User) -> None:
    admin = staff(session, "admin")
    order = _complete(session, clock, head, _rectifying(session, clock, head))
    clock.advance(dt.timedelta(days=1))
    order = _callback(session, clock, admin, order, "unsatisfied")
    assert order.state == "rectifying" and order.reopen_count == 1
    assert order.due_on == dt.date(2026, 12, 1)  # counted again from the reopening (Tuesday)
    order = _complete(session, clock, head, order)
    order = _callback(session, clock, supervisor, order, "unsatisfied")
    assert order.state == "escalated" and order.escalated and order.reopen_count == 1
    order = service.close_escalated(session, clock=clock, user=supervisor, order_id=order.id,
                                    expected_version=order.version, note="约谈部门负责人，督办结束")
    assert order.state == "closed" and order.closed_on == dt.date(2026, 11, 24)


def test_unrectifiable_review(session: Session, clock: FixedClock, head: User, supervisor: User) -> None:
    order = _rectifying(session, clock, head)
    order = service.request_unrectifiable(session, clock=clock, user=head, order_id=order.id,
                                          expected_version=order.version, reason="系统由省级部门建设，县级无法修改")
    assert order.state == "unrectifiable_review"
    order = service.decide_unrectifiable(session, clock=clock, user=supervisor, order_id=order.id,
                                         expected_version=order.version, approve=False, note="可先调整窗口流程")
    assert order.state == "rectifying"
    order = service.request_unrectifiable(session, clock=clock, user=head, order_id=order.id,
                                          expected_version=order.version, reason="确实无法整改")
    order = service.decide_unrectifiable(session, clock=clock, user=supervisor, order_id=order.id,
                                         expected_version=order.version, approve=True, note="同意")
    assert order.state == "unrectifiable" and order.outcome == "unrectifiable"
    order = _callback(session, clock, supervisor, order, "basic")
    assert order.state == "closed" and order.outcome == "unrectifiable"


def test_extension_moves_the_due_date_by_working_days(session: Session, clock: FixedClock, head: User,
                                                      supervisor: User) -> None:
    order = _rectifying(session, clock, head)
    with pytest.raises(ValidationFailed) as exc:
        service.extend(session, clock=clock, user=supervisor, order_id=order.id, expected_version=order.version,
                       days=11, reason="", rules=service.RectificationRules(max_extension_days=10))
    assert {p.field for p in exc.value.problems} == {"days", "reason"}
    with pytest.raises(PermissionDenied):
        service.extend(session, clock=clock, user=head, order_id=order.id, expected_version=order.version,
                       days=3, reason="需协调")
    order = service.extend(session, clock=clock, user=supervisor, order_id=order.id,
                           expected_version=order.version, days=3, reason="需协调省级部门")
    assert order.due_on == dt.date(2026, 12, 3) and order.extension_days == 3


def test_overdue_sweep_flags_and_unflags(session: Session, clock: FixedClock, head: User,
                                         supervisor: User) -> None:
    order = _rectifying(session, clock, head)
    assert service.sweep_overdue(session, clock=clock) == 0
    clock.set(dt.datetime(2026, 12, 1, 9, 0, tzinfo=CHINA_TZ))  # past Monday 30th
    assert service.sweep_overdue(session, clock=clock) >= 1
    session.refresh(order)
    assert order.overdue is True
    assert service.sweep_overdue(session, clock=clock) == 0  # safe to run twice
    order = service.extend(session, clock=clock, user=supervisor, order_id=order.id,
                           expected_version=order.version, days=2, reason="延期")
    assert order.overdue is False and order.due_on == dt.date(2026, 12, 2)
    order.overdue = True  # as if flagged before the extension
    session.flush()
    assert service.sweep_overdue(session, clock=clock) >= 1
    session.refresh(order)
    assert order.overdue is False
    assert service.overdue_job(session, clock=clock) == {"changed": 0}


def test_stale_version_is_refused(session: Session, clock: FixedClock, head: User) -> None:
    order = open_fake(session, clock)
    with pytest.raises(Conflict) as exc:
        service.verify(session, clock=clock, user=head, order_id=order.id, expected_version=order.version + 1,
                       note="核实")
    assert exc.value.code == "stale_version"


def test_illegal_move_is_refused(session: Session, clock: FixedClock, head: User) -> None:
    order = open_fake(session, clock)
    with pytest.raises(Conflict) as exc:
        _complete(session, clock, head, order)
    assert exc.value.code == "illegal_order_transition"


def test_missing_fields_answer_422_in_chinese(session: Session, clock: FixedClock, head: User) -> None:
    order = open_fake(session, clock)
    with pytest.raises(ValidationFailed) as exc:
        service.verify(session, clock=clock, user=head, order_id=order.id, expected_version=1, note="  ")
    assert [(p.field, p.message) for p in exc.value.problems] == [("note", "请填写核实情况")]
    service.verify(session, clock=clock, user=head, order_id=order.id, expected_version=1, note="核实", appeal=True)
    with pytest.raises(ValidationFailed) as exc:
        service.appeal(session, clock=clock, user=head, order_id=order.id, expected_version=2, reason="",
                       evidence="")
    assert [(p.field, p.message) for p in exc.value.problems] == [("reason", "请填写申诉理由"),
                                                                  ("evidence", "请填写申诉证据")]


def test_another_departments_head_and_a_clerk_are_refused(session: Session, clock: FixedClock,
                                                          supervisor: User) -> None:
    order = open_fake(session, clock)
    for name in ("head_wjw", "clerk"):
        with pytest.raises(PermissionDenied):
            service.verify(session, clock=clock, user=staff(session, name), order_id=order.id,
                           expected_version=order.version, note="核实")
    with pytest.raises(PermissionDenied):  # the supervisor decides, never works an order
        service.verify(session, clock=clock, user=supervisor, order_id=order.id, expected_version=order.version,
                       note="核实")
    with pytest.raises(PermissionDenied):
        service.list_orders(session, viewer=staff(session, "clerk"))
    assert order not in service.list_orders(session, viewer=staff(session, "head_wjw"))
    assert order in service.list_orders(session, viewer=staff(session, "head_scjg"), state="pending")
    assert order in service.list_orders(session, viewer=supervisor, source_kind="experience", overdue=False)


def test_counts_per_department(session: Session, clock: FixedClock, head: User, supervisor: User) -> None:
    done = _callback(session, clock, supervisor, _complete(session, clock, head, _rectifying(session, clock, head)),
                     "satisfied")
    open_fake(session, clock)
    open_fake(session, clock, code="WJW")
    day = dt.date(2026, 11, 23)
    rows = {r.department_id: r for r in service.counts(session, viewer=supervisor, date_from=day, date_to=day)}
    scjg = rows[department(session).id]
    assert (scjg.opened, scjg.closed, scjg.on_time, scjg.voided, scjg.unrectifiable) == (2, 1, 1, 0, 0)
    assert done.department_id == scjg.department_id and department(session, "WJW").id in rows
    own = service.counts(session, viewer=head, date_from=day, date_to=day)
    assert [r.department_id for r in own] == [scjg.department_id]
