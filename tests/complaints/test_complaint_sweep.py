"""The 催办 sweep is set-based: it urges every open order past its limit once, again only after the interval, and
never an answered, closed or merged one; each urge leaves one timeline event."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from onewindow.complaints import sweep
from onewindow.complaints.models import Complaint, ComplaintEvent
from onewindow.complaints.rules import Limits
from onewindow.core.clock import CHINA_TZ, FixedClock

NOW = dt.datetime(2026, 12, 1, 9, tzinfo=CHINA_TZ)
STATES = ["accepted", "dispatched", "returned", "handling", "replied", "closed", "merged"]


def _bulk(session: Session, n: int) -> None:
    rows = [dict(number=f"YS20261101{i:04d}", tracking_code=f"SWEEP{i:05d}", channel="hotline",
                 external_number=f"SWEEP-{i}", category="help", urgent=False, subject="路灯不亮", content="-",
                 complainant_name="", complainant_phone="", anonymous=True, state=STATES[i % len(STATES)], version=1,
                 accepted_at=NOW - dt.timedelta(days=20), accepted_on=dt.date(2026, 11, 11), limit_days=10,
                 due_on=dt.date(2026, 11, 25),
                 # even rows are past their limit, odd ones not yet
                 due_at=NOW - dt.timedelta(days=1) if i % 2 == 0 else NOW + dt.timedelta(days=1),
                 due_provisional=False, overdue=False, reply="", callback_note="", reopen_count=0, return_count=0,
                 urge_count=0, updated_at=NOW) for i in range(n)]
    session.execute(insert(Complaint), rows)


def test_the_sweep_urges_open_overdue_orders_once_per_interval(session: Session) -> None:
    _bulk(session, 280)
    clock = FixedClock(NOW)
    limits = Limits(urge_every_hours=24)
    expected = sum(1 for i in range(280) if i % 2 == 0 and STATES[i % len(STATES)] in STATES[:4])
    others = session.scalar(select(func.count()).select_from(Complaint).where(  # the demo's own overdue orders
        Complaint.state.in_(STATES[:4]), Complaint.due_at < NOW)) - expected
    assert sweep.sweep_overdue(session, clock=clock, limits_=limits) == expected + others
    clock.advance(dt.timedelta(hours=23))
    assert sweep.sweep_overdue(session, clock=clock, limits_=limits) == 0
    clock.advance(dt.timedelta(hours=1))
    assert sweep.sweep_overdue(session, clock=clock, limits_=limits) == expected + others
    urged = session.execute(select(Complaint.state, func.count(), func.min(Complaint.urge_count))
                            .where(Complaint.tracking_code.like("SWEEP%"), Complaint.overdue.is_(True))
                            .group_by(Complaint.state)).all()
    assert {s for s, _n, _u in urged} == set(STATES[:4]) and all(u == 2 for _s, _n, u in urged)
    events = session.scalar(select(func.count()).select_from(ComplaintEvent).join(Complaint)
                            .where(ComplaintEvent.kind == "urged", Complaint.tracking_code.like("SWEEP%")))
    assert events == 2 * expected


def test_a_missed_supervision_deadline_is_urged_without_flagging_the_limit(session: Session) -> None:
    _bulk(session, 2)
    within = session.scalars(select(Complaint).where(Complaint.tracking_code == "SWEEP00001")).one()
    within.supervised_due_on = dt.date(2026, 11, 30)  # 督办 deadline yesterday; the limit is tomorrow
    session.flush()
    sweep.sweep_overdue(session, clock=FixedClock(NOW))
    session.refresh(within)
    assert (within.urge_count, within.overdue) == (1, False)
