"""The performance benchmark's generator writes a month the ranking reads (small sizes here; the county month is
``onewindow bench performance --json``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onewindow import performance_month
from onewindow.config import Settings
from onewindow.core.clock import CHINA_TZ, FixedClock
from onewindow.staff.models import PerformanceScore
from onewindow.staff.performance_bench import generate_month

MAY = dt.date(2026, 5, 1)


def test_a_generated_month_ranks_every_clerk_window_and_department(session: Session, clock: FixedClock) -> None:
    clock.set(dt.datetime(2026, 6, 1, 9, tzinfo=CHINA_TZ))
    wrote = generate_month(session, clock=clock, month=MAY, staff=12, windows=4, tickets_per_day=40, seed=3)
    assert wrote["tickets"] == 40 * wrote["shifts"] // 4
    record = performance_month.compute_month(session, clock=clock, month=MAY,
                                             settings=Settings(secret_key="bench-test-secret"))
    assert record.clerks == 12 and record.ranked >= 1
    kinds = dict(session.execute(select(PerformanceScore.subject_kind, func.count()).where(
        PerformanceScore.month == MAY).group_by(PerformanceScore.subject_kind)).all())
    assert kinds["window"] == 4 and kinds["department"] >= 1
    awards = set(session.scalars(select(PerformanceScore.award).where(PerformanceScore.month == MAY,
                                                                      PerformanceScore.award.is_not(None))))
    assert awards == {"star", "red_flag"}
