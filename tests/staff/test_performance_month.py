"""A month of window work ranks clerks, windows and departments with hand-checked scores; a clerk under the minimum
sample is explained but not ranked; the monthly job stores the month once and sends each department head its
report; signing into and out of a window records the shifts attendance is measured from."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests import staff_month as m

from onewindow import performance_month
from onewindow.config import Settings
from onewindow.core.audit import Actor
from onewindow.core.clock import CHINA_TZ, FixedClock
from onewindow.notifications.models import OutboxMessage
from onewindow.queue import service as queue
from onewindow.queue.models import StaffQualification
from onewindow.staff import performance_service as store
from onewindow.staff.models import PerformanceScore, StaffShift, User

JUNE = dt.date(2026, 6, 1)
SETTINGS = Settings(secret_key="test-performance-secret")  # weights 25/15/25/15/10/10, minimum sample 20


@pytest.fixture
def july(clock: FixedClock) -> FixedClock:
    clock.set(dt.datetime(2026, 7, 1, 9, 0, tzinfo=CHINA_TZ))
    return clock


def _scores(session: Session, kind: str) -> dict[str, PerformanceScore]:
    return {s.subject_name: s for s in session.scalars(select(PerformanceScore).where(
        PerformanceScore.month == JUNE, PerformanceScore.subject_kind == kind))}


def test_a_month_ranks_clerks_windows_and_the_department_as_computed_by_hand(session: Session,
                                                                              july: FixedClock) -> None:
    m.june(session, july)
    record = performance_month.compute_month(session, clock=july, month=JUNE, settings=SETTINGS)
    assert (record.clerks, record.ranked) == (3, 2)
    clerks = _scores(session, "clerk")
    jia, yi, bing = clerks["甲"], clerks["乙"], clerks["丙"]
    # 甲: volume 40/40 = 100, efficiency 100, satisfaction 9/10 = 90, complaints 100 − 20 = 80, overdue 100 − 10 = 90,
    # attendance 100: (2500 + 1500 + 2250 + 1200 + 900 + 1000) / 100
    assert {p["key"]: p["points"] for p in jia.parts} == {
        "volume": 100, "efficiency": 100, "satisfaction": 90, "complaints": 80, "overdue": 90, "attendance": 100}
    assert (jia.score, jia.rank, jia.award) == (93.5, 1, "star")
    # 乙: volume 30/40 = 75, efficiency 6/8 = 75, no ratings 100, complaints 100, overdue 100 (done on the due day),
    # attendance 3 of 7 opening hours = 42.86: (1875 + 1125 + 2500 + 1500 + 1000 + 428.6) / 100
    assert {p["key"]: p["points"] for p in yi.parts}["attendance"] == 42.86
    assert (yi.score, yi.rank, yi.award) == (84.29, 2, "star")
    assert yi.facts["attendance"]["late_days"] == 0 and yi.facts["attendance"]["early_days"] == len(
        m.working_days(session, JUNE))
    # 丙: 5 tickets, under the minimum sample of 20: scored and explained, never ranked nor starred
    assert (bing.ranked, bing.rank, bing.award) == (False, None, None)
    assert "少于 20 件" in bing.note
    windows = _scores(session, "window")
    w2 = next(s for name, s in windows.items() if name.endswith("2号窗口"))
    # window 2: 甲's figures without the overdue part (weights 90): (2500 + 1500 + 2250 + 1200 + 1000) / 90
    assert (w2.score, w2.rank, w2.award) == (round(8450 / 90, 2), 1, "red_flag")
    (dept,) = _scores(session, "department").values()
    # the department: 75 tickets, 510 min against a norm of 450 (88.24), 9/10 satisfied, 1 complaint, 1 overdue,
    # attendance (420 + 180 + 420) / 1260 = 80.95: (2500 + 1323.6 + 2250 + 1200 + 900 + 809.5) / 100
    assert dept.score == 89.83 and dept.rank == 1


def test_a_recomputation_replaces_the_month(session: Session, july: FixedClock) -> None:
    m.june(session, july)
    performance_month.compute_month(session, clock=july, month=JUNE, settings=SETTINGS)
    strict = Settings(secret_key="test-performance-secret", performance_min_sample=35)
    record = performance_month.compute_month(session, clock=july, month=JUNE, settings=strict)
    assert record.ranked == 1 and record.rules["min_sample"] == 35
    assert [s.subject_name for s in _scores(session, "clerk").values() if s.ranked] == ["甲"]
    assert len(_scores(session, "clerk")) == 3
    by_department = Settings(secret_key="test-performance-secret", performance_red_flag_to="department")
    performance_month.compute_month(session, clock=july, month=JUNE, settings=by_department)
    assert [s.award for s in _scores(session, "department").values()] == ["red_flag"]
    assert all(s.award is None for s in _scores(session, "window").values())


def test_the_monthly_job_ranks_last_month_once_and_reports_to_the_department_head(session: Session,
                                                                                     july: FixedClock) -> None:
    m.june(session, july)
    counts = performance_month.monthly_job(session, clock=july)
    assert counts["computed"] == 1 and counts["reports"] >= 1
    messages = list(session.scalars(select(OutboxMessage).where(
        OutboxMessage.topic == performance_month.REPORT_TOPIC)))
    head = session.scalars(select(User).where(User.username == "head_zwfw")).one()
    (mine,) = [x for x in messages if x.recipient_user_id == head.id]
    assert "2026年6月考勤与绩效月报" in mine.subject and "部门得分 89.83" in mine.body
    assert mine.payload["month"] == "2026-06"
    assert performance_month.monthly_job(session, clock=july) == {"computed": 0, "ranked": 2, "reports": 0}
    record = store.get_month(session, JUNE)
    assert record is not None and record.reported_at is not None


def test_signing_into_and_out_of_a_window_records_a_shift(session: Session, clock: FixedClock) -> None:
    hall = m.hall(session)
    clerk = m.clerk(session, "丁", department_id=m.department(session, "ZWFW").id, hall_id=hall.id, now=clock.now())
    target = m.window(session, hall.id, 6)
    for code in target.home or target.skills:
        session.add(StaffQualification(user_id=clerk.id, category_id=m.category(session, code).id,
                                       granted_at=clock.now()))
    session.flush()
    actor = Actor(clerk.id, clerk.username)
    queue.sign_in_window(session, clock=clock, actor=actor, window_id=target.id)
    clock.advance(dt.timedelta(hours=2))
    queue.sign_out_window(session, clock=clock, actor=actor, window_id=target.id)
    shift = session.scalars(select(StaffShift).where(StaffShift.user_id == clerk.id)
                            .order_by(StaffShift.id.desc())).first()
    assert shift is not None and shift.window_id == target.id
    assert shift.ended_at is not None and shift.ended_at - shift.started_at == dt.timedelta(hours=2)


def test_a_month_ranked_while_running_is_ranked_again_once_it_has_ended(session: Session, july: FixedClock) -> None:
    m.june(session, july)
    july.set(dt.datetime(2026, 6, 2, 8, 0, tzinfo=CHINA_TZ))  # June so far: one working day behind us
    performance_month.compute_month(session, clock=july, month=JUNE, settings=SETTINGS)
    assert _scores(session, "clerk")["甲"].facts["attendance"]["working_days"] == 1
    july.set(dt.datetime(2026, 7, 1, 0, 30, tzinfo=CHINA_TZ))
    counts = performance_month.monthly_job(session, clock=july)
    assert counts["computed"] == 1 and counts["reports"] >= 1
    days = len(m.working_days(session, JUNE))
    assert _scores(session, "clerk")["甲"].facts["attendance"]["working_days"] == days
