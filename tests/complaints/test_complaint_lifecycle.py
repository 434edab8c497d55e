"""A 投诉 from 受理 to 办结: a wrong assignment, 退单, 改派, an overdue 催办, 答复, an unsatisfied 回访, 重办 and
办结, with the limit hand-computed across National Day 2026 and never restarted."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow.complaints import service, sweep
from onewindow.complaints.models import ComplaintAssignment
from onewindow.core.audit import AuditEntry
from onewindow.core.clock import CHINA_TZ, FixedClock
from onewindow.notifications.models import OutboxMessage
from tests.complaints.support import PHONE, department, file_at_window
from tests.factories import staff


def china(month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=CHINA_TZ)


def test_a_complaint_through_return_redispatch_urging_reopening_and_closing(session: Session) -> None:
    clock = FixedClock(china(9, 28))  # Monday 28 September 2026
    admin, supervisor = staff(session, "admin"), staff(session, "supervisor")
    head_gaj, head_scjg, head_wjw = staff(session, "head_gaj"), staff(session, "head_scjg"), staff(session, "head_wjw")
    gaj, scjg, wjw = department(session, "GAJ"), department(session, "SCJG"), department(session, "WJW")

    c = file_at_window(session, clock)
    # 15 working days from the day after 受理: 29, 30 Sep; 1–7 Oct National Day; 8, 9 Oct; Sat 10 Oct (make-up
    # working day); 12–16 Oct; 19–23 Oct → Friday 23 October, to the end of the day
    due_at = dt.datetime(2026, 10, 23, 23, 59, 59, tzinfo=CHINA_TZ)
    assert (c.state, c.due_on, c.due_at, c.limit_days) == ("accepted", dt.date(2026, 10, 23), due_at, 15)
    assert c.number.startswith("YS20260928") and len(c.tracking_code) == 10

    # 派单 to the wrong department, which returns it with a reason before signing
    clock.advance(dt.timedelta(minutes=20))
    c = service.dispatch(session, clock=clock, user=admin, complaint_id=c.id, expected_version=c.version,
                         lead_department_id=gaj.id)
    assert c.state == "dispatched" and c.lead_department_id == gaj.id
    clock.advance(dt.timedelta(hours=1))
    c = service.return_order(session, clock=clock, user=head_gaj, complaint_id=c.id, expected_version=c.version,
                             reason="营业执照属市场监管局职责，非公安局")
    assert (c.state, c.return_count) == ("returned", 1)

    # 改派: 市场监管 leads, 卫健委 assists; both sign; the clock is not restarted
    c = service.dispatch(session, clock=clock, user=admin, complaint_id=c.id, expected_version=c.version,
                         lead_department_id=scjg.id, assist_department_ids=[wjw.id], note="改派市场监管局主办")
    assert c.due_at == due_at
    active = session.scalars(select(ComplaintAssignment).where(ComplaintAssignment.complaint_id == c.id,
                                                               ComplaintAssignment.active.is_(True))).all()
    assert sorted((a.department_id, a.role) for a in active) == sorted([(scjg.id, "lead"), (wjw.id, "assist")])
    assert all(a.sign_due_at == china(9, 28, 11, 20) + dt.timedelta(hours=24) for a in active)
    clock.advance(dt.timedelta(hours=2))
    c = service.sign(session, clock=clock, user=head_scjg, complaint_id=c.id, expected_version=c.version)
    assert c.state == "handling"
    c = service.sign(session, clock=clock, user=head_wjw, complaint_id=c.id, expected_version=c.version)
    assert c.state == "handling"

    # on the due day nothing is urged; the morning after, the sweep urges it once (and not twice the same day)
    clock.set(china(10, 23, 23, 59))
    assert sweep.sweep_overdue(session, clock=clock) == 0
    clock.set(china(10, 24, 9))
    assert sweep.sweep_overdue(session, clock=clock) == 1
    assert sweep.sweep_overdue(session, clock=clock) == 0
    session.refresh(c)
    assert (c.overdue, c.urge_count, c.last_urged_at) == (True, 1, china(10, 24, 9))

    # 答复 (late), an unsatisfied 回访 reopens it (重办), the second answer satisfies and the order is archived
    clock.set(china(10, 26, 15))
    c = service.reply(session, clock=clock, user=head_scjg, complaint_id=c.id, expected_version=c.version,
                      text="已约谈窗口负责人，统一一次性告知材料清单。")
    assert (c.state, c.overdue) == ("replied", True)
    c = service.record_callback(session, clock=clock, user=supervisor, complaint_id=c.id,
                                expected_version=c.version, verdict="unsatisfied", note="材料仍未退还")
    assert (c.state, c.reopen_count, c.due_at) == ("handling", 1, due_at)
    clock.advance(dt.timedelta(days=1))
    c = service.reply(session, clock=clock, user=head_scjg, complaint_id=c.id, expected_version=c.version,
                      text="材料原件已退还，营业执照变更已办结。")
    c = service.record_callback(session, clock=clock, user=supervisor, complaint_id=c.id,
                                expected_version=c.version, verdict="satisfied")
    assert (c.state, c.solved, c.closed_on, c.callback_verdict) == ("closed", True, dt.date(2026, 10, 27), "satisfied")

    kinds = [e.kind for e in service.timeline(session, c)]
    assert kinds == ["accepted", "dispatched", "returned", "redispatched", "signed", "signed", "urged", "replied",
                     "reopened", "replied", "closed"]
    audited = session.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == c.number)).all()
    assert len(audited) == 10  # every step but the sweep's (audited once per run)
    sms = session.scalars(select(OutboxMessage.topic).where(OutboxMessage.recipient == PHONE)
                          .order_by(OutboxMessage.id)).all()
    assert sms == ["complaint.accepted", "complaint.replied", "complaint.callback", "complaint.replied",
                   "complaint.callback"]
    tracked = service.track(session, c.tracking_code.lower())
    assert tracked is not None and tracked.department == scjg.name and "材料原件已退还" in tracked.reply
    assert session.scalar(select(func.count()).select_from(AuditEntry)
                          .where(AuditEntry.action == "complaints.urged")) == 1
